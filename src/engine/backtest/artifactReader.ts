/**
 * Run artifacts back into columns (the inverse of artifacts.ts): typed arrays per column, low-
 * cardinality strings as codes into a fixed table. Nulls: NaN in float columns, `nullInt` in
 * integer columns. A column the file lacks is reported, not invented, so readers of older runs
 * (orders.parquet before `canceled_ts`) can fall back explicitly.
 */
import type * as arrow from 'apache-arrow';
import { copyFloat64, copyInt32, copyInt64AsDouble, validAt } from '../parquet/arrowChunks.ts';
import { ParquetFileError, parquetFileInfo, readParquetBatches } from '../parquet/table.ts';

export type ColumnKind =
  | { kind: 'f64' }
  /** int64 or timestamp → double (exact for ns minute stamps and ids below 2^53); null → NaN. */
  | { kind: 'i64' }
  | { kind: 'i32'; nullInt: number }
  | { kind: 'enum'; values: readonly string[] };

export type ReadColumn = Float64Array | Int32Array | Uint8Array;

export interface ReadTable {
  rows: number;
  columns: Record<string, ReadColumn>;
  /** Requested optional columns that the file does not have. */
  missing: string[];
}

const utf8 = new TextDecoder();

/**
 * Low-cardinality strings → codes without a string per row: a dictionary column maps its few
 * dictionary entries once and then copies indices; a plain utf8 column compares bytes.
 */
function copyEnum(path: string, name: string, d: arrow.Data, values: readonly string[], out: Uint8Array, at: number): void {
  const expected = `expected one of ${values.join('/')}`;
  const nullRow = () => {
    for (let i = 0; i < d.length; i++) if (!validAt(d, i)) return i;
    return -1;
  };
  if (d.nullCount > 0) throw new ParquetFileError(path, `row ${at + nullRow()}: column '${name}' is null, ${expected}`);
  const dict = d.dictionary?.data[0];
  const strings = dict ?? d;
  const offs = strings.valueOffsets as Int32Array;
  const bytes = strings.values as Uint8Array;
  const decode = (k: number) => utf8.decode(bytes.subarray(offs[strings.offset + k], offs[strings.offset + k + 1]));
  if (dict) {
    const map = new Int16Array(dict.length);
    for (let k = 0; k < dict.length; k++) map[k] = values.indexOf(decode(k));
    const idx = d.values as Int32Array | Uint32Array | Int16Array | Int8Array;
    for (let i = 0; i < d.length; i++) {
      const code = map[idx[d.offset + i]!]!;
      if (code < 0) throw new ParquetFileError(path, `row ${at + i}: column '${name}' is '${decode(idx[d.offset + i]!)}', ${expected}`);
      out[at + i] = code;
    }
    return;
  }
  const enc = values.map((v) => new TextEncoder().encode(v));
  for (let i = 0; i < d.length; i++) {
    const a = offs[d.offset + i]!;
    const len = offs[d.offset + i + 1]! - a;
    let code = -1;
    for (let c = 0; c < enc.length && code < 0; c++) {
      const e = enc[c]!;
      if (e.length !== len) continue;
      let k = 0;
      while (k < len && bytes[a + k] === e[k]) k++;
      if (k === len) code = c;
    }
    if (code < 0) throw new ParquetFileError(path, `row ${at + i}: column '${name}' is '${decode(i)}', ${expected}`);
    out[at + i] = code;
  }
}

/**
 * Reads `required` (error when absent) and `optional` columns of a Parquet artifact.
 * Memory ≈ the result; one row group at a time.
 */
export async function readArtifactColumns(
  path: string,
  required: Record<string, ColumnKind>,
  optional: Record<string, ColumnKind> = {},
): Promise<ReadTable> {
  const info = await parquetFileInfo(path);
  const names = new Set(info.schema.fields.map((f) => f.name));
  for (const c of Object.keys(required)) if (!names.has(c)) throw new ParquetFileError(path, `missing column '${c}'`);
  const missing = Object.keys(optional).filter((c) => !names.has(c));
  const wanted: Record<string, ColumnKind> = { ...required };
  for (const [c, k] of Object.entries(optional)) if (names.has(c)) wanted[c] = k;
  const rows = info.rows;
  const columns: Record<string, ReadColumn> = {};
  for (const [c, k] of Object.entries(wanted)) {
    columns[c] = k.kind === 'i32' ? new Int32Array(rows) : k.kind === 'enum' ? new Uint8Array(rows) : new Float64Array(rows);
  }
  let at = 0;
  for await (const b of readParquetBatches(path, { columns: Object.keys(wanted) })) {
    if (at + b.numRows > rows) throw new ParquetFileError(path, `more rows than the footer's ${rows}`);
    for (const [c, k] of Object.entries(wanted)) {
      const d = b.getChild(c)!.data[0]!;
      if (k.kind === 'f64') copyFloat64(d, columns[c] as Float64Array, at);
      else if (k.kind === 'i32') copyInt32(d, columns[c] as Int32Array, at, k.nullInt);
      else if (k.kind === 'enum') copyEnum(path, c, d, k.values, columns[c] as Uint8Array, at);
      else {
        const out = columns[c] as Float64Array;
        copyInt64AsDouble(d, out, at);
        if (d.nullCount > 0) for (let i = 0; i < d.length; i++) if (!validAt(d, i)) out[at + i] = Number.NaN;
      }
    }
    at += b.numRows;
  }
  if (at !== rows) throw new ParquetFileError(path, `read ${at} rows, the footer says ${rows}`);
  return { rows, columns, missing };
}
