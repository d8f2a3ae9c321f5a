/**
 * bars-1m.parquet (docs/bars.md) ↔ BarSeries. Column types are exactly the contract's:
 * ts INT64 TIMESTAMP(NANOS, UTC); symbol STRING; prices/means DOUBLE; volume, buy_volume,
 * sell_volume INT64; trade_count INT32; quote_count INT32 (nullable, -1 in memory);
 * quote doubles and imbalance_mean nullable (NaN in memory). OHLC, vwap and counts are
 * required (non-null) columns: a NaN there is a derive bug and is refused, naming the row.
 */
import type * as arrow from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import { allocBarSeries, BAR_COLUMNS, type BarSeries } from '../bars/barSeries.ts';
import type { ColumnSpec, ColumnType } from './arrowChunks.ts';
import { FlatReadUnsupported, ParquetFileError } from './errors.ts';
import { parseFooter, PhysicalType, type FlatColumn } from './flatFooter.ts';
import { readColumnChunk, type ColumnSink } from './flatReader.ts';
import type { WriteTableOptions } from './table.ts';

type Field = keyof Omit<BarSeries, 'symbol' | 'length'>;

/** Contract column → (in-memory field, Parquet type, nullable). Order = BAR_COLUMNS. */
export const BAR_LAYOUT: readonly { column: (typeof BAR_COLUMNS)[number]; field: Field | 'symbol'; type: ColumnType; nullable: boolean }[] =
  [
    { column: 'ts', field: 'ts', type: 'timestamp_ns_utc', nullable: false },
    { column: 'symbol', field: 'symbol', type: 'utf8', nullable: false },
    { column: 'open', field: 'open', type: 'float64', nullable: false },
    { column: 'high', field: 'high', type: 'float64', nullable: false },
    { column: 'low', field: 'low', type: 'float64', nullable: false },
    { column: 'close', field: 'close', type: 'float64', nullable: false },
    { column: 'volume', field: 'volume', type: 'int64', nullable: false },
    { column: 'trade_count', field: 'tradeCount', type: 'int32', nullable: false },
    { column: 'vwap', field: 'vwap', type: 'float64', nullable: false },
    { column: 'buy_volume', field: 'buyVolume', type: 'int64', nullable: false },
    { column: 'sell_volume', field: 'sellVolume', type: 'int64', nullable: false },
    { column: 'quote_count', field: 'quoteCount', type: 'int32', nullable: true },
    { column: 'bid_close', field: 'bidClose', type: 'float64', nullable: true },
    { column: 'ask_close', field: 'askClose', type: 'float64', nullable: true },
    { column: 'spread_mean', field: 'spreadMean', type: 'float64', nullable: true },
    { column: 'spread_max', field: 'spreadMax', type: 'float64', nullable: true },
    { column: 'bid_size_mean', field: 'bidSizeMean', type: 'float64', nullable: true },
    { column: 'ask_size_mean', field: 'askSizeMean', type: 'float64', nullable: true },
    { column: 'imbalance_mean', field: 'imbalanceMean', type: 'float64', nullable: true },
  ];

export const BARS_PARQUET_KIND = 'btnb.bars-1m';
export const BARS_PARQUET_LAYOUT_VERSION = '1';

/**
 * Means are continuous (nearly every value distinct): dictionary encoding there costs encode
 * time and then falls back to plain anyway. Prices on a tick grid and counts keep it.
 */
const CONTINUOUS = new Set(['vwap', 'spread_mean', 'bid_size_mean', 'ask_size_mean', 'imbalance_mean']);

/** A ColumnSpec[] view of a BarSeries (no copies; the symbol column is one repeated string). */
export function barColumnSpecs(bars: BarSeries): ColumnSpec[] {
  const n = bars.length;
  return BAR_LAYOUT.map((l): ColumnSpec => {
    if (l.field === 'symbol') {
      return { name: l.column, type: 'utf8', values: { length: n }, constant: bars.symbol, nullable: false };
    }
    const arr = bars[l.field];
    if (arr.length < n) throw new Error(`bars: ${l.field} has ${arr.length} values, expected ${n}`);
    const values = arr.length === n ? arr : arr.subarray(0, n);
    if (l.field === 'quoteCount') {
      const nulls = new Uint8Array(n);
      let any = false;
      for (let i = 0; i < n; i++)
        if ((values as Int32Array)[i]! < 0) {
          nulls[i] = 1;
          any = true;
        }
      return { name: l.column, type: l.type, values, nulls: any ? nulls : undefined, nullable: true };
    }
    return { name: l.column, type: l.type, values, nanIsNull: l.nullable, nullable: l.nullable, dictionary: !CONTINUOUS.has(l.column) };
  });
}

