/**
 * bars-1m.parquet (docs/bars.md) ↔ BarSeries. Column types are exactly the contract's:
 * ts INT64 TIMESTAMP(NANOS, UTC); symbol STRING; prices/means DOUBLE; volume, buy_volume,
 * sell_volume INT64; trade_count INT32; quote_count INT32 (nullable, -1 in memory);
 * quote doubles and imbalance_mean nullable (NaN in memory). OHLC, vwap and counts are
 * required (non-null) columns: a NaN there is a derive bug and is refused, naming the row.
 */
import type * as arrow from 'apache-arrow';
import { allocBarSeries, BAR_COLUMNS, type BarSeries } from '../bars/barSeries.ts';
import { copyFloat64, copyInt32, copyInt64AsDouble, validAt, type ColumnSpec, type ColumnType } from './arrowChunks.ts';
import { ParquetFileError, parquetFileInfo, readParquetBatches, writeParquetTable, type WriteTableOptions } from './table.ts';

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

/** Reads bars-1m.parquet into a BarSeries (row group by row group; memory ≈ the result). */
export async function readBarsParquet(path: string): Promise<BarSeries> {
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
