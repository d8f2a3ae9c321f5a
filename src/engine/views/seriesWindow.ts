/**
 * A window of a run for charts (SeriesWindow): candles and equity decimated to the view's
 * width, every fill in the window, and the resting limit/stop order levels per bucket.
 */
import { bucketSize, m4Indices, ohlcBuckets, pickNum } from '../replay/decimate.ts';
import { fillsBetween } from '../replay/events.ts';
import type { RunSeries } from '../replay/runSeries.ts';
import type { SeriesWindow } from './protocol.ts';

const LEVEL_KINDS = ['buy_limit', 'sell_limit', 'buy_stop', 'sell_stop'] as const;

/**
 * The last bar an order rested at, or −1: it is live from the bar after its submission through
 * the bar it filled or was canceled at (both at that bar's open), or to the end while open.
 */
export function restEnd(s: RunSeries, k: number): number {
  const o = s.orders;
  if (o.fillBar[k]! >= 0) return o.fillBar[k]!;
  if (o.status[k] === 2) return o.canceledBar[k]!; // −1 when the cancel time is unknown
  return s.length - 1;
}

/** Per bucket of [from, to) and order kind, the level of the last order resting in it. */
export function orderLevels(s: RunSeries, from: number, to: number, size: number): SeriesWindow['levels'] {
  const first = Math.floor(from / size) * size;
  const nb = Math.ceil((to - first) / size);
  const lv = LEVEL_KINDS.map(() => new Float64Array(nb).fill(NaN));
  const stamp = LEVEL_KINDS.map(() => new Int32Array(nb).fill(-1));
  const o = s.orders;
  for (let k = 0; k < o.length; k++) {
    const type = o.type[k]!;
    if (type === 0) continue;
    const a = Math.max(o.bar[k]! + 1, from);
    const b = Math.min(restEnd(s, k), to - 1);
    if (b < a) continue;
    const kind = (type === 1 ? 0 : 2) + o.side[k]!;
    const price = type === 1 ? o.limitPrice[k]! : o.stopPrice[k]!;
    const levels = lv[kind]!;
    const st = stamp[kind]!;
    for (let q = Math.floor((a - first) / size), qe = Math.floor((b - first) / size); q <= qe; q++) {
      // the order resting latest in the bucket wins (later submissions replace earlier ones)
      if (k >= st[q]!) {
        st[q] = k;
        levels[q] = price;
      }
    }
  }
  const i: number[] = [];
  for (let q = 0; q < nb; q++) i.push(Math.max(from, first + q * size));
  const col = (x: Float64Array) => Array.from(x, (v) => (v === v ? v : null));
  return { i, buy_limit: col(lv[0]!), sell_limit: col(lv[1]!), buy_stop: col(lv[2]!), sell_stop: col(lv[3]!) };
}

export function seriesWindow(s: RunSeries, from: number, to: number, points: number): SeriesWindow {
  const a = Math.max(0, Math.min(from, s.length - 1));
  const b = Math.max(a + 1, Math.min(to, s.length));
  const size = bucketSize(a, b, points);
  const candles = ohlcBuckets(s, a, b, size, true, s.spread);
  const idx = size === 1 ? Array.from({ length: b - a }, (_, k) => a + k) : m4Indices([s.equity, s.drawdown], a, b, size);
  return {
    from: a,
    to: b,
    bucket: size,
    candles,
    equity: { i: idx, ts_ms: pickNum(s.tsMs, idx), equity: pickNum(s.equity, idx), drawdown: pickNum(s.drawdown, idx) },
    fills: fillsBetween(s, a - 1, b - 1),
    levels: orderLevels(s, a, b, size),
  };
}