function checkBars(path: string, bars: BarSeries): void {
  if (typeof bars.symbol !== 'string' || bars.symbol === '') throw new ParquetFileError(path, 'bars: symbol must be a non-empty string');
  const { ts, open, high, low, close, vwap } = bars;
  for (let i = 0; i < bars.length; i++) {
    const t = ts[i]!;
    if (!Number.isInteger(t) || t % 60_000_000_000 !== 0)
      throw new ParquetFileError(path, `bars row ${i}: ts ${t} is not a whole minute in ns`);
    if (i > 0 && !(t > ts[i - 1]!))
      throw new ParquetFileError(path, `bars row ${i}: ts ${t} is not after row ${i - 1} (${ts[i - 1]}); bars must be sorted and unique`);
    if (Number.isNaN(open[i]!) || Number.isNaN(high[i]!) || Number.isNaN(low[i]!) || Number.isNaN(close[i]!) || Number.isNaN(vwap[i]!)) {
      throw new ParquetFileError(path, `bars row ${i}: open/high/low/close/vwap must not be NaN (non-nullable columns)`);
    }
  }
}

/** Writes `bars` to `path` atomically (temp + rename), zstd, exact contract types, deterministic bytes. */
export async function writeBarsParquet(path: string, bars: BarSeries, opts: Omit<WriteTableOptions, 'metadata'> = {}): Promise<void> {
  checkBars(path, bars);
  const { writeParquetTable } = await import('./table.ts');
  await writeParquetTable(path, barColumnSpecs(bars), {
    ...opts,
    metadata: { 'btnb.kind': BARS_PARQUET_KIND, 'btnb.layout_version': BARS_PARQUET_LAYOUT_VERSION, 'btnb.symbol': bars.symbol },
  });
}

function expectType(path: string, f: arrow.Field | undefined, column: string, type: ColumnType): void {
  if (!f) throw new ParquetFileError(path, `missing column '${column}' (bars-1m.parquet needs ${BAR_COLUMNS.join(', ')})`);
  const t = f.type as arrow.DataType & { unit?: number; timezone?: string | null; bitWidth?: number; precision?: number };
  const s = String(f.type);
  const ok =
    type === 'timestamp_ns_utc'
      ? s.startsWith('Timestamp<NANOSECOND') && (t.timezone === 'UTC' || t.timezone === '+00:00')
      : type === 'float64'
        ? s === 'Float64'
        : type === 'int64'
          ? s === 'Int64'
          : type === 'int32'
            ? s === 'Int32'
            : type === 'utf8'
              ? s === 'Utf8' || s === 'LargeUtf8' || s.startsWith('Dictionary<Int')
              : s === 'Bool';
  const want = {
    timestamp_ns_utc: 'TIMESTAMP(NANOS, UTC)',
    float64: 'DOUBLE',
    int64: 'INT64',
    int32: 'INT32',
    utf8: 'STRING',
    bool: 'BOOLEAN',
  }[type];
  if (!ok) throw new ParquetFileError(path, `column '${column}' has type ${s}, expected ${want}`);
}

const encoder = new TextEncoder();

/** First row of a utf8 Data whose bytes differ from `want`, or -1 (no string objects built). */
function firstUtf8Mismatch(d: arrow.Data, want: Uint8Array): number {
  const offs = d.valueOffsets as Int32Array;
  const bytes = d.values as Uint8Array;
  const n = want.length;
  for (let i = 0; i < d.length; i++) {
    const a = offs[d.offset + i]!;
    if (offs[d.offset + i + 1]! - a !== n) return i;
    for (let k = 0; k < n; k++) if (bytes[a + k] !== want[k]) return i;
  }
  return -1;
}

/**
 * Reads bars-1m.parquet into a BarSeries: a file btnb wrote is decoded by flatReader.ts straight
 * into the columns (memory ≈ the file + the result); anything else — a foreign or damaged
 * file, or one that cannot be read — goes through parquet-wasm (`readBarsParquetWasm`), whose
 * checks and messages are the contract's. Both give the same series (a test compares them).
 */
export async function readBarsParquet(path: string): Promise<BarSeries> {
  let bytes: Uint8Array | null = null;
  try {
    bytes = await readFile(path);
  } catch {
    // the full reader says why the file cannot be opened, naming it
  }
  if (bytes !== null) {
    try {
      const bars = readBarsFlat(bytes);
      if (bars !== null) return bars;
    } catch {
      // never worse than the full reader: it reads (or refuses) what this one could not
    }
  }
  return readBarsParquetWasm(path);
}

const NANOS = 3; // parquet.thrift TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS
const CONVERTED_UTF8 = 0;
const CONVERTED_INT_32 = 17;
const CONVERTED_INT_64 = 18;

/** Does a Parquet leaf column carry exactly the contract type `type` (as writeBarsParquet writes it)? */
function contractType(c: FlatColumn, type: ColumnType): boolean {
  const lt = c.logicalType;
  const intOf = (bits: number) => {
    const it = lt?.[10] as { 1?: unknown; 2?: unknown } | undefined;
    return lt === undefined || (it !== undefined && it[1] === bits && it[2] === true && Object.keys(lt).length === 1);
  };
  switch (type) {
    case 'timestamp_ns_utc': {
      const ts = lt?.[8] as { 1?: unknown; 2?: Record<number, unknown> } | undefined;
      return c.physicalType === PhysicalType.INT64 && ts?.[1] === true && ts[2]?.[NANOS] !== undefined;
    }
    case 'utf8':
      return c.physicalType === PhysicalType.BYTE_ARRAY && (lt?.[1] !== undefined || c.convertedType === CONVERTED_UTF8);
    case 'float64':
      return c.physicalType === PhysicalType.DOUBLE && lt === undefined && c.convertedType === undefined;
    case 'int64':
      return c.physicalType === PhysicalType.INT64 && intOf(64) && (c.convertedType === undefined || c.convertedType === CONVERTED_INT_64);
    case 'int32':
      return c.physicalType === PhysicalType.INT32 && intOf(32) && (c.convertedType === undefined || c.convertedType === CONVERTED_INT_32);
    case 'bool':
      return false;
  }
}

