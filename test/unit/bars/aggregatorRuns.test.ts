// MinuteAggregator carries the open minute's accumulators from call to call: the bars must not
// depend on how the records are cut into calls (batch and merge-run boundaries), and must equal
// a direct per-minute computation.
import { strict as assert } from 'node:assert';
import { allocMbp1Columns, allocTradeColumns } from '../../../src/engine/dbn/columnar.ts';
import type { Mbp1Columns, TradeColumns } from '../../../src/engine/dbn/columns.ts';
import type { BarSeries } from '../../../src/engine/bars/barSeries.ts';
import { MinuteAggregator } from '../../../src/engine/bars/minuteAggregator.ts';

const T0 = 1_709_562_600_000_000_000n;
const MIN = 60_000_000_000n;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function setTs(b: TradeColumns, i: number, ts: bigint): void {
  b.tsRecvU32[2 * i] = Number(ts & 0xffffffffn);
  b.tsRecvU32[2 * i + 1] = Number(ts >> 32n);
}

/** `n` trades and `n` quotes over 12 minutes (some minutes empty), both sorted by ts_recv. */
function build(seed: number, n: number): { t: TradeColumns; q: Mbp1Columns; tMin: number[]; qMin: number[] } {
  const r = rng(seed);
  const t = allocTradeColumns(n);
  const q = allocMbp1Columns(n);
  const times = (k: number) =>
    Array.from({ length: k }, () => BigInt(Math.floor(r() * 12)) * MIN * (r() < 0.1 ? 0n : 1n) + BigInt(Math.floor(r() * 60e9)))
      .filter((x) => x / MIN !== 5n)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // minute 5: no records at all
  const tt = times(n);
  const qt = times(n);
  t.length = tt.length;
  q.length = qt.length;
  tt.forEach((ts, i) => {
    setTs(t, i, T0 + ts);
    t.price[i] = (4800 + Math.floor(r() * 40) / 4) * 1e9;
    t.size[i] = 1 + Math.floor(r() * 9);
    t.side[i] = [0x41, 0x42, 0x4e][Math.floor(r() * 3)]!;
  });
  qt.forEach((ts, i) => {
    setTs(q, i, T0 + ts);
    q.price[i] = 4800e9;
    q.size[i] = 1;
    q.side[i] = 0x4e;
    q.bidPx[i] = r() < 0.05 ? NaN : (4800 + Math.floor(r() * 8) / 4) * 1e9;
    q.askPx[i] = q.bidPx[i] + (r() < 0.1 ? 0 : 0.25e9);
    q.bidSz[i] = Math.floor(r() * 5);
    q.askSz[i] = Math.floor(r() * 5);
  });
  const minute = (b: TradeColumns) =>
    Array.from({ length: b.length }, (_, i) =>
      Number((((BigInt(b.tsRecvU32[2 * i + 1]!) << 32n) | BigInt(b.tsRecvU32[2 * i]!)) - T0) / MIN),
    );
  return { t, q, tMin: minute(t), qMin: minute(q) };
}

/** Feeds minute by minute (trades then quotes, as the merge does), each minute's records cut into calls of `cut()` records. */
function feed(d: ReturnType<typeof build>, cut: () => number): BarSeries {
  const agg = new MinuteAggregator({
    symbol: 'X',
    quoteSpans: [
      { start: T0, end: T0 + 3n * MIN },
      { start: T0 + 8n * MIN, end: null },
    ],
    capacity: 1,
  });
  let ti = 0;
  let qi = 0;
  for (let m = 0; m < 12; m++) {
    for (const [b, mins, add] of [
      [d.t, d.tMin, (f: number, e: number) => agg.addTrades(d.t, f, e)],
      [d.q, d.qMin, (f: number, e: number) => agg.addQuotes(d.q, f, e)],
    ] as const) {
      let i = b === d.t ? ti : qi;
      let end = i;
      while (end < b.length && mins[end] === m) end++;
      while (i < end) {
        const e = Math.min(end, i + cut());
        assert.equal(add(i, e), e - i);
        i = e;
      }
      if (b === d.t) ti = end;
      else qi = end;
    }
  }
  return agg.finish();
}

function assertSame(a: BarSeries, b: BarSeries, label: string): void {
  assert.equal(a.length, b.length, label);
  for (const c of Object.keys(a).filter((k) => a[k as keyof BarSeries] instanceof Float64Array)) {
    const x = a[c as keyof BarSeries] as Float64Array;
    const y = b[c as keyof BarSeries] as Float64Array;
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(x[i], y[i]), `${label}: ${c}[${i}] ${x[i]} vs ${y[i]}`);
  }
}

describe('minute aggregator: accumulators across call boundaries', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: calls of 1, 2, 7 records or random sizes give the bars of whole-minute calls, and those equal a direct computation`, () => {
      const d = build(seed, 3000);
      const whole = feed(d, () => 1 << 30);
      for (const [label, cut] of [
        ['1', () => 1],
        ['2', () => 2],
        ['7', () => 7],
        [
          'random',
          (
            (r) => () =>
              1 + Math.floor(r() * 50)
          )(rng(seed + 10)),
        ],
      ] as const) {
        assertSame(feed(d, cut), whole, `calls of ${label}`);
      }
      // Direct: per minute with trades, OHLC, volume, count, vwap, buy/sell volume and quote count.
      let row = 0;
      for (let m = 0; m < 12; m++) {
        const ix = d.tMin.flatMap((x, i) => (x === m ? [i] : []));
        if (ix.length === 0) continue;
        const px = ix.map((i) => d.t.price[i]! / 1e9);
        const sz = ix.map((i) => d.t.size[i]!);
        let pv = 0;
        ix.forEach((_, k) => {
          pv += px[k]! * sz[k]!;
        });
        const vol = sz.reduce((a, b) => a + b, 0);
        assert.equal(whole.ts[row], Number(T0 + BigInt(m) * MIN));
        assert.deepEqual(
          [whole.open[row], whole.high[row], whole.low[row], whole.close[row]],
          [px[0], Math.max(...px), Math.min(...px), px[px.length - 1]],
        );
        assert.deepEqual([whole.volume[row], whole.tradeCount[row], whole.vwap[row]], [vol, ix.length, pv / vol]);
        assert.equal(
          whole.buyVolume[row],
          ix.reduce((a, i) => a + (d.t.side[i] === 0x42 ? d.t.size[i]! : 0), 0),
        );
        assert.equal(
          whole.sellVolume[row],
          ix.reduce((a, i) => a + (d.t.side[i] === 0x41 ? d.t.size[i]! : 0), 0),
        );
        const inSpan = m < 3 || m >= 8;
        const qualifying = d.qMin.filter((x, i) => x === m && d.q.bidPx[i] === d.q.bidPx[i] && d.q.askPx[i] === d.q.askPx[i]).length;
        assert.equal(whole.quoteCount[row], inSpan ? qualifying : -1, `minute ${m}`);
        row++;
      }
      assert.equal(row, whole.length);
    });
  }
});
