/** Public types of the backtest engine: run settings, result columns, metrics (docs/backtest.md, docs/catalog.md). */
import type { BarSeries } from '../bars/barSeries.ts';

export type Session = 'all' | 'rth';
export type SlippageModel = 'fixed' | 'half-spread' | 'random';

/**
 * Run settings that shape fills and cash (docs/backtest.md). Serialized as-is (snake_case) into the
 * canonical JSON of input_hash and into run-manifest.json `costs`. `cash` lives here so that
 * two runs differing only in starting cash never share an input_hash.
 */
export interface Costs {
  cash: number;
  slippage_model: SlippageModel;
  /** fixed: bps applied to every market/stop fill; random: the maximum of the uniform draw; half-spread: 0. */
  slippage_bps: number;
  fee_per_unit: number;
  fee_bps: number;
  fee_min: number;
}

export const DEFAULT_COSTS: Readonly<Costs> = {
  cash: 100_000,
  slippage_model: 'fixed',
  slippage_bps: 0,
  fee_per_unit: 0,
  fee_bps: 0,
  fee_min: 0,
};

export const SIDE_BUY = 0;
export const SIDE_SELL = 1;
export const ORDER_MARKET = 0;
export const ORDER_LIMIT = 1;
export const ORDER_STOP = 2;
export const STATUS_OPEN = 0;
export const STATUS_FILLED = 1;
export const STATUS_CANCELED = 2;
export const SIDE_NAMES = ['buy', 'sell'] as const;
export const ORDER_TYPE_NAMES = ['market', 'limit', 'stop'] as const;
export const STATUS_NAMES = ['open', 'filled', 'canceled'] as const;
export const DIRECTION_NAMES = ['long', 'short'] as const;

/** Event kinds of the columnar event log (NautilusTrader-style past tense). */
export const EV_ORDER_SUBMITTED = 1;
export const EV_ORDER_FILLED = 2;
export const EV_ORDER_CANCELED = 3;
export const EV_POSITION_OPENED = 4;
export const EV_POSITION_CLOSED = 5;

/** One row per bar of the session-filtered series (equity.parquet). */
export interface EquityColumns {
  ts: Float64Array;
  close: Float64Array;
  position: Float64Array;
  cash: Float64Array;
  equity: Float64Array;
  drawdown: Float64Array;
}

/** orders.parquet; ids are 1-based; NaN = null prices; fillId 0 = null. */
export interface OrderColumns {
  length: number;
  orderId: Int32Array;
  bar: Int32Array;
  ts: Float64Array;
  side: Uint8Array;
  qty: Float64Array;
  type: Uint8Array;
  limitPrice: Float64Array;
  stopPrice: Float64Array;
  status: Uint8Array;
  fillId: Int32Array;
}

export interface FillColumns {
  length: number;
  fillId: Int32Array;
  orderId: Int32Array;
  bar: Int32Array;
  ts: Float64Array;
  side: Uint8Array;
  qty: Float64Array;
  price: Float64Array;
  fee: Float64Array;
  slippage: Float64Array;
}

/** trades.parquet (round trips); an open trip at the end has NaN exit/pnl/return and barsHeld -1. */
export interface TradeColumns {
  length: number;
  tradeId: Int32Array;
  direction: Uint8Array;
  qty: Float64Array;
  entryTs: Float64Array;
  entryPrice: Float64Array;
  exitTs: Float64Array;
  exitPrice: Float64Array;
  pnl: Float64Array;
  ret: Float64Array;
  fees: Float64Array;
  barsHeld: Int32Array;
}

export interface EventColumns {
  length: number;
  kind: Uint8Array;
  bar: Int32Array;
  /** order id (order events) or trade id (position events). */
  ref: Int32Array;
}

/** docs/backtest.md, in metrics.json key order. null = undefined for that run. */
export interface Metrics {
  final_equity: number;
  total_return: number;
  cagr: number | null;
  volatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  max_drawdown: number;
  calmar: number | null;
  num_trades: number;
  win_rate: number | null;
  profit_factor: number | null;
  avg_trade_pnl: number | null;
  exposure: number;
  num_fills: number;
  fees_total: number;
  turnover: number;
}

export interface BacktestResult {
  strategyId: string;
  params: Record<string, unknown>;
  session: Session;
  seed: number;
  costs: Costs;
  /** The session-filtered bars the run saw. */
  bars: BarSeries;
  equity: EquityColumns;
  orders: OrderColumns;
  fills: FillColumns;
  trades: TradeColumns;
  events: EventColumns;
  metrics: Metrics;
}
