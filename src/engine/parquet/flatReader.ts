/**
 * A small pure-TypeScript Parquet reader for the flat files btnb writes (bars-1m.parquet):
 * the footer (Thrift compact protocol), column chunks of DATA_PAGE (v1) / DATA_PAGE_V2 pages,
 * PLAIN and dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY) values, RLE definition levels of
 * one-level-optional columns, UNCOMPRESSED or ZSTD pages (node:zlib's native zstd).
 *
 * Why: parquet-wasm answers the same question, but a fresh process pays for compiling its
 * WebAssembly on first use and for a detour through Arrow IPC and apache-arrow objects (a year
 * of minute bars: ~150 ms of a ~500 ms `btnb backtest`); this decodes straight into the
 * caller's typed arrays. It is deliberately partial: whatever it does not know — another codec
 * or encoding, nesting, a malformed footer or page, a count that does not add up — throws
 * `FlatReadUnsupported` and the caller reads the file with parquet-wasm instead (which then
 * names the problem the way it always did). Values are the file's bytes: doubles copied bit for
 * bit, int64 joined from two 32-bit halves as `arrowChunks.copyInt64AsDouble` does.
 *
 * This module: pages, dictionaries and readColumnChunk. The footer is flatFooter.ts (parseFooter),
 * read with thriftCompact.ts; the RLE/bit-packed hybrid is rleHybrid.ts; FlatReadUnsupported is
 * errors.ts.
 *
 * Format: https://parquet.apache.org/docs/file-format/ (parquet.thrift; the RLE/bit-packed
 * hybrid of Encodings.md).
 */
import { zstdDecompressSync } from 'node:zlib';
import { unsupported } from './errors.ts';
import { PhysicalType, type FlatColumn, type FlatFile } from './flatFooter.ts';
import { decodeHybrid, unpackBits } from './rleHybrid.ts';
import { CompactReader, num, struct } from './thriftCompact.ts';

// ---- Pages ---------------------------------------------------------------------------------

const CODEC_UNCOMPRESSED = 0;
const CODEC_ZSTD = 6;
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
const ENC_PLAIN = 0;
const ENC_PLAIN_DICTIONARY = 2;
const ENC_RLE = 3;
const ENC_RLE_DICTIONARY = 8;

function decompress(codec: number, src: Uint8Array, size: number): Uint8Array {
  if (codec === CODEC_UNCOMPRESSED) {
    if (src.length !== size) unsupported('page size mismatch');
    return src;
  }
  if (codec !== CODEC_ZSTD) unsupported(`codec ${codec}`);
  let out: Uint8Array;
  try {
    // one output buffer with room to spare: node:zlib allocates a second one when the first is exactly full
    out = zstdDecompressSync(src, { chunkSize: Math.max(size + 8, 64) });
  } catch {
    return unsupported('zstd page does not decompress');
  }
  if (out.length !== size) unsupported('decompressed page size mismatch');
  return out;
}

/** Where a column chunk's values go. `at` is the first row of the chunk in the output. */
export type ColumnSink =
  | { kind: 'float64'; out: Float64Array; at: number }
  /** INT64 as doubles (hi · 2^32 + lo); a null is refused (no nullable int64 in the contract). */
  | { kind: 'int64'; out: Float64Array; at: number }
  | { kind: 'int32'; out: Int32Array; at: number; nullValue: number }
  /** BYTE_ARRAY values that must all equal `want` (a one-symbol column); nothing stored. */
  | { kind: 'bytesEqual'; want: Uint8Array };

// Scratch space reused across pages (one decode at a time: all of it is synchronous).
let idx: Int32Array = new Int32Array(1024);
let defs: Int32Array = new Int32Array(1024);
let f64: Float64Array = new Float64Array(1024);
const grow = (a: Int32Array, n: number): Int32Array => (a.length >= n ? a : new Int32Array(Math.max(n, 2 * a.length)));

function equalBytes(buf: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let k = 0; k < want.length; k++) if (buf[at + k] !== want[k]) return false;
  return true;
}

