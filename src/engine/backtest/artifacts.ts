/**
 * Run artifacts (contracts §1, §5): metrics.json + equity/orders/fills/trades Parquet. Every
 * byte depends only on the BacktestResult (no clock, no paths), so equal inputs give
 * byte-identical files. Nullable columns are declared nullable whatever the data, so the
 * schema never depends on the run.
 */
import { join } from 'node:path';
import { open, writeFile } from 'node:fs/promises';
import { writeParquetTable, type ColumnSpec } from '../parquet/table.ts';
import { nodeAtomicFs, type AtomicFs } from '../io/atomicWrite.ts';
import { metricsJson } from './statistics.ts';
import { DIRECTION_NAMES, ORDER_TYPE_NAMES, SIDE_NAMES, STATUS_NAMES, type BacktestResult } from './types.ts';

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
    { name: 'ts', type: 'timestamp_ns_utc', values: e.ts, nullable: false },
    { name: 'close', type: 'float64', values: e.close, nullable: false },
    { name: 'position', type: 'float64', values: e.position, nullable: false },
    { name: 'cash', type: 'float64', values: e.cash, nullable: false },
    { name: 'equity', type: 'float64', values: e.equity, nullable: false },
    { name: 'drawdown', type: 'float64', values: e.drawdown, nullable: false },
  ];
}

export function orderColumns(r: BacktestResult): ColumnSpec[] {
  const o = r.orders;
  return [
    { name: 'order_id', type: 'int32', values: o.orderId, nullable: false },
    { name: 'ts', type: 'timestamp_ns_utc', values: o.ts, nullable: false },
    { name: 'side', type: 'utf8', values: names(o.side, SIDE_NAMES), nullable: false },
    { name: 'qty', type: 'float64', values: o.qty, nullable: false },
    { name: 'type', type: 'utf8', values: names(o.type, ORDER_TYPE_NAMES), nullable: false },
    { name: 'limit_price', type: 'float64', values: o.limitPrice, nanIsNull: true, nullable: true },
    { name: 'stop_price', type: 'float64', values: o.stopPrice, nanIsNull: true, nullable: true },
    { name: 'status', type: 'utf8', values: names(o.status, STATUS_NAMES), nullable: false },
    { name: 'fill_id', type: 'int32', values: o.fillId, nulls: zeroIsNull(o.fillId), nullable: true },
  ];
}

export function fillColumns(r: BacktestResult): ColumnSpec[] {
  const f = r.fills;
  return [
    { name: 'fill_id', type: 'int32', values: f.fillId, nullable: false },
    { name: 'order_id', type: 'int32', values: f.orderId, nullable: false },
    { name: 'ts', type: 'timestamp_ns_utc', values: f.ts, nullable: false },
    { name: 'side', type: 'utf8', values: names(f.side, SIDE_NAMES), nullable: false },
    { name: 'qty', type: 'float64', values: f.qty, nullable: false },
    { name: 'price', type: 'float64', values: f.price, nullable: false },
    { name: 'fee', type: 'float64', values: f.fee, nullable: false },
    { name: 'slippage', type: 'float64', values: f.slippage, nullable: false },
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
    { name: 'trade_id', type: 'int32', values: t.tradeId, nullable: false },
    { name: 'direction', type: 'utf8', values: names(t.direction, DIRECTION_NAMES), nullable: false },
    { name: 'qty', type: 'float64', values: t.qty, nullable: false },
    { name: 'entry_ts', type: 'timestamp_ns_utc', values: t.entryTs, nullable: false },
    { name: 'entry_price', type: 'float64', values: t.entryPrice, nullable: false },
    { name: 'exit_ts', type: 'timestamp_ns_utc', values: exitTs, nulls: openTrip, nullable: true },
    { name: 'exit_price', type: 'float64', values: t.exitPrice, nanIsNull: true, nullable: true },
    { name: 'pnl', type: 'float64', values: t.pnl, nanIsNull: true, nullable: true },
    { name: 'return', type: 'float64', values: t.ret, nanIsNull: true, nullable: true },
    { name: 'fees', type: 'float64', values: t.fees, nullable: false },
    { name: 'bars_held', type: 'int32', values: t.barsHeld, nulls: negativeIsNull(t.barsHeld), nullable: true },
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
  await writeFile(files[0]!, metricsJson(r.metrics));
  await writeParquetTable(files[1]!, equityColumns(r), opts('btnb.equity'));
  await writeParquetTable(files[2]!, orderColumns(r), opts('btnb.orders'));
  await writeParquetTable(files[3]!, fillColumns(r), opts('btnb.fills'));
  await writeParquetTable(files[4]!, tradeColumns(r), opts('btnb.trades'));
  return files;
}

/** fsyncs files (in parallel) and then the directories given. */
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
