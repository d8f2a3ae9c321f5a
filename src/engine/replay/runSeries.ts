/**
 * A finished run, in memory as columns, for views and replay: the run's bars (OHLC from the
 * dataset's bars-1m.parquet, joined on the equity rows' ts — so a session filter or a
 * walk-forward date range needs no re-derivation), equity, fills, orders and round trips,
 * every event located at its bar index. Read once per run (views cache it); no objects per row.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dataPaths } from '../dataDir.ts';
import type { CatalogPort, RunRow } from '../ports/catalog.ts';
import { readArtifactColumns } from '../backtest/artifactReader.ts';
import { ensureRunArtifacts, MaterializeError } from '../backtest/materialize.ts';
import { DIRECTION_NAMES, ORDER_TYPE_NAMES, SIDE_NAMES, STATUS_NAMES } from '../backtest/types.ts';

export const NS_PER_MS = 1_000_000;

export interface FillSeries {
  length: number;
  fillId: Int32Array;
  orderId: Int32Array;
  bar: Int32Array;
  /** 0 buy, 1 sell (SIDE_NAMES). */
  side: Uint8Array;
  qty: Float64Array;
  price: Float64Array;
  fee: Float64Array;
  slippage: Float64Array;
  /** Signed position and its mean entry price (NaN when flat) right after each fill. */
  positionAfter: Float64Array;
  avgPriceAfter: Float64Array;
}

export interface OrderSeries {
  length: number;
  orderId: Int32Array;
  /** Bar it was submitted at. */
  bar: Int32Array;
  side: Uint8Array;
  qty: Float64Array;
  /** 0 market, 1 limit, 2 stop (ORDER_TYPE_NAMES). */
  type: Uint8Array;
  limitPrice: Float64Array;
  stopPrice: Float64Array;
  /** 0 open, 1 filled, 2 canceled (STATUS_NAMES). */
  status: Uint8Array;
  /** 0 = none. */
  fillId: Int32Array;
  /** Bar of its fill, or −1. */
  fillBar: Int32Array;
  /** Bar it was canceled at; −1 when not canceled or (runs before `canceled_ts`) unknown. */
  canceledBar: Int32Array;
  /** Indices of the canceled orders (known bar), by cancel bar then order id. */
  cancelOrder: Int32Array;
}

export interface TradeSeries {
  length: number;
  tradeId: Int32Array;
  /** 0 long, 1 short (DIRECTION_NAMES). */
  direction: Uint8Array;
  qty: Float64Array;
  entryBar: Int32Array;
  entryPrice: Float64Array;
  /** −1 while open. */
  exitBar: Int32Array;
  exitPrice: Float64Array;
  pnl: Float64Array;
  ret: Float64Array;
  fees: Float64Array;
  barsHeld: Int32Array;
}

export interface RunSeries {
  run: RunRow;
  manifest: Record<string, unknown> | null;
  symbol: string;
  length: number;
  /** Bar start, UTC epoch ms. */
  tsMs: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  /** TBBO spread_mean; NaN where the minute had no quotes. */
  spread: Float64Array;
  hasQuotes: boolean;
  /** 'dataset' normally; 'equity' when the dataset's bars are gone (OHLC then = the close). */
  barsSource: 'dataset' | 'equity';
  equity: Float64Array;
  drawdown: Float64Array;
  position: Float64Array;
  cash: Float64Array;
  initialCash: number;
  fills: FillSeries;
  orders: OrderSeries;
  trades: TradeSeries;
  /** False for runs written before orders.parquet had `canceled_ts`. */
  cancelTimesKnown: boolean;
}