/** Dictionary page values, in the form the sink needs. */
type Dict = Float64Array | Int32Array | Uint8Array /* bytesEqual: 1 = equals `want` */;

function plainDictionary(sink: ColumnSink, physical: number, page: Uint8Array, count: number): Dict {
  switch (sink.kind) {
    case 'float64': {
      if (physical !== PhysicalType.DOUBLE || page.length < 8 * count) unsupported('dictionary page');
      const d = new Float64Array(count);
      new Uint8Array(d.buffer).set(page.subarray(0, 8 * count));
      return d;
    }
    case 'int64': {
      if (physical !== PhysicalType.INT64 || page.length < 8 * count) unsupported('dictionary page');
      const w = new Int32Array(2 * count);
      new Uint8Array(w.buffer).set(page.subarray(0, 8 * count));
      const d = new Float64Array(count);
      for (let i = 0; i < count; i++) d[i] = w[2 * i + 1]! * 4294967296 + (w[2 * i]! >>> 0);
      return d;
    }
    case 'int32': {
      if (physical !== PhysicalType.INT32 || page.length < 4 * count) unsupported('dictionary page');
      const d = new Int32Array(count);
      new Uint8Array(d.buffer).set(page.subarray(0, 4 * count));
      return d;
    }
    case 'bytesEqual': {
      if (physical !== PhysicalType.BYTE_ARRAY) unsupported('dictionary page');
      const ok = new Uint8Array(count);
      let p = 0;
      for (let i = 0; i < count; i++) {
        if (p + 4 > page.length) unsupported('dictionary page truncated');
        const l = (page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16) | (page[p + 3]! << 24)) >>> 0;
        p += 4;
        if (l > page.length - p) unsupported('dictionary page truncated');
        ok[i] = l === sink.want.length && equalBytes(page, p, sink.want) ? 1 : 0;
        p += l;
      }
      return ok;
    }
  }
}

/** An index past the dictionary: the file is damaged (the full reader says how). */
const badIndex = (): never => unsupported('dictionary index out of range');

/**
 * dst[at + k] = dict[index k] for the `count` dictionary indices of the hybrid at buf[pos, end):
 * decodeHybrid and gatherFloat64 in one pass (no index array) for the common widths; an index
 * past the dictionary is refused.
 */
function dictionaryDoubles(
  buf: Uint8Array,
  pos: number,
  end: number,
  width: number,
  dict: Float64Array,
  dst: Float64Array,
  at: number,
  count: number,
): void {
  if (width < 1 || width > 25) {
    // width 0 (a one-value dictionary) or very wide indices: the general path
    idx = grow(idx, count);
    decodeHybrid(buf, pos, end, width, idx, count);
    gatherFloat64(dst, at, dict, idx, count);
    return;
  }
  const size = dict.length;
  const mask = (1 << width) - 1;
  const bytesPerRun = (width + 7) >> 3;
  let i = 0;
  while (i < count) {
    let h = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end || shift > 21) unsupported('hybrid: bad run header');
      const b = buf[pos++]!;
      h |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    if ((h & 1) === 1) {
      const groups = h >>> 1;
      const bytes = groups * width;
      if (bytes > end - pos) unsupported('hybrid: bit-packed run past the end');
      const take = Math.min(groups * 8, count - i);
      const k = gatherPacked(buf, pos, end, width, mask, dict, dst, at + i, take);
      if (k < take) {
        // the last values of the page: bit by bit, inside the run's bytes
        idx = grow(idx, take);
        unpackBits(buf, pos, width, idx, 0, take, k);
        for (let q = k; q < take; q++) {
          const j = idx[q]!;
          if (j >= size) badIndex();
          dst[at + i + q] = dict[j]!;
        }
      }
      i += take;
      pos += bytes;
    } else {
      if (bytesPerRun > end - pos) unsupported('hybrid: truncated run value');
      let v = 0;
      for (let b = 0; b < bytesPerRun; b++) v |= buf[pos + b]! << (8 * b);
      pos += bytesPerRun;
      v &= mask;
      if (v >= size) badIndex();
      const take = Math.min(h >>> 1, count - i);
      dst.fill(dict[v]!, at + i, at + i + take);
      i += take;
    }
  }
}

