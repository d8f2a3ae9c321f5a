/**
 * Walk-forward optimisation: split the (session-filtered) bars into New York trading days;
 * for each fold, evaluate every grid point on `train` days, pick the best by the sort metric,
 * run it out of sample on the next `test` days, then move forward by `test` days. The
 * out-of-sample runs are stitched: each starts flat with the previous fold's final equity as
 * cash (an open position at a fold's end is marked to market, not traded), and the §4 metrics
 * are computed over the stitched equity with E₀ = the initial cash.
 */
import type { BarSeries } from '../bars/barSeries.ts';
import { NyDayCursor, isoDate } from '../calendar/newYork.ts';
import { runBacktest } from '../backtest/engine.ts';
import { toCosts, type CostsInput } from '../backtest/costs.ts';
import { sliceBars } from '../backtest/sliceBars.ts';
import { applySession } from '../backtest/session.ts';
import { computeMetrics } from '../backtest/statistics.ts';
import { metricScore } from './grid.ts';
import { parseParams, StrategyParamsError, type StrategyDefinition } from '../backtest/strategy.ts';
import type { BacktestResult, Costs, FillColumns, Metrics, Session, TradeColumns } from '../backtest/types.ts';

/** What a walk-forward optimises and how (shared by the in-memory and the catalog/worker paths). */
export interface WalkForwardPlan {
  points: Record<string, unknown>[];
  trainDays: number;
  testDays: number;
  sortKey: string;
  seed: number;
  costs: CostsInput | Costs;
  session: Session;
  onProgress?: (done: number, total: number) => void;
}

export interface WalkForwardRequest extends WalkForwardPlan {
  bars: BarSeries;
  strategy: StrategyDefinition;
}

export interface WalkForwardFold {
  train_start: string;
  train_end: string;
  test_start: string;
  test_end: string;
  best_params: Record<string, unknown>;
  train_score: number | null;
  test_return: number;
  test_bars: number;
  /** The fold's out-of-sample catalog run (cataloged walk-forward only). */
  run_id?: string;
}

export interface WalkForwardResult {
  folds: WalkForwardFold[];
  metrics: Metrics;
  /** Stitched out-of-sample equity (ts ns UTC as numbers). */
  equity: { ts: Float64Array; equity: Float64Array };
}

/** `20d:5d` (trading days) → [20, 5]. */
export function parseWalkForward(spec: string): [number, number] {
  const m = /^(\d+)d?:(\d+)d?$/.exec(spec);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
    throw new RangeError(`--walk-forward expects TRAIN:TEST in trading days, e.g. 20d:5d, got '${spec}'`);
  return [Number(m[1]), Number(m[2])];
}

export { sliceBars } from '../backtest/sliceBars.ts';

/** Start index of each New York date, plus the end sentinel. */
function dayStarts(ts: Float64Array): { starts: number[]; days: number[] } {
  const cursor = new NyDayCursor();
  const starts: number[] = [];
  const days: number[] = [];
  let last = NaN;
  for (let i = 0; i < ts.length; i++) {
    const d = cursor.dayOf(ts[i]!);
    if (d !== last) {
      starts.push(i);
      days.push(d);
      last = d;
    }
  }
  starts.push(ts.length);
  return { starts, days };
}

/** One fold: in-sample bars [trainFrom, trainTo), out-of-sample [trainTo, testTo) of the session-filtered series. */
export interface FoldPlan {
  trainFrom: number;
  trainTo: number;
  testTo: number;
  trainStart: string;
  trainEnd: string;
  testStart: string;
  testEnd: string;
}

/** Folds by New York trading days of the session-filtered bars: train days, then the next test days, rolled by test days. */
export function planFolds(sessionBars: BarSeries, trainDays: number, testDays: number): FoldPlan[] {
  const { starts, days } = dayStarts(sessionBars.ts);
  const nDays = days.length;
  if (nDays < trainDays + 1)
    throw new RangeError(`walk-forward ${trainDays}d:${testDays}d needs more than ${trainDays} trading days; the dataset has ${nDays}`);
  const folds: FoldPlan[] = [];
  for (let d0 = 0; d0 + trainDays < nDays; d0 += testDays) {
    const testEndDay = Math.min(nDays, d0 + trainDays + testDays);
    folds.push({
      trainFrom: starts[d0]!,
      trainTo: starts[d0 + trainDays]!,
      testTo: starts[testEndDay]!,
      trainStart: isoDate(days[d0]!),
      trainEnd: isoDate(days[d0 + trainDays - 1]!),
      testStart: isoDate(days[d0 + trainDays]!),
      testEnd: isoDate(days[testEndDay - 1]!),
    });
  }
  return folds;
}

/** Points the strategy's schema accepts, in grid order. */
export function validPoints(strategy: StrategyDefinition, points: Record<string, unknown>[]): Record<string, unknown>[] {
  const valid = points.filter((p) => {
    try {
      parseParams(strategy, p);
      return true;
    } catch (e) {
      if (e instanceof StrategyParamsError) return false;
      throw e;
    }
  });
  if (valid.length === 0) throw new RangeError('walk-forward: no valid grid point for this strategy');
  return valid;
}

