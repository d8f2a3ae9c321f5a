/** Metrics exactly per docs/backtest.md, and the metrics.json encoding (key order, number form). */
import { NyDayCursor } from '../calendar/newYork.ts';
import type { Metrics, TradeColumns, FillColumns } from './types.ts';

const NS_PER_YEAR = 365.25 * 86_400 * 1e9;
const SQRT_252 = Math.sqrt(252);

/** drawdown[i] = 1 − E_i / max(E₀, E_0..i). */
export function drawdownSeries(initialCash: number, equity: Float64Array): Float64Array {
  const dd = new Float64Array(equity.length);
  let peak = initialCash;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i]!;
    if (e > peak) peak = e;
    dd[i] = 1 - e / peak;
  }
  return dd;
}

const NS_PER_MINUTE = 60e9;

/**
 * The bars whose equity closes each America/New_York date: the last bar of every date, the
 * run's last bar closing the last one (D_1 … D_m of the daily returns).
 */
export function dayEndBars(ts: Float64Array, n: number = ts.length): Int32Array {
  if (n === 0) return new Int32Array(0);
  // At most one per calendar date spanned (+2 for the DST-shifted edges).
  const out = new Int32Array(Math.min(n, Math.floor((ts[n - 1]! - ts[0]!) / 86_400e9) + 3));
  let count = 0;
  const days = new NyDayCursor();
  // Bounds of the current New York date in ns: one calendar computation per date, not per bar.
  let day = days.dayOf(ts[0]!);
  let i = 0;
  for (;;) {
    const hi = firstAtOrAfter(ts, n, i, days.endNs); // first bar after this date (or n)
    if (hi >= n) break;
    const next = days.dayOf(ts[hi]!);
    if (next !== day) {
      out[count++] = hi - 1;
      day = next;
    }
    i = hi;
  }
  out[count++] = n - 1;
  return out.subarray(0, count);
}

/**
 * First index j in (i, n] with ts[j] ≥ end (n when none), given ts[i] < end and ts sorted.
 * The first probe is where the date would end with one bar per minute (exact on gap-free
 * minute bars: one cache line per date instead of a search over a column that is not in
 * cache); from there a galloping search either way, then bisection.
 */
