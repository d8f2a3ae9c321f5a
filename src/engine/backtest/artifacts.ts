/**
 * Run artifacts (docs/data-layout.md, docs/backtest.md): metrics.json + equity/orders/fills/trades Parquet. Every
 * byte depends only on the BacktestResult (no clock, no paths), so equal inputs give
 * byte-identical files. Nullable columns are declared nullable whatever the data, so the
 * schema never depends on the run. Numeric columns are written without dictionary encoding:
 * measured on a 100 k-bar run it halves the encode time and the files come out ~15% smaller
 * (zstd on plain values beats dictionary indices for near-unique doubles); the low-cardinality
 * strings (side, type, status, direction) keep their dictionaries. Time stamps and ids are
 * DELTA_BINARY_PACKED: the equity ts column goes from ~670 kB to ~5 kB per 100 k bars.
 */
import { join } from 'node:path';
import { open, writeFile } from 'node:fs/promises';
import { writeParquetTable, type ColumnSpec } from '../parquet/table.ts';
import { nodeAtomicFs, type AtomicFs } from '../io/atomicWrite.ts';
import { metricsJson } from './statistics.ts';
import { DIRECTION_NAMES, EV_ORDER_CANCELED, ORDER_TYPE_NAMES, SIDE_NAMES, STATUS_NAMES, type BacktestResult } from './types.ts';

export const ARTIFACT_FILES = ['metrics.json', 'equity.parquet', 'orders.parquet', 'fills.parquet', 'trades.parquet'] as const;

function names<T extends string>(codes: Uint8Array, table: readonly T[]): T[] {
  const out = new Array<T>(codes.length);
  for (let k = 0; k < codes.length; k++) out[k] = table[codes[k]!]!;
  return out;
}

function zeroIsNull(values: Int32Array): Uint8Array {
  const m = new Uint8Array(values.length);
  for (let k = 0; k < values.length; k++) m[k] = values[k] === 0 ? 1 : 0;
  return m;
}

function negativeIsNull(values: Int32Array): Uint8Array {
  const m = new Uint8Array(values.length);
  for (let k = 0; k < values.length; k++) m[k] = values[k]! < 0 ? 1 : 0;
  return m;
}

export function equityColumns(r: BacktestResult): ColumnSpec[] {
  const e = r.equity;
  return [
    { name: 'ts', type: 'timestamp_ns_utc', values: e.ts, encoding: 'delta', nullable: false },
    { name: 'close', type: 'float64', values: e.close, dictionary: false, nullable: false },
    { name: 'position', type: 'float64', values: e.position, dictionary: false, nullable: false },
    { name: 'cash', type: 'float64', values: e.cash, dictionary: false, nullable: false },
    { name: 'equity', type: 'float64', values: e.equity, dictionary: false, nullable: false },
    { name: 'drawdown', type: 'float64', values: e.drawdown, dictionary: false, nullable: false },
  ];
}

/**
 * When each canceled order was canceled (ns UTC, from the OrderCanceled events), 0 under the
 * null mask for the others: a replay needs it to know how long a limit/stop order rested.
 */
function canceledTs(r: BacktestResult): { values: Float64Array; nulls: Uint8Array } {
  const n = r.orders.length;
  const values = new Float64Array(n);
  const nulls = new Uint8Array(n).fill(1);
  const ev = r.events;
  const ts = r.bars.ts;
  for (let k = 0; k < ev.length; k++) {
    if (ev.kind[k] !== EV_ORDER_CANCELED) continue;
    const o = ev.ref[k]! - 1;
    values[o] = ts[ev.bar[k]!]!;
    nulls[o] = 0;
  }
  return { values, nulls };
}

export function orderColumns(r: BacktestResult): ColumnSpec[] {
  const o = r.orders;
  const canceled = canceledTs(r);
  return [
    { name: 'order_id', type: 'int32', values: o.orderId, encoding: 'delta', dictionary: false, nullable: false },
    { name: 'ts', type: 'timestamp_ns_utc', values: o.ts, encoding: 'delta', nullable: false },
    { name: 'side', type: 'utf8', values: names(o.side, SIDE_NAMES), nullable: false },
    { name: 'qty', type: 'float64', values: o.qty, dictionary: false, nullable: false },
    { name: 'type', type: 'utf8', values: names(o.type, ORDER_TYPE_NAMES), nullable: false },
    { name: 'limit_price', type: 'float64', values: o.limitPrice, nanIsNull: true, dictionary: false, nullable: true },
    { name: 'stop_price', type: 'float64', values: o.stopPrice, nanIsNull: true, dictionary: false, nullable: true },
    { name: 'status', type: 'utf8', values: names(o.status, STATUS_NAMES), nullable: false },
    { name: 'fill_id', type: 'int32', values: o.fillId, encoding: 'delta', nulls: zeroIsNull(o.fillId), dictionary: false, nullable: true },
    { name: 'canceled_ts', type: 'timestamp_ns_utc', values: canceled.values, nulls: canceled.nulls, encoding: 'delta', nullable: true },
  ];
}

