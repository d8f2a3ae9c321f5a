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
import { computeMetrics, dayEndBars, drawdownSeries } from './statistics.ts';
import { SIDE_BUY, type BacktestResult, type Costs, type EquityColumns, type Session } from './types.ts';
import { toCosts, type CostsInput } from './costs.ts';

export interface BacktestSpec {
  strategy: StrategyDefinition;
  params?: unknown;
  seed?: number;
  /** Any form costs.ts accepts (a partial input, or a run's stored Costs). */
  costs?: CostsInput | Costs;
  session?: Session;
}

/** First row k ≥ 1 with !(ts[k] ≥ ts[k − 1]) (out of order or NaN), or −1 when sorted. */
export function firstUnsorted(ts: Float64Array, n: number): number {
  let k = 1;
  // Four comparisons per branch: the check streams the whole ts column, and one
  // well-predicted branch per row made it branch-bound (about 3× slower on 10 M rows).
  for (; k + 3 < n; k += 4) {
    const p = ts[k - 1]!,
      a = ts[k]!,
      b = ts[k + 1]!,
      c = ts[k + 2]!,
      d = ts[k + 3]!;
    if (!(a >= p && b >= a && c >= b && d >= c)) break;
  }
  for (; k < n; k++) if (!(ts[k]! >= ts[k - 1]!)) return k;
  return -1;
}

function isoTs(ns: number): string {
  return Number.isFinite(ns) ? new Date(Math.floor(ns / 1e6)).toISOString() : 'n/a';
}

/**
 * An equity level at or above which e / peak ≥ minRatio for sure: peak·minRatio moved 2^-50
 * (relative) towards +∞, past the rounding of the product, so the bound is never too low.
 */
function ratioLimit(peak: number, minRatio: number): number {
  const p = peak * minRatio;
  return p > 0 ? p * (1 + 2 ** -50) : p * (1 - 2 ** -50);
}

/**
 * One run, steppable: `start()`, then `runBars(from, to)` over consecutive ranges, then
 * `finish()`. `runBacktest` does it in one go; `runBacktestAsync` yields to the event loop
 * between slices so signals (cancellation) are handled during long runs — same result either way.
 */
export class BacktestEngine {
  readonly bars: BarSeries;
  readonly n: number;
  private readonly def: StrategyDefinition;
  private readonly params: unknown;
  private readonly costs: Costs;
  private readonly seed: number;
  private readonly session: Session;
  private readonly log: RunLog;
  private readonly portfolio: Portfolio;
  private readonly exchange: SimulatedExchange;
  private readonly ctx: StrategyContext;
  private peak: number;
  /** Equity at the close of the last bar run. */
  private lastEquity: number;
  /** Lowest equity / running peak so far (1 = no drawdown yet); max drawdown = 1 − minRatio. */
  private minRatio = 1;
  private exposedBars = 0;
  private state: unknown;
  private phase = 'onStart';
  private i = 0;

  constructor(input: BarSeries, spec: BacktestSpec) {
    this.def = spec.strategy;
    this.params = parseParams(this.def, spec.params);
    this.costs = toCosts(spec.costs);
    this.seed = spec.seed ?? 0;
    this.session = spec.session ?? 'all';
    const ts = input.ts;
    // Every rule here (next bar, daily closes) assumes time order; refuse anything else.
    const k = firstUnsorted(ts, input.length);
    if (k > 0)
      throw new RangeError(
        `bars of ${input.symbol} are not sorted by ts: row ${k} (${isoTs(ts[k]!)}) comes after row ${k - 1} (${isoTs(ts[k - 1]!)})`,
      );
    const bars = applySession(input, this.session);
    const n = bars.length;
    if (n === 0) throw new RangeError(`no bars to run on: ${input.symbol} has ${input.length} bars, ${n} after session '${this.session}'`);
    this.bars = bars;
    this.n = n;
    this.log = new RunLog(bars.ts);
    this.portfolio = new Portfolio(this.costs.cash, this.log);
    this.exchange = new SimulatedExchange(bars, this.log, this.portfolio, new FillModel(this.costs, this.seed), this.costs);
    // the input and session key the indicator series shared across runs (indicatorCache.ts)
    this.ctx = new StrategyContext(bars, this.portfolio, this.exchange, this.log, { bars: input, session: this.session });
    this.peak = this.costs.cash;
    this.lastEquity = this.costs.cash;
  }

  private fail(err: unknown): never {
    const msg = err instanceof Error ? err.message : String(err);
    const where = this.phase === 'onStart' ? 'onStart' : `${this.phase} at bar ${this.i} (${isoTs(this.bars.ts[this.i]!)})`;
    throw new StrategyError(`strategy '${this.def.id}' threw in ${where}: ${msg}`, err);
  }