/** Bit-packed indices → dst[o…] = dict[index] while a 4-byte window fits before `end`; returns how many were done. */
function gatherPacked(
  buf: Uint8Array,
  pos: number,
  end: number,
  width: number,
  mask: number,
  dict: Float64Array,
  dst: Float64Array,
  o: number,
  take: number,
): number {
  const size = dict.length;
  let k = 0;
  for (let bit = 0; k < take; k++, bit += width) {
    const a = pos + (bit >>> 3);
    if (a + 3 >= end) break;
    const j = ((buf[a]! | (buf[a + 1]! << 8) | (buf[a + 2]! << 16) | (buf[a + 3]! << 24)) >>> (bit & 7)) & mask;
    if (j >= size) badIndex();
    dst[o + k] = dict[j]!;
  }
  return k;
}

/** dst[at + k] = dict[idx[k]] for k < n. */
function gatherFloat64(dst: Float64Array, at: number, dict: Float64Array, idx: Int32Array, n: number): void {
  const size = dict.length;
  for (let k = 0; k < n; k++) {
    const j = idx[k]!;
    if (j >= size) badIndex();
    dst[at + k] = dict[j]!;
  }
}

function gatherInt32(dst: Int32Array, at: number, dict: Int32Array, idx: Int32Array, n: number): void {
  const size = dict.length;
  for (let k = 0; k < n; k++) {
    const j = idx[k]!;
    if (j >= size) badIndex();
    dst[at + k] = dict[j]!;
  }
}

/** Dictionary indices of `n` values (bit width byte, then the hybrid) into `idx`. */
function dictionaryIndices(page: Uint8Array, pos: number, n: number): Int32Array {
  if (pos >= page.length) unsupported('dictionary indices missing');
  idx = grow(idx, n);
  decodeHybrid(page, pos + 1, page.length, page[pos]!, idx, n);
  return idx;
}

const isDictionary = (encoding: number) => encoding === ENC_PLAIN_DICTIONARY || encoding === ENC_RLE_DICTIONARY;

/** Checks `n` BYTE_ARRAY values (PLAIN or dictionary indices) all equal `want`. */
function checkBytes(
  want: Uint8Array,
  physical: number,
  encoding: number,
  page: Uint8Array,
  pos: number,
  n: number,
  dict: Dict | null,
): void {
  if (physical !== PhysicalType.BYTE_ARRAY) unsupported('type');
  if (isDictionary(encoding)) {
    if (dict === null) return unsupported('dictionary-encoded page without a dictionary');
    if (n === 0) return;
    const ix = dictionaryIndices(page, pos, n);
    const size = dict.length;
    for (let k = 0; k < n; k++) {
      const j = ix[k]!;
      if (j >= size || dict[j] !== 1) unsupported('symbol differs');
    }
    return;
  }
  if (encoding !== ENC_PLAIN) unsupported(`encoding ${encoding}`);
  for (let k = 0; k < n; k++) {
    if (pos + 4 > page.length) unsupported('plain byte array truncated');
    const l = (page[pos]! | (page[pos + 1]! << 8) | (page[pos + 2]! << 16) | (page[pos + 3]! << 24)) >>> 0;
    pos += 4;
    if (l > page.length - pos) unsupported('plain byte array truncated');
    if (l !== want.length || !equalBytes(page, pos, want)) unsupported('symbol differs');
    pos += l;
  }
}

