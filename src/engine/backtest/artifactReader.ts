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

function copyEnum(path: string, name: string, d: arrow.Data, values: readonly string[], out: Uint8Array, at: number, vector: arrow.Vector): void {
  // Dictionary-encoded or plain utf8: decode through the vector (a handful of distinct strings).
  for (let i = 0; i < d.length; i++) {
    if (!validAt(d, i)) throw new ParquetFileError(path, `row ${at + i}: column '${name}' is null, expected one of ${values.join('/')}`);
    const s = vector.get(i) as string;
    const code = values.indexOf(s);
    if (code < 0) throw new ParquetFileError(path, `row ${at + i}: column '${name}' is '${s}', expected one of ${values.join('/')}`);
    out[at + i] = code;
  }
}

/**
 * Reads `required` (error when absent) and `optional` columns of a Parquet artifact.
 * Memory ≈ the result; one row group at a time.
 */
export async function readArtifactColumns(path: string, required: Record<string, ColumnKind>, optional: Record<string, ColumnKind> = {}): Promise<ReadTable> {
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
      const vec = b.getChild(c)!;
      const d = vec.data[0]!;
      if (k.kind === 'f64') copyFloat64(d, columns[c] as Float64Array, at);
      else if (k.kind === 'i32') copyInt32(d, columns[c] as Int32Array, at, k.nullInt);
      else if (k.kind === 'enum') copyEnum(path, c, d, k.values, columns[c] as Uint8Array, at, vec);
      else {
        const out = columns[c] as Float64Array;
        copyInt64AsDouble(d, out, at);
        for (let i = 0; i < d.length; i++) if (!validAt(d, i)) out[at + i] = Number.NaN;
      }
    }
    at += b.numRows;
  }
  if (at !== rows) throw new ParquetFileError(path, `read ${at} rows, the footer says ${rows}`);
  return { rows, columns, missing };
}
