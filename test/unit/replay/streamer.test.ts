import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ManualClock } from '../../../src/engine/replay/clock.ts';
import { MAX_BARS_PER_FRAME, MIN_FRAME_INTERVAL_MS, ServerMsg, type FrameMsg } from '../../../src/engine/replay/protocol.ts';
import { ReplayStream, type ReplayOptions } from '../../../src/engine/replay/streamer.ts';
import type { RunSeries } from '../../../src/engine/replay/runSeries.ts';
import { randomSeries } from './support/randomSeries.ts';

interface Sent {
  at: number;
  msg: ServerMsg;
}

function open(s: RunSeries, opts: Partial<ReplayOptions> = {}) {
  const clock = new ManualClock();
  const sent: Sent[] = [];
  const stream = new ReplayStream(
    s,
    (m) => {
      // every message must satisfy the protocol schema (and survive JSON)
      const parsed = ServerMsg.parse(JSON.parse(JSON.stringify(m)));
      sent.push({ at: clock.now(), msg: parsed });
    },
    { clock, ...opts },
  );
  stream.start();
  const frames = () => sent.filter((x) => x.msg.type === 'frame').map((x) => x.msg as FrameMsg);
  const last = <T extends ServerMsg['type']>(type: T) =>
    [...sent].reverse().find((x) => x.msg.type === type)?.msg as Extract<ServerMsg, { type: T }> | undefined;
  return { clock, sent, stream, frames, last, ctrl: (m: object) => stream.control({ type: 'ctrl', ...m }) };
}

/** Every fill id and order event of the run in the order the engine produced them. */
function expectedEvents(s: RunSeries): { fills: number[]; orders: string[] } {
  const ev: { bar: number; rank: number; seq: number; key: string }[] = [];
  for (let k = 0; k < s.fills.length; k++) ev.push({ bar: s.fills.bar[k]!, rank: 0, seq: k, key: `filled:${s.fills.orderId[k]}` });
  for (let k = 0; k < s.orders.length; k++) {
    ev.push({ bar: s.orders.bar[k]!, rank: 2, seq: k, key: `submitted:${s.orders.orderId[k]}` });
    if (s.orders.canceledBar[k]! >= 0) ev.push({ bar: s.orders.canceledBar[k]!, rank: 1, seq: k, key: `canceled:${s.orders.orderId[k]}` });
  }
  ev.sort((a, b) => a.bar - b.bar || a.rank - b.rank || a.seq - b.seq);
  return { fills: Array.from(s.fills.fillId), orders: ev.map((e) => e.key) };
}

function checkBuckets(s: RunSeries, f: FrameMsg): void {
  for (let k = 0; k < f.bars.i.length; k++) {
    const a = f.bars.i[k]!;
    const b = a + f.bars.n[k]!;
    let h = -Infinity;
    let l = Infinity;
    for (let j = a; j < b; j++) {
      h = Math.max(h, s.high[j]!);
      l = Math.min(l, s.low[j]!);
    }
    assert.equal(f.bars.open[k], s.open[a], `bucket ${a}+${f.bars.n[k]} open`);
    assert.equal(f.bars.close[k], s.close[b - 1], `bucket ${a}+${f.bars.n[k]} close`);
    assert.equal(f.bars.high[k], h);
    assert.equal(f.bars.low[k], l);
    assert.equal(f.bars.ts_ms[k], s.tsMs[a]);
  }
}

