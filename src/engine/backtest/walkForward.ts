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
import { runBacktest, normalizeCosts } from './engine.ts';
import { applySession } from './session.ts';
import { computeMetrics } from './statistics.ts';
import { metricScore } from './grid.ts';
import { parseParams, StrategyParamsError, type StrategyDefinition } from './strategy.ts';
import type { Costs, FillColumns, Metrics, Session, TradeColumns } from './types.ts';

export interface WalkForwardRequest {
  bars: BarSeries;
  strategy: StrategyDefinition;
  points: Record<string, unknown>[];
  trainDays: number;
  testDays: number;
  sortKey: string;
  seed: number;
  costs: Partial<Costs>;
  session: Session;
  onProgress?: (done: number, total: number) => void;
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
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new RangeError(`--walk-forward expects TRAIN:TEST in trading days, e.g. 20d:5d, got '${spec}'`);
  return [Number(m[1]), Number(m[2])];
}

/** Zero-copy view of bars [from, to). */
export function sliceBars(b: BarSeries, from: number, to: number): BarSeries {
  const s = <T extends Float64Array | Int32Array>(a: T) => a.subarray(from, to) as T;
  return {
    symbol: b.symbol, length: to - from, ts: s(b.ts), open: s(b.open), high: s(b.high), low: s(b.low), close: s(b.close), volume: s(b.volume),
    tradeCount: s(b.tradeCount), vwap: s(b.vwap), buyVolume: s(b.buyVolume), sellVolume: s(b.sellVolume), quoteCount: s(b.quoteCount),
    bidClose: s(b.bidClose), askClose: s(b.askClose), spreadMean: s(b.spreadMean), spreadMax: s(b.spreadMax), bidSizeMean: s(b.bidSizeMean),
    askSizeMean: s(b.askSizeMean), imbalanceMean: s(b.imbalanceMean),
  };
}

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

export function walkForward(req: WalkForwardRequest): WalkForwardResult {
  const bars = applySession(req.bars, req.session);
  const { starts, days } = dayStarts(bars.ts);
  const nDays = days.length;
  if (nDays < req.trainDays + 1) throw new RangeError(`walk-forward ${req.trainDays}d:${req.testDays}d needs more than ${req.trainDays} trading days; the dataset has ${nDays}`);
  const valid = req.points.filter((p) => {
    try { parseParams(req.strategy, p); return true; } catch (e) { if (e instanceof StrategyParamsError) return false; throw e; }
  });
  if (valid.length === 0) throw new RangeError('walk-forward: no valid grid point for this strategy');
  const costs = normalizeCosts(req.costs);
  const folds: WalkForwardFold[] = [];
  const eqParts: Float64Array[] = [];
  const posParts: Float64Array[] = [];
  const tsParts: Float64Array[] = [];
  const pnls: number[] = [];
  const fillFee: number[] = [];
  const fillQty: number[] = [];
  const fillPrice: number[] = [];
  let cash = costs.cash;
  const foldCount = Math.ceil((nDays - req.trainDays) / req.testDays);
  const total = foldCount * (valid.length + 1);
  let done = 0;
  for (let d0 = 0; d0 + req.trainDays < nDays; d0 += req.testDays) {
    const trainFrom = starts[d0]!;
    const trainTo = starts[d0 + req.trainDays]!;
    const testEndDay = Math.min(nDays, d0 + req.trainDays + req.testDays);
    const testTo = starts[testEndDay]!;
    const train = sliceBars(bars, trainFrom, trainTo);
    let best = valid[0]!;
    let bestScore = -Infinity;
    for (const p of valid) {
      const r = runBacktest(train, { strategy: req.strategy, params: p, seed: req.seed, costs, session: 'all' });
      const score = metricScore(r.metrics as unknown as Record<string, number | null>, req.sortKey);
      if (score > bestScore) { bestScore = score; best = p; }
      req.onProgress?.(++done, total);
    }
    const test = sliceBars(bars, trainTo, testTo);
    const r = runBacktest(test, { strategy: req.strategy, params: best, seed: req.seed, costs: { ...costs, cash }, session: 'all' });
    req.onProgress?.(++done, total);
    eqParts.push(r.equity.equity);
    posParts.push(r.equity.position);
    tsParts.push(r.equity.ts);
    for (let k = 0; k < r.trades.length; k++) pnls.push(r.trades.pnl[k]!);
    for (let k = 0; k < r.fills.length; k++) { fillFee.push(r.fills.fee[k]!); fillQty.push(r.fills.qty[k]!); fillPrice.push(r.fills.price[k]!); }
    const last = r.metrics.final_equity;
    folds.push({
      train_start: isoDate(days[d0]!), train_end: isoDate(days[d0 + req.trainDays - 1]!), test_start: isoDate(days[d0 + req.trainDays]!),
      test_end: isoDate(days[testEndDay - 1]!), best_params: r.params, train_score: Number.isFinite(bestScore) ? (req.sortKey === 'max_drawdown' ? -bestScore : bestScore) : null,
      test_return: last / cash - 1, test_bars: test.length,
    });
    cash = last;
  }
  const concat = (parts: Float64Array[]) => {
    const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  };
  const equity = concat(eqParts);
  const ts = concat(tsParts);
  const position = concat(posParts);
  const drawdown = new Float64Array(equity.length);
  let peak = costs.cash;
  for (let i = 0; i < equity.length; i++) { if (equity[i]! > peak) peak = equity[i]!; drawdown[i] = 1 - equity[i]! / peak; }
  const trades = { length: pnls.length, pnl: Float64Array.from(pnls) } as unknown as TradeColumns;
  const fills = { length: fillFee.length, fee: Float64Array.from(fillFee), qty: Float64Array.from(fillQty), price: Float64Array.from(fillPrice) } as unknown as FillColumns;
  const metrics = computeMetrics(costs.cash, ts, equity, position, drawdown, trades, fills);
  return { folds, metrics, equity: { ts, equity } };
}