/** `n` DOUBLE values (or INT64 as doubles when `int64`) from the page into dst[at…]. */
function doubles(
  int64: boolean,
  physical: number,
  encoding: number,
  page: Uint8Array,
  pos: number,
  n: number,
  dict: Dict | null,
  dst: Float64Array,
  at: number,
): void {
  if (physical !== (int64 ? PhysicalType.INT64 : PhysicalType.DOUBLE)) unsupported('type');
  if (isDictionary(encoding)) {
    if (dict === null) return unsupported('dictionary-encoded page without a dictionary');
    if (n === 0) return;
    if (pos >= page.length) unsupported('dictionary indices missing');
    dictionaryDoubles(page, pos + 1, page.length, page[pos]!, dict as Float64Array, dst, at, n);
    return;
  }
  if (encoding !== ENC_PLAIN) unsupported(`encoding ${encoding}`);
  if (8 * n > page.length - pos) unsupported('plain values truncated');
  const src = page.subarray(pos, pos + 8 * n);
  if (!int64) {
    new Uint8Array(dst.buffer, dst.byteOffset + 8 * at, 8 * n).set(src);
    return;
  }
  idx = grow(idx, 2 * n);
  const w = idx;
  new Uint8Array(w.buffer, 0, 8 * n).set(src);
  for (let k = 0; k < n; k++) dst[at + k] = w[2 * k + 1]! * 4294967296 + (w[2 * k]! >>> 0);
}

/** `n` INT32 values from the page into dst[at…]. */
function int32s(
  physical: number,
  encoding: number,
  page: Uint8Array,
  pos: number,
  n: number,
  dict: Dict | null,
  dst: Int32Array,
  at: number,
): void {
  if (physical !== PhysicalType.INT32) unsupported('type');
  if (isDictionary(encoding)) {
    if (dict === null) return unsupported('dictionary-encoded page without a dictionary');
    if (n > 0) gatherInt32(dst, at, dict as Int32Array, dictionaryIndices(page, pos, n), n);
    return;
  }
  if (encoding !== ENC_PLAIN) unsupported(`encoding ${encoding}`);
  if (4 * n > page.length - pos) unsupported('plain values truncated');
  new Uint8Array(dst.buffer, dst.byteOffset + 4 * at, 4 * n).set(page.subarray(pos, pos + 4 * n));
}

/** out[first + i] = the next of `vals` where levels[i] is 1, else NaN (i < count). */
function expandFloat64(out: Float64Array, first: number, vals: Float64Array, levels: Int32Array, count: number): void {
  let k = 0;
  for (let i = 0; i < count; i++) out[first + i] = levels[i] !== 0 ? vals[k++]! : Number.NaN;
}

function expandInt32(out: Int32Array, first: number, vals: Int32Array, levels: Int32Array, count: number, nullValue: number): void {
  let k = 0;
  for (let i = 0; i < count; i++) out[first + i] = levels[i] !== 0 ? vals[k++]! : nullValue;
}

let scratchI32: Int32Array = new Int32Array(1024);

/** levels[0] + … + levels[count-1]: the non-null values of a page (levels are 0 or 1). */
function sum(levels: Int32Array, count: number): number {
  let n = 0;
  for (let k = 0; k < count; k++) n += levels[k]!;
  return n;
}

/**
 * Decodes one column chunk of `file` (row group `g`, column `column`) into `sink`.
 * Rows: exactly the row group's; anything unexpected throws FlatReadUnsupported.
 */