  start(): void {
    const { def, ctx, log, params } = this;
    try {
      this.state = def.onStart ? def.onStart(ctx, params) : undefined;
    } catch (err) {
      this.fail(err);
    }
    ctx.lockIndicators();
    const onFill = def.onFill;
    if (onFill) {
      const fill: FillInfo = { fillId: 0, orderId: 0, side: 'buy', qty: 0, price: 0, fee: 0, bar: 0 };
      this.exchange.onFilled = (fillId: number) => {
        const k = fillId - 1;
        fill.fillId = fillId;
        const o = log.fOrder[k]! - 1;
        fill.orderId = o + 1;
        fill.side = log.oSide[o] === SIDE_BUY ? 'buy' : 'sell';
        fill.qty = log.oQty[o]!;
        fill.price = log.fPrice[k]!;
        fill.fee = log.fFee[k]!;
        fill.bar = log.fBar[k]!;
        this.phase = 'onFill';
        onFill(ctx, fill, this.state, params);
        this.phase = 'onBar';
      };
    }
    this.phase = 'onBar';
  }

  /** The hot loop over bars [from, to): locals only, no allocation per bar. */
  runBars(from: number, to: number): void {
    const { ctx, exchange, portfolio, state, params } = this;
    const close = this.bars.close;
    const open = this.bars.open;
    const indicators = ctx.indicators;
    const nInd = indicators.length;
    const onBar = this.def.onBar;
    let peak = this.peak;
    let minRatio = this.minRatio;
    let lim = ratioLimit(peak, minRatio);
    let exposed = this.exposedBars;
    let e = this.lastEquity;
    let i = from;
    try {
      for (; i < to; i++) {
        ctx.orderBar = i;
        exchange.barOpen = open[i]!;
        if (exchange.openCount > 0) exchange.process(i);
        for (let k = 0; k < nInd; k++) indicators[k]!.update(i);
        ctx.index = i;
        onBar(ctx, state, params);
        // Position and cash change only at fills: the per-bar position, cash and equity series
        // are replayed from the fill log on demand (equityColumns) and metrics need only the
        // day-end equities, so the loop stores nothing per bar (writing a fresh 8·n-byte column
        // cost more in page faults than the rest of the loop).
        const pos = portfolio.position;
        e = portfolio.cash + pos * close[i]!;
        if (pos !== 0) exposed++;
        // max(1 − e/peak) is 1 − min(e/peak) (x ↦ 1 − x rounds monotonically), and e ≥ lim
        // guarantees e/peak ≥ minRatio: the division runs only at a new low of e/peak.
        if (e > peak) {
          peak = e;
          lim = ratioLimit(peak, minRatio);
        } else if (!(e >= lim)) {
          const r = e / peak;
          if (r < minRatio) {
            minRatio = r;
            lim = ratioLimit(peak, minRatio);
          }
        }
      }
    } catch (err) {
      this.i = i;
      this.fail(err);
    }
    this.peak = peak;
    this.lastEquity = e;
    this.minRatio = minRatio;
    this.exposedBars = exposed;
    this.i = to - 1;
  }

  finish(): BacktestResult {
    const { def, ctx, log, costs, bars } = this;
    this.phase = 'onEnd';
    this.i = this.n - 1;
    try {
      if (def.onEnd) def.onEnd(ctx, this.state, this.params);
    } catch (err) {
      this.fail(err);
    }
    this.portfolio.finish();
    const orders = log.orders();
    const fills = log.fills();
    const trades = log.trades();
    const dayEndEquity = equityAtBars(log, costs.cash, bars.close, dayEndBars(bars.ts, this.n));
    const metrics = computeMetrics(costs.cash, bars.ts, null, null, null, trades, fills, {
      maxDrawdown: 1 - this.minRatio,
      exposedBars: this.exposedBars,
      feesTotal: this.exchange.feesTotal,
      turnover: this.exchange.turnover,
      finalEquity: this.lastEquity,
      dayEndEquity,
    });
    return {
      strategyId: def.id,
      params: this.params as Record<string, unknown>,
      session: this.session,
      seed: this.seed,
      costs,
      bars,
      equity: equityColumns(bars, log, costs.cash),
      orders,
      fills,
      trades,
      events: log.events(),
      metrics,
    };
  }
}

