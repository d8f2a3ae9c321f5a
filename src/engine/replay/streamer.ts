/**
 * The replay of one finished run (docs/replay.md): a state machine over a RunSeries that turns
 * `ctrl` commands into `ctrl`/`frame`/`hb`/`end`/`err` messages.
 *
 * - The cursor is the last bar the view has been sent. The first frame (and every frame after
 *   a seek or a step back) is a reset: the history up to the cursor, decimated, every fill up
 *   to it, and the orders resting at it. Later frames carry what happened since the previous
 *   frame: bars (merged into ≤ MAX_BARS_PER_FRAME buckets when there are more), equity, and
 *   every fill and order event exactly once, in order.
 * - Frames are at least MIN_FRAME_INTERVAL_MS apart on the injected clock (≤ 30/s): commands
 *   that arrive faster are coalesced into the next frame. A frame also stops early once it
 *   holds `maxEventsPerFrame` events (at least one bar always advances), so a busy strategy at
 *   `max` speed never produces an unbounded message.
 * - Playing advances speed × elapsed bars per tick (fractions carried); `max` advances
 *   `maxBarsPerTick` per frame.
 * - Any invalid message gets an `err` reply; the stream goes on. Nothing here throws to the caller.
 */
import type { Clock } from './clock.ts';
import { ohlcBuckets, m4Indices, pickNum, bucketSize } from './decimate.ts';
import { accountAt, eventCount, fillsBetween, firstAfter, orderEventsBetween, restingOrdersAt } from './events.ts';
import {
  emptyFills,
  emptyOrders,
  HEARTBEAT_MS,
  MAX_BARS_PER_FRAME,
  MIN_FRAME_INTERVAL_MS,
  parseCtrl,
  type CtrlCommand,
  type FrameBars,
  type FrameEquity,
  type FrameMsg,
  type ReplayState,
  type SeekTarget,
  type ServerMsg,
  type Speed,
} from './protocol.ts';
import { barAtOrAfter, type RunSeries } from './runSeries.ts';

/** Bars before the cursor that a reset frame sends one per bucket. */
export const FINE_TAIL = 600;

export interface ReplayOptions {
  clock: Clock;
  /** Bars per second or 'max' (default 60). */
  speed?: Speed;
  /** Start cursor (bar index or time; default 0) and last bar of the replay (default the run's last). */
  from?: SeekTarget;
  to?: SeekTarget;
  /** Start playing at once (default false: paused at `from`). */
  play?: boolean;
  /** Buckets of the history in reset frames (the view's width in pixels; default 1000). */
  historyPoints?: number;
  displayTz?: string;
  /** Bars a frame advances at `max` (default 8192). */
  maxBarsPerTick?: number;
  /** Fill + order events after which a frame stops advancing (default 4096). */
  maxEventsPerFrame?: number;
}

const NS_DIGITS = /^\d{1,20}$/;

/** A seek target → bar index (the bar at or after a time); throws RangeError naming the value. */
export function resolveTarget(s: RunSeries, t: SeekTarget, what = 'seek'): number {
  if (typeof t === 'number') {
    if (t >= s.length) throw new RangeError(`${what}: bar ${t} is past the last bar ${s.length - 1}`);
    return t;
  }
  let ms: number;
  if (NS_DIGITS.test(t)) ms = Number(BigInt(t) / 1_000_000n);
  else {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
      throw new RangeError(`${what}: '${t}' is neither a bar index, an ISO-8601 UTC time (2024-03-04T14:30:00Z) nor nanoseconds`);
    }
    ms = Date.parse(t);
  }
  if (!Number.isFinite(ms)) throw new RangeError(`${what}: '${t}' is not a valid time`);
  const i = barAtOrAfter(s.tsMs, ms);
  if (i >= s.length) throw new RangeError(`${what}: ${t} is after the last bar (${new Date(s.tsMs[s.length - 1]!).toISOString()})`);
  return i;
}

