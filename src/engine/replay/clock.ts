/**
 * Clocks for pacing replays. Nothing a test compares reads the wall clock: the streamer takes
 * a Clock, tests use ManualClock (time moves only when told), `btnb replay --speed max` uses
 * VirtualClock (time jumps to the next timer at once, so output is as fast as the consumer
 * takes it and byte-for-byte repeatable).
 */
export interface Clock {
  /** Milliseconds on this clock's own time line. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Timers kept in due order (then creation order); shared by the manual and virtual clocks. */
class TimerQueue {
  protected t = 0;
  protected seq = 0;
  protected timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    let k = this.timers.length;
    while (k > 0 && (this.timers[k - 1]!.at > timer.at || (this.timers[k - 1]!.at === timer.at && this.timers[k - 1]!.seq > timer.seq)))
      k--;
    this.timers.splice(k, 0, timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    const k = this.timers.indexOf(handle as Timer);
    if (k >= 0) this.timers.splice(k, 1);
  }

  get pending(): number {
    return this.timers.length;
  }
}

/** Time moves only in advance(): due timers run in order, each seeing its own due time. */
export class ManualClock extends TimerQueue implements Clock {
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = until;
  }
}

/**
 * Time jumps to the next due timer as soon as the previous callback returned (and `gate`,
 * e.g. stdout drained, resolved). run() resolves when no timer is left or stop() was called.
 */
export class VirtualClock extends TimerQueue implements Clock {
  #stopped = false;
  #gate: () => Promise<void>;

  constructor(gate: () => Promise<void> = async () => undefined) {
    super();
    this.#gate = gate;
  }

  stop(): void {
    this.#stopped = true;
  }

  async run(): Promise<void> {
    while (!this.#stopped) {
      const next = this.timers.shift();
      if (!next) return;
      await this.#gate();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
  }
}