/**
 * Position, cash and equity per bar, replayed from the fill log in order with the portfolio's
 * own arithmetic (cash −= q·price + fee; position += q; equity = cash + position·close), so
 * every value is bit-identical to what the portfolio held, and the loop computed, at that
 * bar's close. A fill at bar i happened at its open: included at i.
 */
export function replaySeries(
  log: RunLog,
  initialCash: number,
  close: Float64Array,
  n: number,
): { position: Float64Array; cash: Float64Array; equity: Float64Array } {
  const position = new Float64Array(n);
  const cash = new Float64Array(n);
  const equity = new Float64Array(n);
  const { fBar, fOrder, fPrice, fFee, oSide, oQty } = log;
  const nFills = log.fillCount;
  let pos = 0;
  let c = initialCash;
  let k = 0;
  let next = nFills > 0 ? fBar[0]! : n;
  for (let i = 0; i < n; i++) {
    while (next === i) {
      const o = fOrder[k]! - 1;
      const q = oSide[o] === SIDE_BUY ? oQty[o]! : -oQty[o]!;
      c -= q * fPrice[k]! + fFee[k]!;
      pos += q;
      next = ++k < nFills ? fBar[k]! : n;
    }
    position[i] = pos;
    cash[i] = c;
    equity[i] = c + pos * close[i]!;
  }
  return { position, cash, equity };
}

/** Equity at the close of each of `at` (ascending bars), replayed from the fills as in replaySeries. */
export function equityAtBars(log: RunLog, initialCash: number, close: Float64Array, at: Int32Array): Float64Array {
  const out = new Float64Array(at.length);
  const { fBar, fOrder, fPrice, fFee, oSide, oQty } = log;
  const nFills = log.fillCount;
  let pos = 0;
  let c = initialCash;
  let k = 0;
  for (let j = 0; j < at.length; j++) {
    const bar = at[j]!;
    for (; k < nFills && fBar[k]! <= bar; k++) {
      const o = fOrder[k]! - 1;
      const q = oSide[o] === SIDE_BUY ? oQty[o]! : -oQty[o]!;
      c -= q * fPrice[k]! + fFee[k]!;
      pos += q;
    }
    out[j] = c + pos * close[bar]!;
  }
  return out;
}

/**
 * Position, cash, equity and drawdown series are built on first access: artifacts need them;
 * metrics, sweeps and benchmarks do not.
 */
function equityColumns(bars: BarSeries, log: RunLog, initialCash: number): EquityColumns {
  let dd: Float64Array | null = null;
  let series: { position: Float64Array; cash: Float64Array; equity: Float64Array } | null = null;
  const replay = () => (series ??= replaySeries(log, initialCash, bars.close, bars.length));
  return {
    ts: bars.ts,
    close: bars.close,
    get equity(): Float64Array {
      return replay().equity;
    },
    get position(): Float64Array {
      return replay().position;
    },
    get cash(): Float64Array {
      return replay().cash;
    },
    get drawdown(): Float64Array {
      dd ??= drawdownSeries(initialCash, replay().equity);
      return dd;
    },
  };
}

export function runBacktest(input: BarSeries, spec: BacktestSpec): BacktestResult {
  const engine = new BacktestEngine(input, spec);
  engine.start();
  // A short first slice gives V8 type feedback for the whole of runBars (including the code
  // after the loop) before the long slice is optimised on-stack; one long call would be
  // deoptimised at its end and re-warmed on the next run.
  const warm = Math.min(engine.n, 2048);
  engine.runBars(0, warm);
  engine.runBars(warm, engine.n);
  return engine.finish();
}

export class RunCanceledError extends Error {
  override name = 'AbortError';
  constructor() {
    super('the backtest was canceled');
  }
}

/**
 * Same result as runBacktest, but yields to the event loop about every `sliceMs` (checked
 * every 256 bars) so SIGTERM/cancel handlers run; throws RunCanceledError once `signal` aborts.
 */
export async function runBacktestAsync(
  input: BarSeries,
  spec: BacktestSpec,
  opts: { signal?: AbortSignal; sliceMs?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<BacktestResult> {
  const engine = new BacktestEngine(input, spec);
  const sliceMs = opts.sliceMs ?? 50;
  const check = () => {
    if (opts.signal?.aborted) throw new RunCanceledError();
  };
  check();
  engine.start();
  const n = engine.n;
  let from = 0;
  let last = performance.now();
  while (from < n) {
    const to = Math.min(n, from + 256);
    engine.runBars(from, to);
    from = to;
    if (performance.now() - last >= sliceMs) {
      opts.onProgress?.(from, n);
      await new Promise<void>((r) => setImmediate(r));
      check();
      last = performance.now();
    }
  }
  check();
  return engine.finish();
}