/** In-sample score of one point on bars [from, to) (−Infinity when the metric is null). */
export function scorePoint(
  sessionBars: BarSeries,
  from: number,
  to: number,
  strategy: StrategyDefinition,
  params: Record<string, unknown>,
  seed: number,
  costs: Costs,
  sortKey: string,
): number {
  const r = runBacktest(sliceBars(sessionBars, from, to), { strategy, params, seed, costs, session: 'all' });
  return metricScore(r.metrics as unknown as Record<string, number | null>, sortKey);
}

/** Index of the best score; ties go to the earliest point (grid order). */
export function argBest(scores: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]!) best = k;
  return best;
}

/** Accumulates the out-of-sample runs in fold order into the stitched equity and §4 metrics. */
export class OosStitcher {
  readonly folds: WalkForwardFold[] = [];
  private readonly eqParts: Float64Array[] = [];
  private readonly posParts: Float64Array[] = [];
  private readonly tsParts: Float64Array[] = [];
  private readonly pnls: number[] = [];
  private readonly fillFee: number[] = [];
  private readonly fillQty: number[] = [];
  private readonly fillPrice: number[] = [];
  private readonly initialCash: number;
  /** Cash the next fold starts with (the previous fold's final equity). */
  cash: number;
  constructor(initialCash: number) {
    this.initialCash = initialCash;
    this.cash = initialCash;
  }

  add(plan: FoldPlan, bestScore: number, sortKey: string, r: BacktestResult, extra: Partial<WalkForwardFold> = {}): void {
    this.eqParts.push(r.equity.equity);
    this.posParts.push(r.equity.position);
    this.tsParts.push(r.equity.ts);
    for (let k = 0; k < r.trades.length; k++) this.pnls.push(r.trades.pnl[k]!);
    for (let k = 0; k < r.fills.length; k++) {
      this.fillFee.push(r.fills.fee[k]!);
      this.fillQty.push(r.fills.qty[k]!);
      this.fillPrice.push(r.fills.price[k]!);
    }
    const last = r.metrics.final_equity;
    this.folds.push({
      train_start: plan.trainStart,
      train_end: plan.trainEnd,
      test_start: plan.testStart,
      test_end: plan.testEnd,
      best_params: r.params,
      train_score: Number.isFinite(bestScore) ? (sortKey === 'max_drawdown' ? -bestScore : bestScore) : null,
      test_return: last / this.cash - 1,
      test_bars: r.equity.equity.length,
      ...extra,
    });
    this.cash = last;
  }

  finish(): WalkForwardResult {
    const concat = (parts: Float64Array[]) => {
      const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    };
    const equity = concat(this.eqParts);
    const ts = concat(this.tsParts);
    const position = concat(this.posParts);
    const drawdown = new Float64Array(equity.length);
    let peak = this.initialCash;
    for (let i = 0; i < equity.length; i++) {
      if (equity[i]! > peak) peak = equity[i]!;
      drawdown[i] = 1 - equity[i]! / peak;
    }
    const trades = { length: this.pnls.length, pnl: Float64Array.from(this.pnls) } as unknown as TradeColumns;
    const fills = {
      length: this.fillFee.length,
      fee: Float64Array.from(this.fillFee),
      qty: Float64Array.from(this.fillQty),
      price: Float64Array.from(this.fillPrice),
    } as unknown as FillColumns;
    const metrics = computeMetrics(this.initialCash, ts, equity, position, drawdown, trades, fills);
    return { folds: this.folds, metrics, equity: { ts, equity } };
  }
}

/** In-memory walk-forward in this thread (no catalog): the reference the pooled, cataloged path must match. */
export function walkForward(req: WalkForwardRequest): WalkForwardResult {
  const bars = applySession(req.bars, req.session);
  const plans = planFolds(bars, req.trainDays, req.testDays);
  const valid = validPoints(req.strategy, req.points);
  const costs = toCosts(req.costs);
  const stitch = new OosStitcher(costs.cash);
  const total = plans.length * (valid.length + 1);
  let done = 0;
  for (const plan of plans) {
    const scores = valid.map((p) => {
      const sc = scorePoint(bars, plan.trainFrom, plan.trainTo, req.strategy, p, req.seed, costs, req.sortKey);
      req.onProgress?.(++done, total);
      return sc;
    });
    const b = argBest(scores);
    const test = sliceBars(bars, plan.trainTo, plan.testTo);
    const r = runBacktest(test, {
      strategy: req.strategy,
      params: valid[b]!,
      seed: req.seed,
      costs: { ...costs, cash: stitch.cash },
      session: 'all',
    });
    req.onProgress?.(++done, total);
    stitch.add(plan, scores[b]!, req.sortKey, r);
  }
  return stitch.finish();
}