export function readColumnChunk(file: FlatFile, g: number, column: FlatColumn & { index: number }, sink: ColumnSink): void {
  const rg = file.rowGroups[g]!;
  const chunk = rg.chunks[column.index]!;
  const rows = rg.numRows;
  if (chunk.numValues !== rows) unsupported('num_values differs from the row group rows');
  const buf = file.bytes;
  const physical = column.physicalType;
  let pos = chunk.start;
  let dict: Dict | null = null;
  let done = 0;
  const first = sink.kind === 'bytesEqual' ? 0 : sink.at;
  while (done < rows) {
    if (pos >= chunk.end) unsupported('column chunk ends early');
    const r = new CompactReader(buf, pos, chunk.end);
    const h = r.struct();
    pos = r.pos;
    const type = num(h[1], 'page type');
    const size = num(h[2], 'uncompressed_page_size');
    const csize = num(h[3], 'compressed_page_size');
    if (csize < 0 || size < 0 || csize > chunk.end - pos) unsupported('page past the chunk');
    const raw = buf.subarray(pos, pos + csize);
    pos += csize;
    if (type === PAGE_DICTIONARY) {
      const dh = struct(h[7]) ?? unsupported('dictionary page header');
      const enc = num(dh[2], 'dictionary encoding');
      if (enc !== ENC_PLAIN && enc !== ENC_PLAIN_DICTIONARY) unsupported('dictionary encoding');
      if (dict !== null || done > 0) unsupported('second dictionary page');
      dict = plainDictionary(sink, physical, decompress(chunk.codec, raw, size), num(dh[1], 'dictionary num_values'));
      continue;
    }
    let count: number;
    let encoding: number;
    let page: Uint8Array;
    let valuesAt = 0;
    let levels: Int32Array | null = null;
    if (type === PAGE_DATA) {
      const dh = struct(h[5]) ?? unsupported('data page header');
      count = num(dh[1], 'num_values');
      encoding = num(dh[2], 'encoding');
      page = decompress(chunk.codec, raw, size);
      if (column.optional) {
        if (num(dh[3], 'definition_level_encoding') !== ENC_RLE) unsupported('definition level encoding');
        if (page.length < 4) unsupported('definition levels truncated');
        const len = (page[0]! | (page[1]! << 8) | (page[2]! << 16) | (page[3]! << 24)) >>> 0;
        if (len > page.length - 4 || count < 0) unsupported('definition levels truncated');
        defs = grow(defs, count);
        decodeHybrid(page, 4, 4 + len, 1, defs, count);
        levels = defs;
        valuesAt = 4 + len;
      }
    } else if (type === PAGE_DATA_V2) {
      const dh = struct(h[8]) ?? unsupported('data page v2 header');
      count = num(dh[1], 'num_values');
      encoding = num(dh[4], 'encoding');
      const defLen = num(dh[5], 'definition_levels_byte_length');
      const repLen = num(dh[6], 'repetition_levels_byte_length');
      if (repLen !== 0 || defLen < 0 || defLen > raw.length || count < 0) unsupported('levels');
      if (column.optional) {
        defs = grow(defs, count);
        decodeHybrid(raw, 0, defLen, 1, defs, count);
        levels = defs;
      } else if (defLen !== 0) unsupported('levels on a required column');
      const body = raw.subarray(defLen);
      page = dh[7] !== false ? decompress(chunk.codec, body, size - defLen) : body;
    } else {
      return unsupported(`page type ${type}`);
    }
    if (count > rows - done) unsupported('page has more values than the row group');
    // levels are 0 (null) or 1 (a value): bit width 1
    const nonNull = levels === null ? count : sum(levels, count);
    const at = first + done;
    switch (sink.kind) {
      case 'bytesEqual':
        checkBytes(sink.want, physical, encoding, page, valuesAt, nonNull, dict);
        break;
      case 'float64':
      case 'int64':
        if (nonNull === count) doubles(sink.kind === 'int64', physical, encoding, page, valuesAt, count, dict, sink.out, at);
        else {
          if (sink.kind === 'int64') unsupported('null in an int64 column');
          if (f64.length < nonNull) f64 = new Float64Array(Math.max(nonNull, 2 * f64.length));
          doubles(false, physical, encoding, page, valuesAt, nonNull, dict, f64, 0);
          expandFloat64(sink.out, at, f64, levels!, count);
        }
        break;
      case 'int32':
        if (nonNull === count) int32s(physical, encoding, page, valuesAt, count, dict, sink.out, at);
        else {
          scratchI32 = grow(scratchI32, nonNull);
          int32s(physical, encoding, page, valuesAt, nonNull, dict, scratchI32, 0);
          expandInt32(sink.out, at, scratchI32, levels!, count, sink.nullValue);
        }
        break;
    }
    done += count;
  }
  if (done !== rows) unsupported('row count');
}