export class RunDataError extends Error {
  /** inputs_changed: a light point whose strategy or bars changed since it ran (its files cannot be re-created). */
  readonly code: 'not_found' | 'not_finished' | 'bad_artifact' | 'inputs_changed';
  constructor(code: RunDataError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** Index of the bar whose ts is exactly `t` (bars sorted), or −1. */
export function barAt(tsMs: Float64Array, t: number): number {
  let lo = 0;
  let hi = tsMs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = tsMs[mid]!;
    if (v < t) lo = mid + 1;
    else if (v > t) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/** Index of the first bar at or after `t` (= length when none). */
export function barAtOrAfter(tsMs: Float64Array, t: number): number {
  let lo = 0;
  let hi = tsMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tsMs[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toMs(ns: Float64Array): Float64Array {
  const out = new Float64Array(ns.length);
  for (let i = 0; i < ns.length; i++) out[i] = ns[i]! / NS_PER_MS;
  return out;
}

function locate(path: string, what: string, tsMs: Float64Array, eventNs: Float64Array, allowNull = false): Int32Array {
  const out = new Int32Array(eventNs.length);
  for (let k = 0; k < eventNs.length; k++) {
    const t = eventNs[k]!;
    if (t !== t) {
      if (!allowNull) throw new RunDataError('bad_artifact', `${path}: row ${k}: ${what} is null`);
      out[k] = -1;
      continue;
    }
    const b = barAt(tsMs, t / NS_PER_MS);
    if (b < 0)
      throw new RunDataError(
        'bad_artifact',
        `${path}: row ${k}: ${what} ${new Date(t / NS_PER_MS).toISOString()} is not the time of a bar of the run (equity.parquet)`,
      );
    out[k] = b;
  }
  return out;
}

/** Position and mean entry price after each fill (a reversal re-enters at its price). */
function positions(f: { length: number; side: Uint8Array; qty: Float64Array; price: Float64Array }): {
  pos: Float64Array;
  avg: Float64Array;
} {
  const pos = new Float64Array(f.length);
  const avg = new Float64Array(f.length);
  let p = 0;
  let a = NaN;
  for (let k = 0; k < f.length; k++) {
    const q = f.side[k] === 0 ? f.qty[k]! : -f.qty[k]!;
    const next = p + q;
    const px = f.price[k]!;
    if (p === 0 || Math.sign(next) !== Math.sign(p))
      a = next === 0 ? NaN : px; // open, or flat/flip
    else if (Math.abs(next) > Math.abs(p)) a = (a * Math.abs(p) + px * Math.abs(q)) / Math.abs(next); // scale in
    p = next;
    pos[k] = p;
    avg[k] = a;
  }
  return { pos, avg };
}

/**
 * Position and cash after each bar's fills, replayed from the fills with the portfolio's own
 * arithmetic (cash −= signed qty × price + fee, in fill order): equal to equity.parquet's columns.
 */
function accountColumns(
  n: number,
  initialCash: number,
  f: { length: number; bar: Int32Array; side: Uint8Array; qty: Float64Array; price: Float64Array; fee: Float64Array },
): { position: Float64Array; cash: Float64Array } {
  const position = new Float64Array(n);
  const cash = new Float64Array(n);
  let p = 0;
  let c = initialCash;
  let k = 0;
  for (let i = 0; i < n; i++) {
    while (k < f.length && f.bar[k] === i) {
      const q = f.side[k] === 0 ? f.qty[k]! : -f.qty[k]!;
      c -= q * f.price[k]! + f.fee[k]!;
      p += q;
      k++;
    }
    position[i] = p;
    cash[i] = c;
  }
  return { position, cash };
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The run's bars from the dataset, aligned to the equity rows; null when unavailable or not aligned. */
async function datasetBars(
  path: string,
  tsMs: Float64Array,
): Promise<Record<'open' | 'high' | 'low' | 'volume' | 'spread' | 'close', Float64Array> | null> {
  if (!existsSync(path)) return null;
  const t = await readArtifactColumns(
    path,
    {
      ts: { kind: 'i64' },
      open: { kind: 'f64' },
      high: { kind: 'f64' },
      low: { kind: 'f64' },
      close: { kind: 'f64' },
      volume: { kind: 'i64' },
    },
    { spread_mean: { kind: 'f64' } },
  );
  const c = t.columns as Record<string, Float64Array>;
  const n = tsMs.length;
  // the common case: the run saw every bar of the dataset (session all, no date range)
  if (t.rows === n && n > 0 && c.ts![0] === tsMs[0]! * NS_PER_MS && c.ts![n - 1] === tsMs[n - 1]! * NS_PER_MS) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = c.ts![i] === tsMs[i]! * NS_PER_MS;
    if (same)
      return {
        open: c.open!,
        high: c.high!,
        low: c.low!,
        close: c.close!,
        volume: c.volume!,
        spread: c.spread_mean ?? new Float64Array(n).fill(NaN),
      };
  }
  const out = {
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    spread: new Float64Array(n).fill(NaN),
  };
  // Merge join: both sorted by ts; the run's bars are a subset of the dataset's.
  let j = 0;
  for (let i = 0; i < n; i++) {
    const want = tsMs[i]! * NS_PER_MS;
    while (j < t.rows && c.ts![j]! < want) j++;
    if (j >= t.rows || c.ts![j] !== want) return null;
    out.open[i] = c.open![j]!;
    out.high[i] = c.high![j]!;
    out.low[i] = c.low![j]!;
    out.close[i] = c.close![j]!;
    out.volume[i] = c.volume![j]!;
    if (c.spread_mean) out.spread[i] = c.spread_mean[j]!;
  }
  return out;
}

/** Writes a light point's artifacts: in process by default, in a job child where the event loop must stay free. */
export type Materializer = (dataDir: string, runId: string) => Promise<string>;

/** Loads a succeeded run's series. Errors name the run and, for bad files, the file and row. */
export async function loadRunSeries(
  dataDir: string,
  catalog: CatalogPort,
  runId: string,
  materialize: Materializer = (d, id) => ensureRunArtifacts(d, catalog, id),
): Promise<RunSeries> {
  const run = catalog.getRun(runId);
  if (!run) throw new RunDataError('not_found', `run ${runId} is not in the catalog ${catalog.path}`);
  if (run.status !== 'succeeded')
    throw new RunDataError('not_finished', `run ${runId} is ${run.status}: only a succeeded run has artifacts to show`);
  if (!run.materialized) {
    // a light sweep point: its files are re-created (deterministically) the first time it is opened
    try {
      await materialize(dataDir, runId);
    } catch (err) {
      if (err instanceof MaterializeError)
        throw new RunDataError(
          err.code === 'not_found' ? 'not_found' : err.code === 'inputs_changed' ? 'inputs_changed' : 'bad_artifact',
          err.message,
        );
      throw err;
    }
  }
  const paths = dataPaths(dataDir);
  const dir = paths.runDir(runId);
  if (!existsSync(paths.runEquity(runId)))
    throw new RunDataError('not_found', `run ${runId}: no artifacts in ${dir} (deleted, or another data directory)`);
  const manifest = await readJson(paths.runManifest(runId));
  // position and cash change only at fills: they are rebuilt from fills.parquet below rather
  // than read (a third of equity.parquet's bytes on a long run); the close comes with the bars
  const eq = await readArtifactColumns(paths.runEquity(runId), { ts: { kind: 'i64' }, equity: { kind: 'f64' }, drawdown: { kind: 'f64' } });
  const e = eq.columns as Record<string, Float64Array>;
  const tsMs = toMs(e.ts!);
  const n = eq.rows;
  const ds = await datasetBars(paths.barsParquet(run.dataset_id), tsMs);
  let bars = ds;
  if (!bars) {
    const close = (await readArtifactColumns(paths.runEquity(runId), { close: { kind: 'f64' } })).columns.close as Float64Array;
    bars = { open: close, high: close, low: close, close, volume: new Float64Array(n), spread: new Float64Array(n).fill(NaN) };
  }
  let hasQuotes = false;
  for (let i = 0; i < n && !hasQuotes; i++) hasQuotes = bars.spread[i] === bars.spread[i];

  const fp = paths.runFills(runId);
  const fr = await readArtifactColumns(fp, {
    fill_id: { kind: 'i32', nullInt: 0 },
    order_id: { kind: 'i32', nullInt: 0 },
    ts: { kind: 'i64' },
    side: { kind: 'enum', values: SIDE_NAMES },
    qty: { kind: 'f64' },
    price: { kind: 'f64' },
    fee: { kind: 'f64' },
    slippage: { kind: 'f64' },
  });
  const f = fr.columns;
  const fillBase = { length: fr.rows, side: f.side as Uint8Array, qty: f.qty as Float64Array, price: f.price as Float64Array };
  const pa = positions(fillBase);
  const fills: FillSeries = {
    ...fillBase,
    fillId: f.fill_id as Int32Array,
    orderId: f.order_id as Int32Array,
    bar: locate(fp, 'ts', tsMs, f.ts as Float64Array),
    fee: f.fee as Float64Array,
    slippage: f.slippage as Float64Array,
    positionAfter: pa.pos,
    avgPriceAfter: pa.avg,
  };

  const op = paths.runOrders(runId);
  const or = await readArtifactColumns(
    op,
    {
      order_id: { kind: 'i32', nullInt: 0 },
      ts: { kind: 'i64' },
      side: { kind: 'enum', values: SIDE_NAMES },
      qty: { kind: 'f64' },
      type: { kind: 'enum', values: ORDER_TYPE_NAMES },
      limit_price: { kind: 'f64' },
      stop_price: { kind: 'f64' },
      status: { kind: 'enum', values: STATUS_NAMES },
      fill_id: { kind: 'i32', nullInt: 0 },
    },
    { canceled_ts: { kind: 'i64' } },
  );
  const o = or.columns;
  const fillBarOf = new Int32Array(or.rows).fill(-1);
  const fillIndex = new Map<number, number>();
  for (let k = 0; k < fills.length; k++) fillIndex.set(fills.fillId[k]!, k);
  const oFill = o.fill_id as Int32Array;
  for (let k = 0; k < or.rows; k++) {
    if (oFill[k] === 0) continue;
    const fk = fillIndex.get(oFill[k]!);
    if (fk === undefined) throw new RunDataError('bad_artifact', `${op}: row ${k}: fill_id ${oFill[k]} is not in fills.parquet`);
    fillBarOf[k] = fills.bar[fk]!;
  }
  const cancelTimesKnown = !or.missing.includes('canceled_ts');
  const canceledBar = cancelTimesKnown
    ? locate(op, 'canceled_ts', tsMs, o.canceled_ts as Float64Array, true)
    : new Int32Array(or.rows).fill(-1);
  const cancelOrder = Int32Array.from([...canceledBar.keys()].filter((k) => canceledBar[k]! >= 0)).sort(
    (a, b) => canceledBar[a]! - canceledBar[b]! || a - b,
  );
  const orders: OrderSeries = {
    length: or.rows,
    orderId: o.order_id as Int32Array,
    bar: locate(op, 'ts', tsMs, o.ts as Float64Array),
    side: o.side as Uint8Array,
    qty: o.qty as Float64Array,
    type: o.type as Uint8Array,
    limitPrice: o.limit_price as Float64Array,
    stopPrice: o.stop_price as Float64Array,
    status: o.status as Uint8Array,
    fillId: oFill,
    fillBar: fillBarOf,
    canceledBar,
    cancelOrder,
  };

  const tp = paths.runTrades(runId);
  const tr = await readArtifactColumns(tp, {
    trade_id: { kind: 'i32', nullInt: 0 },
    direction: { kind: 'enum', values: DIRECTION_NAMES },
    qty: { kind: 'f64' },
    entry_ts: { kind: 'i64' },
    entry_price: { kind: 'f64' },
    exit_ts: { kind: 'i64' },
    exit_price: { kind: 'f64' },
    pnl: { kind: 'f64' },
    return: { kind: 'f64' },
    fees: { kind: 'f64' },
    bars_held: { kind: 'i32', nullInt: -1 },
  });
  const t = tr.columns;
  const trades: TradeSeries = {
    length: tr.rows,
    tradeId: t.trade_id as Int32Array,
    direction: t.direction as Uint8Array,
    qty: t.qty as Float64Array,
    entryBar: locate(tp, 'entry_ts', tsMs, t.entry_ts as Float64Array),
    entryPrice: t.entry_price as Float64Array,
    exitBar: locate(tp, 'exit_ts', tsMs, t.exit_ts as Float64Array, true),
    exitPrice: t.exit_price as Float64Array,
    pnl: t.pnl as Float64Array,
    ret: t.return as Float64Array,
    fees: t.fees as Float64Array,
    barsHeld: t.bars_held as Int32Array,
  };

  const costs = (manifest?.costs ?? run.costs) as { cash?: unknown };
  const initialCash = typeof costs.cash === 'number' ? costs.cash : 100_000;
  const { position, cash } = accountColumns(n, initialCash, fills);
  return {
    run,
    manifest,
    symbol: run.symbol ?? (typeof manifest?.symbol === 'string' ? manifest.symbol : ''),
    length: n,
    tsMs,
    open: bars.open,
    high: bars.high,
    low: bars.low,
    close: bars.close,
    volume: bars.volume,
    spread: bars.spread,
    hasQuotes,
    barsSource: ds ? 'dataset' : 'equity',
    equity: e.equity!,
    drawdown: e.drawdown!,
    position,
    cash,
    initialCash,
    fills,
    orders,
    trades,
    cancelTimesKnown,
  };
}
