/**
 * DBN metadata header (versions 1, 2 and 3): parsing. Layout: "DBN", version u8, length u32,
 * then `length` bytes (a 100-byte fixed part, then symbols/partial/not_found/mappings).
 * Records start at byte 8 + length, whatever the parsed size (v3 pads to a multiple of 8).
 */
import { schemaName } from './enums.ts';
import { DbnError, hexBytes } from './errors.ts';

export interface SymbolMappingInterval {
  /** UTC date as the integer YYYYMMDD, inclusive. */
  startDate: number;
  /** UTC date as the integer YYYYMMDD, exclusive. */
  endDate: number;
  /** The symbol in `stypeOut` (an instrument id as a decimal string for stype_out instrument_id). */
  symbol: string;
}

export interface SymbolMapping {
  rawSymbol: string;
  intervals: SymbolMappingInterval[];
}

export interface DbnMetadata {
  version: 1 | 2 | 3;
  dataset: string;
  /** null = mixed / none (0xFFFF). */
  schema: number | null;
  schemaName: string | null;
  /** UNIX ns, inclusive. */
  start: bigint;
  /** UNIX ns, exclusive; null when u64::MAX or 0 (none). */
  end: bigint | null;
  /** 0 = no limit. */
  limit: bigint;
  /** null = mixed / none (0xFF). */
  stypeIn: number | null;
  stypeOut: number | null;
  tsOut: boolean;
  /** 22 in v1 (implicit), the header value in v2/v3 (71 in practice). */
  symbolCstrLen: number;
  symbols: string[];
  partial: string[];
  notFound: string[];
  mappings: SymbolMapping[];
  /** Byte offset of the first record: 8 + metadata length. */
  recordsOffset: number;
}

/** Metadata larger than this is refused: the length comes from untrusted input. */
export const MAX_METADATA_LENGTH = 64 * 1024 * 1024;
/** Fixed part (100) + schema_definition_length (4) + four u32 counts. */
export const MIN_METADATA_LENGTH = 120;
export const PRELUDE_LENGTH = 8;
export const V1_SYMBOL_CSTR_LEN = 22;
const INT64_MAX = 2n ** 63n - 1n;
const U64_MAX = 0xffffffffffffffffn;

export interface Prelude {
  version: 1 | 2 | 3;
  /** Metadata length (bytes after the 8-byte prelude). */
  length: number;
}

/** True if the bytes start like a legacy DBZ file (zstd skippable frame whose payload starts "DBZ"). */
export function looksLikeDbz(b: Uint8Array): boolean {
  if (b.length < 12) return false;
  const magic = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  return (magic & 0xfffffff0) === 0x184d2a50 && b[8] === 0x44 && b[9] === 0x42 && b[10] === 0x5a;
}

export function dbzError(file: string): DbnError {
  return new DbnError(
    file,
    0,
    'DBN magic "DBN" (this is a legacy DBZ file, which is not supported; convert it with Databento\'s `dbn` tool: `dbn FILE.dbz --dbn -o FILE.dbn`)',
    `"DBZ" header`,
  );
}

/** Validates the 8-byte prelude at `b[0..8)`. `b` must hold at least 8 bytes. */
export function parsePrelude(b: Uint8Array, file: string): Prelude {
  if (b[0] !== 0x44 || b[1] !== 0x42 || b[2] !== 0x4e) {
    if (looksLikeDbz(b)) throw dbzError(file);
    throw new DbnError(file, 0, 'DBN magic "DBN" (44 42 4E)', hexBytes(b, 0, 4));
  }
  const version = b[3]!;
  if (version < 1 || version > 3) throw new DbnError(file, 3, 'DBN version 1, 2 or 3', String(version));
  const length = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  if (length < MIN_METADATA_LENGTH) {
    throw new DbnError(file, 4, `metadata length >= ${MIN_METADATA_LENGTH}`, String(length));
  }
  if (length > MAX_METADATA_LENGTH) {
    throw new DbnError(file, 4, `metadata length <= ${MAX_METADATA_LENGTH} (64 MiB cap)`, String(length));
  }
  return { version: version as 1 | 2 | 3, length };
}