export function fillColumns(r: BacktestResult): ColumnSpec[] {
  const f = r.fills;
  return [
    { name: 'fill_id', type: 'int32', values: f.fillId, encoding: 'delta', dictionary: false, nullable: false },
    { name: 'order_id', type: 'int32', values: f.orderId, encoding: 'delta', dictionary: false, nullable: false },
    { name: 'ts', type: 'timestamp_ns_utc', values: f.ts, encoding: 'delta', nullable: false },
    { name: 'side', type: 'utf8', values: names(f.side, SIDE_NAMES), nullable: false },
    { name: 'qty', type: 'float64', values: f.qty, dictionary: false, nullable: false },
    { name: 'price', type: 'float64', values: f.price, dictionary: false, nullable: false },
    { name: 'fee', type: 'float64', values: f.fee, dictionary: false, nullable: false },
    { name: 'slippage', type: 'float64', values: f.slippage, dictionary: false, nullable: false },
  ];
}

export function tradeColumns(r: BacktestResult): ColumnSpec[] {
  const t = r.trades;
  const openTrip = new Uint8Array(t.length);
  const exitTs = new Float64Array(t.length); // 0 under the null mask: the int64 encoder never sees NaN
  for (let k = 0; k < t.length; k++) {
    const open = t.exitTs[k]! !== t.exitTs[k]!;
    openTrip[k] = open ? 1 : 0;
    exitTs[k] = open ? 0 : t.exitTs[k]!;
  }
  return [
    { name: 'trade_id', type: 'int32', values: t.tradeId, encoding: 'delta', dictionary: false, nullable: false },
    { name: 'direction', type: 'utf8', values: names(t.direction, DIRECTION_NAMES), nullable: false },
    { name: 'qty', type: 'float64', values: t.qty, dictionary: false, nullable: false },
    { name: 'entry_ts', type: 'timestamp_ns_utc', values: t.entryTs, encoding: 'delta', nullable: false },
    { name: 'entry_price', type: 'float64', values: t.entryPrice, dictionary: false, nullable: false },
    { name: 'exit_ts', type: 'timestamp_ns_utc', values: exitTs, nulls: openTrip, encoding: 'delta', nullable: true },
    { name: 'exit_price', type: 'float64', values: t.exitPrice, nanIsNull: true, dictionary: false, nullable: true },
    { name: 'pnl', type: 'float64', values: t.pnl, nanIsNull: true, dictionary: false, nullable: true },
    { name: 'return', type: 'float64', values: t.ret, nanIsNull: true, dictionary: false, nullable: true },
    { name: 'fees', type: 'float64', values: t.fees, dictionary: false, nullable: false },
    { name: 'bars_held', type: 'int32', values: t.barsHeld, nulls: negativeIsNull(t.barsHeld), dictionary: false, nullable: true },
  ];
}

/**
 * The files go into a private temp directory that is published by one rename, so each file
 * needs no fsync of its own: they are synced together (in parallel — the filesystem batches
 * them into one journal commit) by `syncFiles` right before the rename.
 */
const deferredSync: AtomicFs = { ...nodeAtomicFs, fsync: async () => undefined };

/** Writes the five deterministic artifacts into `dir` (an existing, not-yet-published directory). */
export async function writeRunArtifacts(dir: string, r: BacktestResult): Promise<string[]> {
  const opts = (kind: string) => ({ metadata: { 'btnb.kind': kind }, fs: deferredSync });
  const files = ARTIFACT_FILES.map((f) => join(dir, f));
  // Concurrently: encoding is synchronous for run-sized tables, so this overlaps one file's I/O
  // with the next file's encode; each file's bytes are independent of the order.
  await Promise.all([
    writeFile(files[0]!, metricsJson(r.metrics)),
    writeParquetTable(files[1]!, equityColumns(r), opts('btnb.equity')),
    writeParquetTable(files[2]!, orderColumns(r), opts('btnb.orders')),
    writeParquetTable(files[3]!, fillColumns(r), opts('btnb.fills')),
    writeParquetTable(files[4]!, tradeColumns(r), opts('btnb.trades')),
  ]);
  return files;
}

/** fsyncs files (in parallel; a directory may be among them) and then the directories given, in order. */
export async function syncFiles(files: readonly string[], dirs: readonly string[] = []): Promise<void> {
  const sync = async (p: string) => {
    const fh = await open(p, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  await Promise.all(files.map(sync));
  for (const d of dirs) await sync(d);
}