describe('replay streamer', () => {
  it('plays a run to the end: every fill and order event exactly once and in order, bars contiguous, ≤ 30 frames/s, bounded frames (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2500 }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        fc.oneof(fc.constant('max' as const), fc.integer({ min: 1, max: 50_000 })),
        fc.integer({ min: 1, max: 300 }),
        (n, seed, rate, speed, budget) => {
          const s = randomSeries(seed, n, rate);
          const r = open(s, { speed, play: true, maxEventsPerFrame: budget, maxBarsPerTick: 700 });
          for (let guard = 0; guard < 100_000 && r.stream.state !== 'ended'; guard++) r.clock.advance(50);
          assert.equal(r.stream.state, 'ended');
          const frames = r.frames();
          assert.equal(frames[0]!.reset, true);
          assert.equal(frames[0]!.cursor, 0);
          const fills: number[] = [...frames[0]!.fills.fill_id];
          const orders: string[] = [];
          // the reset at bar 0 carries bar 0's fills and its resting orders; replay bar 0's events to compare
          const first = expectedEvents(s).orders.filter((k) => {
            const [ev, id] = k.split(':');
            const o = Number(id) - 1;
            const bar = ev === 'submitted' ? s.orders.bar[o] : ev === 'canceled' ? s.orders.canceledBar[o] : s.orders.fillBar[o];
            return bar === 0;
          });
          orders.push(...first);
          let next = frames[0]!.cursor + 1;
          const frameTimes = r.sent.filter((x) => x.msg.type === 'frame').map((x) => x.at);
          for (let k = 1; k < frameTimes.length; k++)
            assert.ok(
              frameTimes[k]! - frameTimes[k - 1]! >= MIN_FRAME_INTERVAL_MS - 1e-9,
              `frames ${k - 1},${k} ${frameTimes[k]! - frameTimes[k - 1]!} ms apart`,
            );
          for (const f of frames.slice(1)) {
            assert.equal(f.reset, undefined);
            assert.ok(f.bars.i.length <= MAX_BARS_PER_FRAME, `${f.bars.i.length} buckets`);
            assert.equal(f.bars.i[0], next, 'bars continue where the previous frame ended');
            let end = next;
            for (let k = 0; k < f.bars.i.length; k++) {
              assert.equal(f.bars.i[k], end);
              end += f.bars.n[k]!;
            }
            assert.equal(end - 1, f.cursor);
            checkBuckets(s, f);
            const events = f.fills.fill_id.length + f.orders.order_id.length;
            const oneBar = f.cursor === next; // a single bar may hold more than the budget
            assert.ok(events <= budget || oneBar, `${events} events > budget ${budget} over bars ${next}..${f.cursor}`);
            fills.push(...f.fills.fill_id);
            orders.push(...f.orders.event.map((e, k) => `${e}:${f.orders.order_id[k]}`));
            assert.ok(f.equity.i.every((i) => i >= next && i <= f.cursor));
            assert.equal(f.account!.bar, f.cursor);
            next = f.cursor + 1;
          }
          assert.equal(next, n, 'every bar delivered');
          const want = expectedEvents(s);
          assert.deepEqual(fills, want.fills);
          assert.deepEqual(orders, want.orders);
          const end = r.last('end');
          assert.deepEqual(end, { type: 'end', cursor: n - 1, reason: 'complete' });
        },
      ),
      { numRuns: 60, seed: 4242 },
    );
  });

  it('with seeks and steps in between, the view rebuilt from frames holds exactly the fills up to the cursor (property)', () => {
    const cmd = fc.oneof(
      fc.record({ cmd: fc.constant('seek'), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ cmd: fc.constant('step'), value: fc.integer({ min: -50, max: 200 }).filter((v) => v !== 0) }),
      fc.record({ cmd: fc.constantFrom('next-fill', 'prev-fill', 'play', 'pause') }),
      fc.record({ cmd: fc.constant('wait'), ms: fc.integer({ min: 0, max: 400 }) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1500 }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.array(cmd, { maxLength: 25 }),
        (n, seed, cmds) => {
          const s = randomSeries(seed, n, 0.3);
          const r = open(s, { speed: 500 });
          for (const c of cmds) {
            if (c.cmd === 'wait') r.clock.advance((c as { ms: number }).ms);
            else if (c.cmd === 'seek') r.ctrl({ cmd: 'seek', value: Math.min(n - 1, Math.floor((c as { frac: number }).frac * n)) });
            else if (c.cmd === 'step') r.ctrl({ cmd: 'step', value: (c as { value: number }).value });
            else r.ctrl({ cmd: c.cmd });
          }
          r.ctrl({ cmd: 'pause' });
          r.clock.advance(1000);
          let view: number[] = [];
          let cursor = -1;
          for (const f of r.frames()) {
            if (f.reset) view = [...f.fills.fill_id];
            else {
              assert.equal(f.bars.i[0], cursor + 1);
              view.push(...f.fills.fill_id);
            }
            cursor = f.cursor;
          }
          assert.equal(cursor, r.stream.cursor);
          const want = Array.from(s.fills.fillId).filter((_, k) => s.fills.bar[k]! <= cursor);
          assert.deepEqual(view, want);
          const ctrl = r.last('ctrl')!;
          assert.equal(ctrl.cursor, cursor);
        },
      ),
      { numRuns: 80, seed: 99 },
    );
  });

  it('paces by speed on the injected clock: 10 bars/s → 10 bars per second; 300 bars/s → ≤ 30 frames/s carrying 300 bars', () => {
    const s = randomSeries(7, 5000, 0.1);
    const slow = open(s, { speed: 10, play: true });
    slow.clock.advance(1000);
    assert.equal(slow.stream.cursor, 10);
    assert.equal(slow.frames().length, 11); // the reset + one frame per bar
    slow.clock.advance(2000);
    assert.equal(slow.stream.cursor, 30);

    const fast = open(s, { speed: 300, play: true });
    fast.clock.advance(1000);
    const frames = fast.frames();
    assert.ok(frames.length - 1 <= 30, `${frames.length - 1} frames in 1 s`);
    assert.ok(Math.abs(fast.stream.cursor - 300) <= 10, `cursor ${fast.stream.cursor}`);
    fast.ctrl({ cmd: 'speed', value: 60 });
    const c0 = fast.stream.cursor;
    fast.clock.advance(1000);
    assert.ok(Math.abs(fast.stream.cursor - c0 - 60) <= 2, `+${fast.stream.cursor - c0} bars after speed 60`);
  });

  it('max speed advances maxBarsPerTick per frame, merged into ≤ MAX_BARS_PER_FRAME OHLC buckets', () => {
    const s = randomSeries(3, 20_000, 0.01);
    const r = open(s, { speed: 'max', play: true, maxBarsPerTick: 4000, maxEventsPerFrame: 1e6 });
    r.clock.advance(MIN_FRAME_INTERVAL_MS * 2);
    const [, f1] = r.frames();
    assert.equal(f1!.cursor, 4000);
    assert.equal(f1!.bars.i.length, MAX_BARS_PER_FRAME);
    assert.equal(f1!.bars.n[0], 8);
    checkBuckets(s, f1!);
    r.clock.advance(10_000);
    assert.equal(r.stream.state, 'ended');
  });

  it('seek by bar index, by UTC time (exact or between bars → the next bar) and by nanoseconds; step N, step back, next/previous fill', () => {
    const s = randomSeries(11, 3000, 0.2);
    const r = open(s);
    r.clock.advance(100);
    r.ctrl({ cmd: 'seek', value: 1234 });
    assert.equal(r.stream.cursor, 1234);
    assert.equal(r.frames().at(-1)!.reset, true);
    r.clock.advance(100);
    const t = s.tsMs[2000]!;
    r.ctrl({ cmd: 'seek', value: new Date(t).toISOString() });
    assert.equal(r.stream.cursor, 2000);
    r.clock.advance(100);
    r.ctrl({ cmd: 'seek', value: new Date(t - 1000).toISOString() }); // 1 s before bar 2000's start
    assert.equal(r.stream.cursor, 2000);
    r.clock.advance(100);
    r.ctrl({ cmd: 'seek', value: String(BigInt(s.tsMs[100]!) * 1_000_000n) });
    assert.equal(r.stream.cursor, 100);
    r.clock.advance(100);
    r.ctrl({ cmd: 'step', value: 5 });
    assert.equal(r.stream.cursor, 105);
    assert.equal(r.frames().at(-1)!.reset, undefined);
    r.clock.advance(100);
    r.ctrl({ cmd: 'step' });
    assert.equal(r.stream.cursor, 106);
    r.clock.advance(100);
    r.ctrl({ cmd: 'step', value: -1 });
    assert.equal(r.stream.cursor, 105);
    assert.equal(r.frames().at(-1)!.reset, true);
    r.clock.advance(100);
    const nextFill = s.fills.bar.find((b) => b > 105)!;
    r.ctrl({ cmd: 'next-fill' });
    assert.equal(r.stream.cursor, nextFill);
    assert.ok(r.frames().at(-1)!.fills.bar.includes(nextFill));
    r.clock.advance(100);
    const prevFill = [...s.fills.bar].reverse().find((b) => b < nextFill)!;
    r.ctrl({ cmd: 'prev-fill' });
    assert.equal(r.stream.cursor, prevFill);
    assert.deepEqual(r.last('ctrl'), { type: 'ctrl', state: 'paused', speed: 60, cursor: prevFill });
  });

  it('commands faster than 30/s are coalesced: 50 steps within 100 ms produce ≤ 4 frames and land on +50', () => {
    const s = randomSeries(5, 1000, 0.2);
    const r = open(s);
    const before = r.frames().length;
    for (let k = 0; k < 50; k++) {
      r.ctrl({ cmd: 'step' });
      r.clock.advance(2);
    }
    r.clock.advance(100);
    assert.equal(r.stream.cursor, 50);
    assert.ok(r.frames().length - before <= 4, `${r.frames().length - before} frames`);
  });

  it('answers every malformed control message with err and keeps streaming', () => {
    const s = randomSeries(2, 500, 0.2);
    const r = open(s, { speed: 100, play: true });
    const bad: unknown[] = [
      null,
      42,
      'play',
      [],
      {},
      { type: 'frame' },
      { type: 'ctrl' },
      { type: 'ctrl', cmd: 'rewind' },
      { type: 'ctrl', cmd: 'seek' },
      { type: 'ctrl', cmd: 'seek', value: -3 },
      { type: 'ctrl', cmd: 'seek', value: 1.5 },
      { type: 'ctrl', cmd: 'seek', value: 'yesterday' },
      { type: 'ctrl', cmd: 'seek', value: 10_000 },
      { type: 'ctrl', cmd: 'seek', value: '2031-01-01T00:00:00Z' },
      { type: 'ctrl', cmd: 'speed', value: 0 },
      { type: 'ctrl', cmd: 'speed', value: -5 },
      { type: 'ctrl', cmd: 'speed', value: 'fast' },
      { type: 'ctrl', cmd: 'step', value: 0 },
      { type: 'ctrl', cmd: 'play', extra: 1 },
      { type: 'ctrl', cmd: 'seek', value: { bar: 3 } },
    ];
    for (const m of bad) {
      const n = r.sent.length;
      r.stream.control(m);
      const reply = r.sent.slice(n).map((x) => x.msg);
      assert.equal(reply.length, 1, `one reply to ${JSON.stringify(m)}`);
      assert.equal(reply[0]!.type, 'err', `err for ${JSON.stringify(m)}`);
      assert.ok((reply[0] as { message: string }).message.length > 10);
    }
    r.clock.advance(1000);
    assert.ok(r.stream.cursor >= 90, `still playing: cursor ${r.stream.cursor}`);
  });

  it('sends hb every 5 s while open (playing or not); close() ends with `stopped` and leaves no timer', () => {
    const s = randomSeries(9, 200, 0.1);
    const r = open(s);
    r.clock.advance(15_000);
    const hbs = r.sent.filter((x) => x.msg.type === 'hb');
    assert.deepEqual(
      hbs.map((x) => x.at),
      [5000, 10_000, 15_000],
    );
    r.ctrl({ cmd: 'play' });
    r.clock.advance(500);
    r.stream.close();
    assert.deepEqual(r.last('end'), { type: 'end', cursor: r.stream.cursor, reason: 'stopped' });
    assert.equal(r.clock.pending, 0);
    const n = r.sent.length;
    r.clock.advance(20_000);
    r.ctrl({ cmd: 'play' });
    assert.equal(r.sent.length, n, 'nothing after close');
  });

  it('meta first, then the reset frame at `from`, then the state; play at the end restarts from `from`', () => {
    const s = randomSeries(4, 300, 0.2);
    const r = open(s, { from: 50, to: 120, speed: 'max', play: true });
    assert.deepEqual(
      r.sent.slice(0, 3).map((x) => x.msg.type),
      ['meta', 'frame', 'ctrl'],
    );
    const meta = r.sent[0]!.msg as Extract<ServerMsg, { type: 'meta' }>;
    assert.equal(meta.bar_count, 300);
    assert.equal(meta.from, 50);
    assert.equal(meta.to, 120);
    assert.equal(r.frames()[0]!.cursor, 50);
    r.clock.advance(1000);
    assert.equal(r.stream.cursor, 120);
    assert.equal(r.stream.state, 'ended');
    r.ctrl({ cmd: 'play' });
    assert.equal(r.frames().at(-1)!.reset, true);
    assert.equal(r.frames().at(-1)!.cursor, 50);
  });

  it('account: position, average price and P&L add up to the equity at the cursor', () => {
    const s = randomSeries(21, 2000, 0.3);
    const r = open(s);
    for (const c of [0, 10, 500, 1999]) {
      r.clock.advance(100);
      r.ctrl({ cmd: 'seek', value: c });
      const a = r.frames().at(-1)!.account!;
      assert.equal(a.position, s.position[c]);
      assert.ok(Math.abs(a.realized_pnl + a.unrealized_pnl - (s.equity[c]! - 100_000)) < 1e-6);
      if (a.position === 0) assert.equal(a.avg_price, null);
    }
  });
});

describe('replay streamer: reset history', () => {
  it('a reset frame tiles [0, cursor]: the last FINE_TAIL bars one per bucket, older ones merged to the view width', async () => {
    const { FINE_TAIL } = await import('../../../src/engine/replay/streamer.ts');
    const s = randomSeries(77, 20_000, 0.05);
    const r = open(s, { historyPoints: 200 });
    r.clock.advance(100);
    r.ctrl({ cmd: 'seek', value: 15_000 });
    const f = r.frames().at(-1)!;
    assert.equal(f.reset, true);
    let at = 0;
    for (let k = 0; k < f.bars.i.length; k++) {
      assert.equal(f.bars.i[k], at);
      at += f.bars.n[k]!;
    }
    assert.equal(at, 15_001);
    const fine = f.bars.n.filter((n) => n === 1).length;
    assert.ok(fine >= FINE_TAIL, `${fine} single-bar buckets`);
    assert.ok(f.bars.i.length <= 200 + FINE_TAIL + 1, `${f.bars.i.length} buckets`);
    checkBuckets(s, f);
    assert.deepEqual(
      f.equity.i.slice(-FINE_TAIL),
      Array.from({ length: FINE_TAIL }, (_, k) => 15_001 - FINE_TAIL + k),
    );
  });
});
