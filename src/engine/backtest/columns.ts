/**
 * Capacity planning for the engine's append-only event logs (orders, fills, trades, events):
 * plain typed arrays held directly by the log (no wrapper object between the hot path and the
 * data), grown all at once per table by `grow()` to a capacity extrapolated from the rate seen
 * so far: a long run grows each table two or three times, copying little and reserving about
 * what it will use.
 */
export type TypedArray = Float64Array | Int32Array | Uint8Array;

/**
 * Initial capacity: one entry per 64 bars, 256..4096. Small on purpose: the first growth
 * extrapolates the rate seen so far (see nextCapacity), which estimates a long run's final
 * count far better than the bar count does, so little is copied and nothing is grossly
 * over-allocated (untouched capacity costs no memory, but each grow copies what is there).
 */
export function initialCapacity(nBars: number): number {
  return Math.max(256, Math.min(4096, nBars >> 6));
}

/**
 * Next capacity of a full table of `count` entries whose newest entry belongs to bar `bar`
 * of `nBars`: the count extrapolated to the last bar plus 1/8 (the rate may rise), within
 * 1.5×..16× (geometric growth keeps appends amortised O(1) when the extrapolation falls short;
 * the cap bounds the slack after an early burst).
 */
export function nextCapacity(count: number, bar: number, nBars: number): number {
  const atEnd = Math.ceil(((count * nBars) / (bar + 1)) * 1.125);
  return Math.max(count + (count >> 1) + 16, Math.min(atEnd, count * 16));
}

/** A copy of `a` with room for `cap` entries (the tail zero-filled). */
export function grow<T extends TypedArray>(a: T, cap: number): T {
  const next = new (a.constructor as { new (n: number): T })(cap);
  next.set(a);
  return next;
}