/** A `{view, offset}` cursor with an end bound; every read is checked against `end`. */
class MetaCursor {
  readonly view: DataView;
  readonly bytes: Uint8Array;
  offset: number;
  readonly end: number;
  readonly file: string;
  constructor(bytes: Uint8Array, offset: number, end: number, file: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
    this.end = end;
    this.file = file;
  }
  need(n: number, what: string): void {
    if (this.offset + n > this.end) {
      throw new DbnError(
        this.file,
        this.offset,
        `${n} more metadata bytes for ${what} (metadata ends at byte ${this.end})`,
        `${this.end - this.offset}`,
      );
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.offset++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }
  cstr(len: number, what: string): string {
    this.need(len, what);
    const s = readCStr(this.bytes, this.offset, len);
    this.offset += len;
    return s;
  }
  /** A u32 count of fixed-size items; refused when the items cannot fit in what is left. */
  count(itemMinBytes: number, what: string): number {
    const at = this.offset;
    const n = this.u32(`${what} count`);
    if (n * itemMinBytes > this.end - this.offset) {
      throw new DbnError(
        this.file,
        at,
        `a ${what} count whose entries fit in the metadata (${this.end - this.offset} bytes left)`,
        String(n),
      );
    }
    return n;
  }
}

/** A NUL-padded fixed-width ASCII field, cut at the first NUL. */
export function readCStr(b: Uint8Array, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/**
 * Parses the metadata at `bytes[0 ..)`. `bytes` must hold the whole header (8 + length bytes);
 * the caller reads that much first (see `parsePrelude`).
 */
export function parseMetadata(bytes: Uint8Array, file: string): DbnMetadata {
  if (bytes.length < PRELUDE_LENGTH) {
    throw new DbnError(file, bytes.length, 'the 8-byte DBN prelude ("DBN", version, length)', `end of input after ${bytes.length} bytes`);
  }
  const { version, length } = parsePrelude(bytes, file);
  const end = PRELUDE_LENGTH + length;
  if (bytes.length < end) {
    throw new DbnError(
      file,
      bytes.length,
      `metadata of ${length} bytes (ending at byte ${end})`,
      `end of input after ${bytes.length} bytes`,
    );
  }
  const c = new MetaCursor(bytes, PRELUDE_LENGTH, end, file);
  const dataset = c.cstr(16, 'dataset');
  const schemaRaw = c.u16('schema');
  // Timestamps are ns since the epoch: beyond 2^63 (year 2262) only the end's "undefined" sentinel is valid.
  const tsField = (what: string): bigint => {
    const at = c.offset;
    const v = c.u64(what);
    if (v > INT64_MAX && v !== U64_MAX)
      throw new DbnError(file, at, `a ${what} timestamp below 2^63 ns (or the undefined sentinel 2^64 - 1)`, `${v}`);
    return v;
  };
  const start = tsField('start');
  if (start === U64_MAX) throw new DbnError(file, c.offset - 8, 'a start timestamp below 2^63 ns', `${start} (undefined)`);
  const endTs = tsField('end');
  const limit = c.u64('limit');
  let stypeIn: number;
  let stypeOut: number;
  let tsOut: number;
  let symbolCstrLen: number;
  if (version === 1) {
    c.u64('record_count');
    stypeIn = c.u8('stype_in');
    stypeOut = c.u8('stype_out');
    tsOut = c.u8('ts_out');
    symbolCstrLen = V1_SYMBOL_CSTR_LEN;
  } else {
    stypeIn = c.u8('stype_in');
    stypeOut = c.u8('stype_out');
    tsOut = c.u8('ts_out');
    const at = c.offset;
    symbolCstrLen = c.u16('symbol_cstr_len');
    if (symbolCstrLen < 1 || symbolCstrLen > 1024) {
      throw new DbnError(file, at, 'symbol_cstr_len between 1 and 1024', String(symbolCstrLen));
    }
  }
  c.offset = 108;
  const sdlAt = c.offset;
  const schemaDefinitionLength = c.u32('schema_definition_length');
  if (schemaDefinitionLength !== 0) {
    throw new DbnError(file, sdlAt, 'schema_definition_length 0 (schema definitions are not supported)', String(schemaDefinitionLength));
  }
  if (tsOut > 1) throw new DbnError(file, version === 1 ? 60 : 52, 'ts_out 0 or 1', String(tsOut));
  const L = symbolCstrLen;
  const list = (what: string): string[] => {
    const n = c.count(L, what);
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = c.cstr(L, what);
    return out;
  };
  const symbols = list('symbols');
  const partial = list('partial');
  const notFound = list('not_found');
  const nMappings = c.count(L + 4, 'mappings');
  const mappings: SymbolMapping[] = new Array(nMappings);
  for (let i = 0; i < nMappings; i++) {
    const rawSymbol = c.cstr(L, 'mapping raw_symbol');
    const nIntervals = c.count(8 + L, 'mapping intervals');
    const intervals: SymbolMappingInterval[] = new Array(nIntervals);
    for (let j = 0; j < nIntervals; j++) {
      const startDate = c.u32('interval start_date');
      const endDate = c.u32('interval end_date');
      intervals[j] = { startDate, endDate, symbol: c.cstr(L, 'interval symbol') };
    }
    mappings[i] = { rawSymbol, intervals };
  }
  const schema = schemaRaw === 0xffff ? null : schemaRaw;
  return {
    version,
    dataset,
    schema,
    schemaName: schemaName(schema),
    start,
    end: endTs === U64_MAX || endTs === 0n ? null : endTs,
    limit,
    stypeIn: stypeIn === 0xff ? null : stypeIn,
    stypeOut: stypeOut === 0xff ? null : stypeOut,
    tsOut: tsOut === 1,
    symbolCstrLen,
    symbols,
    partial,
    notFound,
    mappings,
    recordsOffset: end,
  };
}
