/**
 * Capacity planning for the engine's append-only event logs (orders, fills, trades, events):
 * plain typed arrays held directly by the log (no wrapper object between the hot path and the
 * data), grown all at once per table by `grow()` to a capacity extrapolated from the rate seen
 * so far, so a run usually grows a table at most once and never by more than it needs.
 */
export type TypedArray = Float64Array | Int32Array | Uint8Array;

/** Initial capacity from the bar count: one entry per 64 bars, 256..262144. */
export function initialCapacity(nBars: number): number {
  return Math.max(256, Math.min(1 << 18, nBars >> 6));
}

/**
 * Next capacity of a full table of `count` entries whose newest entry belongs to bar `bar`
 * of `nBars`: the count extrapolated to the last bar plus 1/8 (the rate may rise), within
 * 1.5×..4× (geometric growth keeps appends amortised O(1) when the extrapolation falls short;
 * the cap bounds the slack after an early burst, as plain ×4 growth would).
 */
export function nextCapacity(count: number, bar: number, nBars: number): number {
  const atEnd = Math.ceil(((count * nBars) / (bar + 1)) * 1.125);
  return Math.max(count + (count >> 1) + 16, Math.min(atEnd, count * 4));
}

/** A copy of `a` with room for `cap` entries (the tail zero-filled). */
export function grow<T extends TypedArray>(a: T, cap: number): T {
  const next = new (a.constructor as { new (n: number): T })(cap);
  next.set(a as never);
  return next;
}