export class ReplayStream {
  readonly series: RunSeries;
  #send: (m: ServerMsg) => void;
  #clock: Clock;
  #speed: Speed;
  #state: ReplayState = 'paused';
  #from: number;
  #to: number;
  #historyPoints: number;
  #maxBarsPerTick: number;
  #maxEvents: number;
  #displayTz: string;
  #seq = 0;
  /** Last bar sent to the view; −1 before the first frame. */
  #cursor = -1;
  /** Where the view should be: frames move the cursor toward it. */
  #target = 0;
  #needReset = true;
  #replyPending = false;
  #lastFrameAt = -Infinity;
  #lastTickAt = 0;
  #carry = 0;
  #flushTimer: unknown = null;
  #tickTimer: unknown = null;
  #hbTimer: unknown = null;
  #closed = false;
  #playOnStart: boolean;
  #settledWaiters: (() => void)[] = [];

  constructor(series: RunSeries, send: (m: ServerMsg) => void, opts: ReplayOptions) {
    this.series = series;
    this.#send = send;
    this.#clock = opts.clock;
    this.#speed = opts.speed ?? 60;
    this.#historyPoints = Math.max(10, Math.min(20_000, Math.floor(opts.historyPoints ?? 1000)));
    this.#maxBarsPerTick = Math.max(1, Math.floor(opts.maxBarsPerTick ?? 8192));
    this.#maxEvents = Math.max(1, Math.floor(opts.maxEventsPerFrame ?? 4096));
    this.#displayTz = opts.displayTz ?? 'America/New_York';
    if (series.length === 0) throw new RangeError(`run ${series.run.run_id} has no bars to replay`);
    this.#from = opts.from === undefined ? 0 : resolveTarget(series, opts.from, 'from');
    this.#to = opts.to === undefined ? series.length - 1 : resolveTarget(series, opts.to, 'to');
    if (this.#to < this.#from) throw new RangeError(`to (bar ${this.#to}) is before from (bar ${this.#from})`);
    this.#target = this.#from;
    this.#playOnStart = opts.play ?? false;
  }

  get cursor(): number {
    return this.#cursor;
  }
  get state(): ReplayState {
    return this.#state;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends meta and the first (reset) frame, starts the heartbeat and, if asked, plays. */
  start(): void {
    const s = this.series;
    this.#emit({
      type: 'meta',
      run_id: s.run.run_id,
      symbol: s.symbol,
      bar_count: s.length,
      start: new Date(s.tsMs[0]!).toISOString(),
      end: new Date(s.tsMs[s.length - 1]!).toISOString(),
      display_tz: this.#displayTz,
      metrics: s.run.metrics ?? {},
      from: this.#from,
      to: this.#to,
      fill_count: s.fills.length,
      order_count: s.orders.length,
      initial_cash: s.initialCash,
      max_bars_per_frame: MAX_BARS_PER_FRAME,
    });
    this.#replyPending = true;
    this.#flush();
    this.#scheduleHeartbeat();
    if (this.#playOnStart) this.#apply({ type: 'ctrl', cmd: 'play' });
  }

  /** A message from the view: validated; invalid ones get an `err`, never an exception. */
  control(raw: unknown): void {
    if (this.#closed) return;
    const r = parseCtrl(raw);
    if (!r.ok) {
      this.#emit(r.err);
      return;
    }
    try {
      this.#apply(r.cmd);
    } catch (err) {
      this.#emit({ type: 'err', code: err instanceof RangeError ? 'bad_value' : 'internal', message: (err as Error).message });
    }
  }

  /** Resolves once no frame is waiting for its turn (commands already sent have been answered). */
  settled(): Promise<void> {
    if (this.#flushTimer === null || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  /** Ends the stream (`end` with reason stopped unless it already ended) and clears every timer. */
  close(): void {
    if (this.#closed) return;
    this.#stopTimers();
    this.#emit({ type: 'end', cursor: this.#cursor, reason: 'stopped' });
    this.#closed = true;
  }

  /** Stops timers without a message (the view is gone). */
  dispose(): void {
    this.#stopTimers();
    this.#closed = true;
  }

  #stopTimers(): void {
    for (const t of [this.#flushTimer, this.#tickTimer, this.#hbTimer]) if (t !== null) this.#clock.clearTimeout(t);
    this.#flushTimer = this.#tickTimer = this.#hbTimer = null;
    for (const w of this.#settledWaiters.splice(0)) w();
  }

  #emit(m: ServerMsg): void {
    if (!this.#closed) this.#send(m);
  }

  #apply(cmd: CtrlCommand): void {
    switch (cmd.cmd) {
      case 'play':
        if (this.#target >= this.#to) {
          // At the end: play again from the start, as a bar-replay tool does.
          this.#seek(this.#from);
        }
        this.#state = 'playing';
        this.#lastTickAt = this.#clock.now();
        this.#carry = 0;
        this.#scheduleTick();
        break;
      case 'pause':
        if (this.#state === 'playing') this.#state = 'paused';
        this.#stopTick();
        break;
      case 'speed':
        this.#speed = cmd.value;
        if (this.#state === 'playing') {
          this.#stopTick();
          this.#lastTickAt = this.#clock.now();
          this.#carry = 0;
          this.#scheduleTick();
        }
        break;
      case 'step': {
        this.#pauseForManualMove();
        const n = cmd.value ?? 1;
        const to = Math.max(this.#from, Math.min(this.#to, this.#target + n));
        if (to < this.#target) this.#seek(to);
        else this.#target = to;
        break;
      }
      case 'seek': {
        const bar = resolveTarget(this.series, cmd.value); // an invalid target changes nothing
        this.#pauseForManualMove();
        this.#seek(Math.max(this.#from, Math.min(this.#to, bar)));
        break;
      }
      case 'next-fill': {
        this.#pauseForManualMove();
        const f = this.series.fills;
        const k = firstAfter(f.bar, f.length, this.#target);
        if (k < f.length && f.bar[k]! <= this.#to) this.#target = f.bar[k]!;
        break;
      }
      case 'prev-fill': {
        this.#pauseForManualMove();
        const f = this.series.fills;
        // the last fill strictly before the cursor's bar
        const k = firstAfter(f.bar, f.length, this.#target - 1) - 1;
        if (k >= 0 && f.bar[k]! >= this.#from) this.#seek(f.bar[k]!);
        break;
      }
    }
    this.#replyPending = true;
    this.#requestFlush();
  }

  #pauseForManualMove(): void {
    if (this.#state !== 'paused') this.#state = 'paused';
    this.#stopTick();
  }

  #seek(bar: number): void {
    this.#target = bar;
    this.#needReset = true;
  }

  // ---- pacing ---------------------------------------------------------------------------

  #interval(): number {
    return this.#speed === 'max' ? MIN_FRAME_INTERVAL_MS : Math.max(MIN_FRAME_INTERVAL_MS, 1000 / this.#speed);
  }

  #scheduleTick(): void {
    if (this.#tickTimer !== null || this.#closed) return;
    const due = Math.max(this.#lastTickAt + this.#interval(), this.#lastFrameAt + MIN_FRAME_INTERVAL_MS);
    this.#tickTimer = this.#clock.setTimeout(() => {
      this.#tickTimer = null;
      this.#tick();
    }, due - this.#clock.now());
  }

  #stopTick(): void {
    if (this.#tickTimer !== null) this.#clock.clearTimeout(this.#tickTimer);
    this.#tickTimer = null;
  }

  #tick(): void {
    if (this.#state !== 'playing' || this.#closed) return;
    const now = this.#clock.now();
    if (this.#speed === 'max') this.#carry = this.#maxBarsPerTick;
    else this.#carry = Math.min(this.#carry + ((now - this.#lastTickAt) * this.#speed) / 1000, Math.max(1, this.#speed));
    this.#lastTickAt = now;
    const k = Math.floor(this.#carry);
    if (k >= 1) {
      this.#carry -= k;
      this.#target = Math.min(this.#to, this.#target + k);
    }
    this.#flush();
    if (this.#state === 'playing') this.#scheduleTick();
  }

  #scheduleHeartbeat(): void {
    this.#hbTimer = this.#clock.setTimeout(() => {
      this.#hbTimer = null;
      if (this.#closed) return;
      this.#emit({ type: 'hb', cursor: this.#cursor, state: this.#state });
      this.#scheduleHeartbeat();
    }, HEARTBEAT_MS);
  }

  #requestFlush(): void {
    if (this.#flushTimer !== null || this.#closed) return;
    const wait = this.#lastFrameAt + MIN_FRAME_INTERVAL_MS - this.#clock.now();
    const needsFrame = this.#needReset || this.#target !== this.#cursor;
    if (!needsFrame || wait <= 0) {
      this.#flush();
      return;
    }
    this.#flushTimer = this.#clock.setTimeout(() => {
      this.#flushTimer = null;
      this.#flush();
      if (this.#flushTimer === null) for (const w of this.#settledWaiters.splice(0)) w();
    }, wait);
  }

  /** Sends the next frame (if the cursor must move), then the state if anything asked for it. */
  #flush(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const needsFrame = this.#needReset || this.#target !== this.#cursor;
    if (needsFrame && now < this.#lastFrameAt + MIN_FRAME_INTERVAL_MS) {
      this.#requestFlush();
      return;
    }
    let ended = false;
    if (needsFrame) {
      this.#lastFrameAt = now;
      if (this.#needReset) this.#emit(this.#resetFrame(this.#target));
      else this.#emit(this.#forwardFrame(this.#target));
      this.#needReset = false;
      if (this.#cursor !== this.#target)
        this.#requestFlush(); // stopped early on the event budget
      else if (this.#cursor >= this.#to && this.#state === 'playing') {
        this.#state = 'ended';
        this.#stopTick();
        this.#replyPending = true;
        ended = true;
      }
    }
    if (this.#replyPending) {
      this.#replyPending = false;
      this.#emit({ type: 'ctrl', state: this.#state, speed: this.#speed, cursor: this.#cursor });
    }
    if (ended) this.#emit({ type: 'end', cursor: this.#cursor, reason: 'complete' });
  }

  // ---- frames ---------------------------------------------------------------------------

  #equity(idx: number[]): FrameEquity {
    const s = this.series;
    return { i: idx, equity: pickNum(s.equity, idx), drawdown: pickNum(s.drawdown, idx) };
  }

  #bars(from: number, to: number, size: number, aligned: boolean): FrameBars {
    const b = ohlcBuckets(this.series, from, to, size, aligned);
    return { i: b.i, n: b.n, ts_ms: b.ts_ms, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume };
  }

  #resetFrame(c: number): FrameMsg {
    const s = this.series;
    // the recent past bar by bar (what a replay chart shows around its cursor), older history
    // merged to the view's width
    const fineFrom = Math.max(0, c + 1 - FINE_TAIL);
    const size = bucketSize(0, Math.max(1, fineFrom), this.#historyPoints);
    const bars = this.#bars(0, fineFrom, size, true);
    const fine = this.#bars(fineFrom, c + 1, 1, false);
    for (const k of Object.keys(bars) as (keyof FrameBars)[]) bars[k].push(...fine[k]);
    const idx = fineFrom > 0 ? m4Indices([s.equity, s.drawdown], 0, fineFrom, size) : [];
    for (let k = fineFrom; k <= c; k++) idx.push(k);
    this.#cursor = c;
    return {
      type: 'frame',
      seq: this.#seq++,
      cursor: c,
      reset: true,
      bars,
      equity: this.#equity(idx),
      fills: fillsBetween(s, -1, c),
      orders: restingOrdersAt(s, c),
      account: accountAt(s, c),
    };
  }

  /** Bars (cursor, target], stopping early at the event budget (always at least one bar). */
  #forwardFrame(target: number): FrameMsg {
    const s = this.series;
    const a = this.#cursor;
    let b = target;
    if (eventCount(s, a, b) > this.#maxEvents) {
      // the largest b' ≥ a + 1 whose events fit: binary search on the monotone count
      let lo = a + 1;
      let hi = b;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (eventCount(s, a, mid) <= this.#maxEvents) lo = mid;
        else hi = mid - 1;
      }
      b = lo;
    }
    const count = b - a;
    const size = count > MAX_BARS_PER_FRAME ? Math.ceil(count / MAX_BARS_PER_FRAME) : 1;
    const bars = this.#bars(a + 1, b + 1, size, false);
    const idx =
      size === 1 ? Array.from({ length: count }, (_, k) => a + 1 + k) : m4Indices([s.equity, s.drawdown], a + 1, b + 1, size, false);
    this.#cursor = b;
    return {
      type: 'frame',
      seq: this.#seq++,
      cursor: b,
      bars,
      equity: this.#equity(idx),
      fills: fillsBetween(s, a, b, emptyFills()),
      orders: orderEventsBetween(s, a, b, emptyOrders()),
      account: accountAt(s, b),
    };
  }
}
