/**
 * Decimation for views: many bars → at most `points` buckets, lossless where it matters.
 * - Candles: OHLC merged per bucket (open of the first bar, max high, min low, close of the
 *   last), volume summed, spread averaged over quoted minutes — the bucket is the candle the
 *   bars would make together.
 * - Lines (equity, drawdown): M4 per bucket (first, min, max, last, in time order), so the
 *   drawn line touches every extreme a full-resolution line would.
 * Buckets are aligned to multiples of the bucket size (from bar 0), so panning never shifts
 * which bars merge. Nothing here ever merges fills or order events away.
 */
import type { FrameBars } from './protocol.ts';

/** Bars per bucket so that [from, to) fits in `points` buckets. */
export function bucketSize(from: number, to: number, points: number): number {
  const p = Math.max(1, Math.floor(points));
  return Math.max(1, Math.ceil((to - from) / p));
}

export interface OhlcSource {
  tsMs: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/**
 * Buckets of `size` bars over [from, to). `aligned`: bucket edges at multiples of size (views);
 * otherwise from `from` on (replay frames).
 */
export function ohlcBuckets(
  s: OhlcSource,
  from: number,
  to: number,
  size: number,
  aligned = true,
  spread?: Float64Array,
): FrameBars & { spread: (number | null)[] } {
  const out: FrameBars & { spread: (number | null)[] } = {
    i: [],
    n: [],
    ts_ms: [],
    open: [],
    high: [],
    low: [],
    close: [],
    volume: [],
    spread: [],
  };
  if (to <= from) return out;
  let start = from;
  while (start < to) {
    const edge = aligned ? (Math.floor(start / size) + 1) * size : start + size;
    const end = edge < to ? edge : to;
    let h = s.high[start]!;
    let l = s.low[start]!;
    let v = 0;
    let sp = 0;
    let spN = 0;
    for (let k = start; k < end; k++) {
      const hk = s.high[k]!;
      const lk = s.low[k]!;
      if (hk > h) h = hk;
      if (lk < l) l = lk;
      v += s.volume[k]!;
      if (spread) {
        const x = spread[k]!;
        if (x === x) {
          sp += x;
          spN++;
        }
      }
    }
    out.i.push(start);
    out.n.push(end - start);
    out.ts_ms.push(s.tsMs[start]!);
    out.open.push(s.open[start]!);
    out.high.push(h);
    out.low.push(l);
    out.close.push(s.close[end - 1]!);
    out.volume.push(v);
    out.spread.push(spN > 0 ? sp / spN : null);
    start = end;
  }
  return out;
}

/**
 * M4 indices over [from, to) in buckets of `size`: for each bucket its first and last index
 * and the index of the min and the max of every column, deduplicated, ascending.
 */
export function m4Indices(cols: readonly Float64Array[], from: number, to: number, size: number, aligned = true): number[] {
  const out: number[] = [];
  let start = from;
  const picks: number[] = [];
  while (start < to) {
    const edge = aligned ? (Math.floor(start / size) + 1) * size : start + size;
    const end = edge < to ? edge : to;
    picks.length = 0;
    picks.push(start, end - 1);
    if (end - start > 2) {
      for (const c of cols) {
        let mn = start;
        let mx = start;
        for (let k = start + 1; k < end; k++) {
          const x = c[k]!;
          if (x < c[mn]!) mn = k;
          if (x > c[mx]!) mx = k;
        }
        picks.push(mn, mx);
      }
    }
    picks.sort((a, b) => a - b);
    for (let k = 0; k < picks.length; k++) if (k === 0 || picks[k] !== picks[k - 1]) out.push(picks[k]!);
    start = end;
  }
  return out;
}

/** Values of `col` at `idx`, NaN → null (JSON has no NaN). */
export function pick(col: Float64Array, idx: readonly number[]): (number | null)[] {
  const out = new Array<number | null>(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const v = col[idx[k]!]!;
    out[k] = v === v ? v : null;
  }
  return out;
}

/** Like pick, for columns that are never NaN. */
export function pickNum(col: Float64Array, idx: readonly number[]): number[] {
  const out = new Array<number>(idx.length);
  for (let k = 0; k < idx.length; k++) out[k] = col[idx[k]!]!;
  return out;
}