function firstAtOrAfter(ts: Float64Array, n: number, i: number, end: number): number {
  let p = i + Math.ceil((end - ts[i]!) / NS_PER_MINUTE);
  if (!(p > i)) p = i + 1;
  if (p > n) p = n;
  let lo: number; // ts[lo] < end
  let hi: number; // ts[hi] ≥ end, or hi = n
  if (p < n && ts[p]! < end) {
    lo = p;
    let step = 1;
    hi = p + 1;
    while (hi < n && ts[hi]! < end) {
      lo = hi;
      step *= 2;
      hi = lo + step;
    }
    if (hi > n) hi = n;
  } else {
    hi = p;
    if (ts[p - 1]! < end || p - 1 === i) return p;
    hi = p - 1;
    let step = 1;
    lo = hi - 1;
    while (lo > i && ts[lo]! >= end) {
      hi = lo;
      step *= 2;
      lo = hi - step;
    }
    if (lo < i) lo = i;
  }
  while (lo + 1 < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < end) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** r_k = D_k / D_{k−1} − 1 from the day-end equities D_1 … D_m, D_0 = E₀. */
export function returnsOfDayEnds(initialCash: number, dayEndEquity: Float64Array): Float64Array {
  const out = new Float64Array(dayEndEquity.length);
  let prevD = initialCash;
  for (let k = 0; k < out.length; k++) {
    const d = dayEndEquity[k]!;
    out[k] = d / prevD - 1;
    prevD = d;
  }
  return out;
}

/** Daily returns r_k = D_k / D_{k−1} − 1 over America/New_York dates, D_0 = E₀. */
export function dailyReturns(initialCash: number, ts: Float64Array, equity: Float64Array): Float64Array {
  const ends = dayEndBars(ts, equity.length);
  const d = new Float64Array(ends.length);
  for (let k = 0; k < ends.length; k++) d[k] = equity[ends[k]!]!;
  return returnsOfDayEnds(initialCash, d);
}

/** Per-bar aggregates the engine computes in its main loop (so metrics need no extra pass). */
export interface LoopStats {
  maxDrawdown: number;
  exposedBars: number;
  /** Σ fee and Σ |qty·price| over the fills, summed in fill order as they were booked. */
  feesTotal: number;
  turnover: number;
  /** Equity at the last bar, and at dayEndBars(ts): what metrics need of the per-bar equity. */
  finalEquity: number;
  dayEndEquity: Float64Array;
}

export function computeMetrics(
  initialCash: number,
  ts: Float64Array,
  equity: Float64Array | null,
  position: Float64Array | null,
  drawdown: Float64Array | null,
  trades: TradeColumns,
  fills: FillColumns,
  loop?: LoopStats,
): Metrics {
  if (!equity && !loop) throw new Error('computeMetrics: give the equity series or the loop statistics');
  const n = equity ? equity.length : ts.length;
  const finalEquity = loop ? loop.finalEquity : equity![n - 1]!;
  const ratio = finalEquity / initialCash;
  const years = (ts[n - 1]! - ts[0]!) / NS_PER_YEAR;
  const cagr = years > 0 && ratio > 0 ? Math.pow(ratio, 1 / years) - 1 : null;

  const r = loop ? returnsOfDayEnds(initialCash, loop.dayEndEquity) : dailyReturns(initialCash, ts, equity!);
  let volatility: number | null = null;
  let sharpe: number | null = null;
  let sortino: number | null = null;
  if (r.length > 0) {
    let sum = 0;
    for (let k = 0; k < r.length; k++) sum += r[k]!;
    const mean = sum / r.length;
    if (r.length >= 2) {
      let ss = 0;
      for (let k = 0; k < r.length; k++) ss += (r[k]! - mean) ** 2;
      const sd = Math.sqrt(ss / (r.length - 1));
      volatility = sd * SQRT_252;
      sharpe = sd > 0 ? (mean / sd) * SQRT_252 : null;
    }
    let down = 0;
    let negatives = 0;
    for (let k = 0; k < r.length; k++)
      if (r[k]! < 0) {
        down += r[k]! * r[k]!;
        negatives++;
      }
    sortino = negatives > 0 ? (mean / Math.sqrt(down / r.length)) * SQRT_252 : null;
  }

  let maxDd = 0;
  if (loop) maxDd = loop.maxDrawdown;
  else {
    const dd = drawdown ?? drawdownSeries(initialCash, equity!);
    for (let i = 0; i < n; i++) if (dd[i]! > maxDd) maxDd = dd[i]!;
  }
  const calmar = cagr !== null && maxDd > 0 ? cagr / maxDd : null;

  let closed = 0,
    wins = 0,
    losses = 0,
    winSum = 0,
    lossSum = 0,
    pnlSum = 0;
  // columns in locals: a property load per row through the result object costs more than the row
  const pnl = trades.pnl;
  const nTrades = trades.length;
  for (let k = 0; k < nTrades; k++) {
    const p = pnl[k]!;
    if (p !== p) continue; // open trip
    closed++;
    pnlSum += p;
    if (p > 0) {
      wins++;
      winSum += p;
    } else if (p < 0) {
      losses++;
      lossSum += p;
    }
  }
  let exposed = 0;
  if (loop) exposed = loop.exposedBars;
  else if (position) {
    for (let i = 0; i < n; i++) if (position[i] !== 0) exposed++;
  } else {
    throw new Error('computeMetrics: give the position series or the loop statistics');
  }
  let fees = 0,
    turnover = 0;
  if (loop) {
    fees = loop.feesTotal;
    turnover = loop.turnover;
  } else {
    const { fee, qty, price } = fills;
    const nFills = fills.length;
    for (let k = 0; k < nFills; k++) {
      fees += fee[k]!;
      turnover += Math.abs(qty[k]! * price[k]!);
    }
  }
  return {
    final_equity: finalEquity,
    total_return: ratio - 1,
    cagr,
    volatility,
    sharpe,
    sortino,
    max_drawdown: maxDd,
    calmar,
    num_trades: closed,
    win_rate: closed > 0 ? wins / closed : null,
    profit_factor: losses === 0 ? null : wins === 0 ? 0 : winSum / Math.abs(lossSum),
    avg_trade_pnl: closed > 0 ? pnlSum / closed : null,
    exposure: exposed / n,
    num_fills: fills.length,
    fees_total: fees,
    turnover,
  };
}

export const METRIC_KEYS: readonly (keyof Metrics)[] = [
  'final_equity',
  'total_return',
  'cagr',
  'volatility',
  'sharpe',
  'sortino',
  'max_drawdown',
  'calmar',
  'num_trades',
  'win_rate',
  'profit_factor',
  'avg_trade_pnl',
  'exposure',
  'num_fills',
  'fees_total',
  'turnover',
];

/** metrics.json: keys in §4 order, shortest round-trip numbers, null for undefined/non-finite. */
export function metricsJson(m: Metrics): string {
  const ordered: Record<string, number | null> = {};
  for (const k of METRIC_KEYS) {
    const v = m[k];
    ordered[k] = typeof v === 'number' && Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : null;
  }
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
