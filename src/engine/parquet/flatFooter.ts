/**
 * The footer of a flat Parquet file (FileMetaData, read with the Thrift compact protocol): its
 * leaf columns, key/value metadata and the byte range of every column chunk of every row group.
 * Only a flat schema (the root and its primitive children) with every chunk in this file and no
 * encryption is taken; anything else throws FlatReadUnsupported (the caller uses parquet-wasm).
 *
 * Format: https://parquet.apache.org/docs/file-format/ (parquet.thrift).
 */
import { unsupported } from './errors.ts';
import { CompactReader, list, num, optNum, struct, text, type TStruct } from './thriftCompact.ts';

/** Parquet physical types (parquet.thrift `Type`). */
export const PhysicalType = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
} as const;

export interface FlatColumn {
  name: string;
  physicalType: number;
  optional: boolean;
  /** parquet.thrift LogicalType as parsed (field id → value), if any. */
  logicalType: TStruct | undefined;
  convertedType: number | undefined;
}

export interface ChunkMeta {
  codec: number;
  numValues: number;
  /** Byte range of the chunk's pages (dictionary page first, if any). */
  start: number;
  end: number;
}

export interface FlatFile {
  bytes: Uint8Array;
  numRows: number;
  createdBy: string | undefined;
  keyValue: Map<string, string>;
  /** Leaf columns by name (a flat schema: the root and its primitive children only). */
  columns: Map<string, FlatColumn & { index: number }>;
  rowGroups: { numRows: number; chunks: ChunkMeta[] }[];
}

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1

export function parseFooter(bytes: Uint8Array): FlatFile {
  const n = bytes.length;
  if (n < 12) unsupported('too short for Parquet');
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i] || bytes[n - 4 + i] !== MAGIC[i]) unsupported('no PAR1 magic');
  const len = (bytes[n - 8]! | (bytes[n - 7]! << 8) | (bytes[n - 6]! << 16) | (bytes[n - 5]! << 24)) >>> 0;
  if (len > n - 12) unsupported('footer length out of range');
  const fmd = new CompactReader(bytes, n - 8 - len, n - 8).struct();
  if (fmd[8] !== undefined) unsupported('encryption');
  const schema = list(fmd[2]).map((s) => struct(s) ?? unsupported('schema element'));
  const root = schema[0] ?? unsupported('empty schema');
  const leaves = num(root[5], 'root num_children');
  if (leaves !== schema.length - 1) unsupported('nested schema');
  const columns = new Map<string, FlatColumn & { index: number }>();
  for (let i = 1; i < schema.length; i++) {
    const s = schema[i]!;
    if (s[5] !== undefined && s[5] !== 0) unsupported('nested schema');
    const name = text(s[4]) ?? unsupported('column name');
    const repetition = num(s[3], `column '${name}' repetition`);
    if (repetition !== 0 && repetition !== 1) unsupported(`column '${name}' is repeated`);
    if (columns.has(name)) unsupported(`duplicate column '${name}'`);
    columns.set(name, {
      index: i - 1,
      name,
      physicalType: num(s[1], `column '${name}' type`),
      optional: repetition === 1,
      logicalType: struct(s[10]),
      convertedType: optNum(s[6]),
    });
  }
  const keyValue = new Map<string, string>();
  for (const kv of list(fmd[5])) {
    const e = struct(kv);
    const k = text(e?.[1]);
    if (k !== undefined) keyValue.set(k, text(e?.[2]) ?? '');
  }
  const rowGroups = list(fmd[4]).map((g) => {
    const rg = struct(g) ?? unsupported('row group');
    const chunks = list(rg[1]).map((c): ChunkMeta => {
      const cc = struct(c) ?? unsupported('column chunk');
      if (cc[1] !== undefined) unsupported('column data in another file');
      const md = struct(cc[3]) ?? unsupported('column chunk without metadata');
      if (list(md[3]).length !== 1) unsupported('nested column path');
      const data = num(md[9], 'data_page_offset');
      const dict = optNum(md[11]);
      const start = dict !== undefined && dict > 0 && dict < data ? dict : data;
      const size = num(md[7], 'total_compressed_size');
      if (start < 4 || size < 0 || start + size > n - 8 - len) unsupported('column chunk out of range');
      return { codec: num(md[4], 'codec'), numValues: num(md[5], 'num_values'), start, end: start + size };
    });
    if (chunks.length !== columns.size) unsupported('row group column count');
    return { numRows: num(rg[3], 'row group num_rows'), chunks };
  });
  return { bytes, numRows: num(fmd[3], 'num_rows'), createdBy: text(fmd[6]), keyValue, columns, rowGroups };
}
