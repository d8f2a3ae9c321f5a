/**
 * Columnar batches the streaming decoder fills: one typed array per field, no per-record objects.
 * Consumers (bar derivation, benchmarks) read these directly.
 *
 * Conventions (shared by every consumer):
 * - Timestamps are u64 nanoseconds in BigUint64Array. Each has a Uint32Array alias over the
 *   same buffer (`…U32`, little-endian: [2i] = low 32 bits, [2i+1] = high 32 bits) so hot loops
 *   can compare timestamps exactly without creating BigInts.
 * - Prices are the raw i64 fixed-point value (scale 1e-9) stored as an exact float64 integer
 *   (|raw| < 2^53 holds for every real price); UNDEF_PRICE (i64::MAX) is stored as NaN.
 * - Chars (side, action) are ASCII codes in Uint8Array.
 * - A batch's arrays have `capacity` slots; only [0, length) are valid. The decoder reuses a
 *   batch after the consumer returns (with DecodeOptions.batchRing = N, after N - 1 further
 *   batches), so consumers copy what they keep longer. With the wasm kernel the arrays are views
 *   into the decoder's memory: never replace them.
 */
export interface TradeColumns {
  /** rtype 0 (TradeMsg) or 1 (Mbp1Msg: the trade fields of an mbp-1 / tbbo record). */
  length: number;
  capacity: number;
  publisherId: Uint16Array;
  instrumentId: Uint32Array;
  tsEvent: BigUint64Array;
  tsEventU32: Uint32Array;
  tsRecv: BigUint64Array;
  tsRecvU32: Uint32Array;
  price: Float64Array;
  size: Uint32Array;
  action: Uint8Array;
  side: Uint8Array;
  flags: Uint8Array;
  depth: Uint8Array;
  tsInDelta: Int32Array;
  sequence: Uint32Array;
}

/** Mbp1Msg (mbp-1 and tbbo): the trade fields plus level 0 of the book. */
export interface Mbp1Columns extends TradeColumns {
  bidPx: Float64Array;
  askPx: Float64Array;
  bidSz: Uint32Array;
  askSz: Uint32Array;
  bidCt: Uint32Array;
  askCt: Uint32Array;
}
