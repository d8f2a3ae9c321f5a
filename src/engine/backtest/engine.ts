/**
 * The backtest engine: session filter → for each bar: simulated exchange matches open orders
 * at the bar's open (fills → portfolio → onFill) → indicators update → strategy onBar →
 * portfolio marks equity at the close. Pure and deterministic: the result depends only on the
 * bars, the strategy and its params, the seed and the costs.
 */
import type { BarSeries } from '../bars/barSeries.ts';
import { applySession } from './session.ts';
import { RunLog } from './runLog.ts';
import { Portfolio } from './portfolio.ts';
import { FillModel } from './fillModel.ts';
import { SimulatedExchange } from './simulatedExchange.ts';
import { StrategyContext } from './context.ts';
import { parseParams, StrategyError, type FillInfo, type StrategyDefinition } from './strategy.ts';
import { computeMetrics } from './statistics.ts';
import { DEFAULT_COSTS, SIDE_BUY, type BacktestResult, type Costs, type Session } from './types.ts';

export interface BacktestSpec {
  strategy: StrategyDefinition;
  params?: unknown;
  seed?: number;
  costs?: Partial<Costs>;
  session?: Session;
}

/** Fills in defaults and checks every cost field; errors name the field and what was expected. */
export function normalizeCosts(costs: Partial<Costs> | undefined): Costs {
  const c: Costs = { ...DEFAULT_COSTS, ...(costs ?? {}) };
  for (const k of ['cash', 'slippage_bps', 'fee_per_unit', 'fee_bps', 'fee_min'] as const) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || c[k] < 0) throw new RangeError(`costs.${k}: expected a finite number ≥ 0, got ${String(c[k])}`);
  }
  if (!(c.cash > 0)) throw new RangeError(`costs.cash: expected a number > 0, got ${c.cash}`);
  if (!['fixed', 'half-spread', 'random'].includes(c.slippage_model)) {
    throw new RangeError(`costs.slippage_model: expected 'fixed', 'half-spread' or 'random', got ${JSON.stringify(c.slippage_model)}`);
  }
  if (c.slippage_model === 'half-spread' && c.slippage_bps !== 0) {
    throw new RangeError('costs: slippage_bps and half-spread slippage are exclusive (give one)');
  }
  return { cash: c.cash, slippage_model: c.slippage_model, slippage_bps: c.slippage_bps, fee_per_unit: c.fee_per_unit, fee_bps: c.fee_bps, fee_min: c.fee_min };
}

function isoTs(ns: number): string {
  return Number.isFinite(ns) ? new Date(Math.floor(ns / 1e6)).toISOString() : 'n/a';
}

export function runBacktest(input: BarSeries, spec: BacktestSpec): BacktestResult {
  const def = spec.strategy;
  const params = parseParams(def, spec.params);
  const costs = normalizeCosts(spec.costs);
  const seed = spec.seed ?? 0;
  const session = spec.session ?? 'all';
  const bars = applySession(input, session);
  const n = bars.length;
  if (n === 0) throw new RangeError(`no bars to run on: ${input.symbol} has ${input.length} bars, ${n} after session '${session}'`);

  const log = new RunLog();
  const portfolio = new Portfolio(costs.cash, log);
  const exchange = new SimulatedExchange(bars, log, portfolio, new FillModel(costs, seed), costs);
  const ctx = new StrategyContext(bars, portfolio, exchange, log);

  const equity = new Float64Array(n);
  const position = new Float64Array(n);
  const cash = new Float64Array(n);
  const drawdown = new Float64Array(n);
  const close = bars.close;
  let peak = costs.cash;
  let phase = 'onStart';
  let i = 0;
  try {
    const state = def.onStart ? def.onStart(ctx, params) : undefined;
    ctx.lockIndicators();
    const onFill = def.onFill;
    if (onFill) {
      const fill: FillInfo = { fillId: 0, orderId: 0, side: 'buy', qty: 0, price: 0, fee: 0, bar: 0 };
      exchange.onFilled = (fillId: number) => {
        const k = fillId - 1;
        fill.fillId = fillId;
        fill.orderId = log.fOrder.data[k]!;
        fill.side = log.fSide.data[k] === SIDE_BUY ? 'buy' : 'sell';
        fill.qty = log.fQty.data[k]!;
        fill.price = log.fPrice.data[k]!;
        fill.fee = log.fFee.data[k]!;
        fill.bar = log.fBar.data[k]!;
        phase = 'onFill';
        onFill(ctx, fill, state, params);
        phase = 'onBar';
      };
    }
    const indicators = ctx.indicators;
    const nInd = indicators.length;
    const onBar = def.onBar;
    phase = 'onBar';
    for (i = 0; i < n; i++) {
      ctx.orderBar = i;
      if (exchange.openCount > 0) exchange.process(i);
      for (let k = 0; k < nInd; k++) indicators[k]!.update(i);
      ctx.index = i;
      onBar(ctx, state, params);
      const pos = portfolio.position;
      const c = portfolio.cash;
      const e = c + pos * close[i]!;
      position[i] = pos;
      cash[i] = c;
      equity[i] = e;
      if (e > peak) peak = e;
      drawdown[i] = 1 - e / peak;
    }
    i = n - 1;
    phase = 'onEnd';
    if (def.onEnd) def.onEnd(ctx, state, params);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const where = phase === 'onStart' ? 'onStart' : `${phase} at bar ${i} (${isoTs(bars.ts[i]!)})`;
    throw new StrategyError(`strategy '${def.id}' threw in ${where}: ${msg}`, err);
  }
  portfolio.finish();

  const orders = log.orders();
  const fills = log.fills();
  const trades = log.trades();
  const metrics = computeMetrics(costs.cash, bars.ts, equity, position, drawdown, trades, fills);
  return {
    strategyId: def.id, params: params as Record<string, unknown>, session, seed, costs, bars,
    equity: { ts: bars.ts, close: bars.close, position, cash, equity, drawdown },
    orders, fills, trades, events: log.events(), metrics,
  };
}
