/**
 * DBN encoder for synthetic data, benchmarks and tests: metadata (v1/v2/v3) and the two
 * hot record types (TradeMsg, Mbp1Msg). Writes exactly the layouts the decoder reads.
 */
import { UNDEF_PRICE, UNDEF_TIMESTAMP } from './enums.ts';
import type { DbnMetadata } from './metadata.ts';
import { V1_SYMBOL_CSTR_LEN } from './metadata.ts';

export { UNDEF_PRICE, UNDEF_TIMESTAMP };

export type DbnMetadataInput = Omit<
  DbnMetadata,
  'recordsOffset' | 'symbolCstrLen' | 'schemaName' | 'partial' | 'notFound' | 'limit' | 'tsOut'
> & {
  partial?: string[];
  notFound?: string[];
  limit?: bigint;
  tsOut?: boolean;
};

export interface TradeRecordInput {
  publisherId: number;
  instrumentId: number;
  tsEvent: bigint;
  /** Raw fixed-point price (1e-9 units). */
  price: bigint;
  size: number;
  /** ASCII code, e.g. 84 ('T'). */
  action: number;
  /** ASCII code: 65 'A', 66 'B', 78 'N'. */
  side: number;
  flags: number;
  depth: number;
  tsRecv: bigint;
  tsInDelta: number;
  sequence: number;
}

export interface Mbp1RecordInput extends TradeRecordInput {
  bidPx: bigint;
  askPx: bigint;
  bidSz: number;
  askSz: number;
  bidCt: number;
  askCt: number;
}

export const TRADE_RECORD_SIZE = 48;
export const MBP1_RECORD_SIZE = 80;
export const V2_SYMBOL_CSTR_LEN = 71;

/** Encodes the metadata header ("DBN" prelude included). v3 is zero-padded to a multiple of 8. */
export function encodeMetadata(meta: DbnMetadataInput): Uint8Array {
  const { version } = meta;
  if (version !== 1 && version !== 2 && version !== 3)
    throw new RangeError(`encodeMetadata: version must be 1, 2 or 3, got ${String(version)}`);
  const L = version === 1 ? V1_SYMBOL_CSTR_LEN : V2_SYMBOL_CSTR_LEN;
  const symbols = meta.symbols;
  const partial = meta.partial ?? [];
  const notFound = meta.notFound ?? [];
  let size = 8 + 100 + 4 + 16 + (symbols.length + partial.length + notFound.length) * L;
  for (const m of meta.mappings) size += L + 4 + m.intervals.length * (8 + L);
  if (version === 3) size = 8 + Math.ceil((size - 8) / 8) * 8;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x44, 0x42, 0x4e, version], 0);
  view.setUint32(4, size - 8, true);
  let o = 8;
  writeCStr(out, o, 16, meta.dataset, 'dataset');
  o += 16;
  view.setUint16(o, meta.schema === null ? 0xffff : meta.schema, true);
  view.setBigUint64(o + 2, meta.start, true);
  view.setBigUint64(o + 10, meta.end === null ? UNDEF_TIMESTAMP : meta.end, true);
  view.setBigUint64(o + 18, meta.limit ?? 0n, true);
  o += 26;
  if (version === 1) {
    view.setBigUint64(o, UNDEF_TIMESTAMP, true); // record_count (deprecated)
    o += 8;
  }
  out[o++] = meta.stypeIn === null ? 0xff : meta.stypeIn;
  out[o++] = meta.stypeOut === null ? 0xff : meta.stypeOut;
  out[o++] = meta.tsOut ? 1 : 0;
  if (version !== 1) view.setUint16(o, L, true);
  o = 108;
  view.setUint32(o, 0, true); // schema_definition_length
  o += 4;
  for (const [name, list] of [
    ['symbols', symbols],
    ['partial', partial],
    ['not_found', notFound],
  ] as const) {
    view.setUint32(o, list.length, true);
    o += 4;
    for (const s of list) {
      writeCStr(out, o, L, s, name);
      o += L;
    }
  }
  view.setUint32(o, meta.mappings.length, true);
  o += 4;
  for (const m of meta.mappings) {
    writeCStr(out, o, L, m.rawSymbol, 'mapping raw_symbol');
    o += L;
    view.setUint32(o, m.intervals.length, true);
    o += 4;
    for (const iv of m.intervals) {
      view.setUint32(o, iv.startDate, true);
      view.setUint32(o + 4, iv.endDate, true);
      writeCStr(out, o + 8, L, iv.symbol, 'interval symbol');
      o += 8 + L;
    }
  }
  return out;
}

/** Writes a NUL-padded ASCII field; the text must leave room for the terminating NUL. */
export function writeCStr(out: Uint8Array, off: number, len: number, s: string, what = 'string'): void {
  if (s.length >= len) throw new RangeError(`${what} '${s}' is ${s.length} characters; at most ${len - 1} fit`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || c === 0) throw new RangeError(`${what} '${s}' must be non-NUL ASCII`);
    out[off + i] = c;
  }
  out.fill(0, off + s.length, off + len);
}

/** Writes the 16-byte record header. `sizeBytes` must be a multiple of 4 (at most 1020). */
export function writeRecordHeader(
  view: DataView,
  offset: number,
  sizeBytes: number,
  rtype: number,
  publisherId: number,
  instrumentId: number,
  tsEvent: bigint,
): void {
  view.setUint8(offset, sizeBytes / 4);
  view.setUint8(offset + 1, rtype);
  view.setUint16(offset + 2, publisherId, true);
  view.setUint32(offset + 4, instrumentId, true);
  view.setBigUint64(offset + 8, tsEvent, true);
}

function writeTradeBody(view: DataView, o: number, r: TradeRecordInput): void {
  view.setBigInt64(o + 16, r.price, true);
  view.setUint32(o + 24, r.size, true);
  view.setUint8(o + 28, r.action);
  view.setUint8(o + 29, r.side);
  view.setUint8(o + 30, r.flags);
  view.setUint8(o + 31, r.depth);
  view.setBigUint64(o + 32, r.tsRecv, true);
  view.setInt32(o + 40, r.tsInDelta, true);
  view.setUint32(o + 44, r.sequence, true);
}

/** Writes a TradeMsg (rtype 0, 48 bytes); returns the offset after it. */
export function writeTradeRecord(view: DataView, offset: number, r: TradeRecordInput): number {
  writeRecordHeader(view, offset, TRADE_RECORD_SIZE, 0x00, r.publisherId, r.instrumentId, r.tsEvent);
  writeTradeBody(view, offset, r);
  return offset + TRADE_RECORD_SIZE;
}

/** Writes an Mbp1Msg (rtype 1, 80 bytes: mbp-1 and tbbo); returns the offset after it. */
export function writeMbp1Record(view: DataView, offset: number, r: Mbp1RecordInput): number {
  writeRecordHeader(view, offset, MBP1_RECORD_SIZE, 0x01, r.publisherId, r.instrumentId, r.tsEvent);
  writeTradeBody(view, offset, r);
  view.setBigInt64(offset + 48, r.bidPx, true);
  view.setBigInt64(offset + 56, r.askPx, true);
  view.setUint32(offset + 64, r.bidSz, true);
  view.setUint32(offset + 68, r.askSz, true);
  view.setUint32(offset + 72, r.bidCt, true);
  view.setUint32(offset + 76, r.askCt, true);
  return offset + MBP1_RECORD_SIZE;
}