/**
 * The bars of a bars-1m.parquet that btnb wrote (its `btnb.kind`, the contract's Parquet types
 * and nullability, the symbol in the metadata), decoded without parquet-wasm; null when the file
 * is anything else (then `readBarsParquet` uses the full reader).
 */
export function readBarsFlat(bytes: Uint8Array): BarSeries | null {
  try {
    const file = parseFooter(bytes);
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(file.keyValue.get('btnb.metadata') ?? '{}') as Record<string, unknown>;
    } catch {
      return null;
    }
    const symbol = meta['btnb.symbol'];
    if (meta['btnb.kind'] !== BARS_PARQUET_KIND || typeof symbol !== 'string') return null;
    const columns = BAR_LAYOUT.map((l) => {
      const c = file.columns.get(l.column);
      if (c === undefined || c.optional !== l.nullable || !contractType(c, l.type)) throw new FlatReadUnsupported(`column ${l.column}`);
      return c;
    });
    let rows = 0;
    for (const g of file.rowGroups) rows += g.numRows;
    if (rows !== file.numRows || rows > 0x7fffffff) return null;
    const bars = allocBarSeries(symbol, rows);
    const want = encoder.encode(symbol);
    let at = 0;
    for (let g = 0; g < file.rowGroups.length; g++) {
      for (let i = 0; i < BAR_LAYOUT.length; i++) {
        const l = BAR_LAYOUT[i]!;
        let sink: ColumnSink;
        if (l.field === 'symbol') sink = { kind: 'bytesEqual', want };
        else if (l.type === 'int32') sink = { kind: 'int32', out: bars[l.field] as Int32Array, at, nullValue: -1 };
        else sink = { kind: l.type === 'float64' ? 'float64' : 'int64', out: bars[l.field] as Float64Array, at };
        readColumnChunk(file, g, columns[i]!, sink);
      }
      at += file.rowGroups[g]!.numRows;
    }
    return bars;
  } catch (err) {
    if (err instanceof FlatReadUnsupported) return null;
    throw err;
  }
}

/** Reads bars-1m.parquet into a BarSeries with parquet-wasm (row group by row group; memory ≈ the result). */
export async function readBarsParquetWasm(path: string): Promise<BarSeries> {
  const [{ parquetFileInfo, readParquetBatches }, { copyFloat64, copyInt32, copyInt64AsDouble, validAt }] = await Promise.all([
    import('./table.ts'),
    import('./arrowChunks.ts'),
  ]);
  const info = await parquetFileInfo(path);
  for (const l of BAR_LAYOUT)
    expectType(
      path,
      info.schema.fields.find((f) => f.name === l.column),
      l.column,
      l.type,
    );
  let symbol: string | null = info.metadata['btnb.symbol'] ?? null;
  const bars = allocBarSeries(symbol ?? '', info.rows);
  let at = 0;
  for await (const b of readParquetBatches(path, { columns: BAR_LAYOUT.map((l) => l.column) })) {
    if (at + b.numRows > info.rows) throw new ParquetFileError(path, `more rows than the footer's ${info.rows}`);
    for (const l of BAR_LAYOUT) {
      const d = b.getChild(l.column)!.data[0]!;
      if (!l.nullable && d.nullCount > 0) {
        let r = 0;
        while (validAt(d, r)) r++;
        throw new ParquetFileError(path, `row ${at + r}: column '${l.column}' is null but must not be`);
      }
      if (l.field === 'symbol') {
        if (symbol === null && b.numRows > 0) symbol = b.getChild('symbol')!.get(0) as string;
        const bad = firstUtf8Mismatch(d, encoder.encode(symbol ?? ''));
        if (bad >= 0)
          throw new ParquetFileError(
            path,
            `row ${at + bad}: symbol '${b.getChild('symbol')!.get(bad)}' differs from '${symbol}' (one symbol per bars file)`,
          );
      } else if (l.type === 'timestamp_ns_utc' || l.type === 'int64') {
        copyInt64AsDouble(d, bars[l.field] as Float64Array, at);
      } else if (l.type === 'int32') {
        copyInt32(d, bars[l.field] as Int32Array, at, -1);
      } else {
        copyFloat64(d, bars[l.field] as Float64Array, at);
      }
    }
    at += b.numRows;
  }
  if (at !== info.rows) throw new ParquetFileError(path, `read ${at} rows, the footer says ${info.rows}`);
  bars.symbol = symbol ?? '';
  return bars;
}
