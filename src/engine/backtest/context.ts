/**
 * What a strategy sees: the current bar (and earlier ones), its position, cash, equity, order
 * methods and indicator factories. Field accessors take `ago` (0 = current bar); asking for a
 * future bar throws (no look-ahead).
 */
import type { BarSeries } from '../bars/barSeries.ts';
import type { Portfolio } from './portfolio.ts';
import type { SimulatedExchange } from './simulatedExchange.ts';
import type { RunLog } from './runLog.ts';
import { Atr, Bollinger, type BollingerBands, Ema, type Indicator, RollingExtreme, Rsi, Sma } from './indicators.ts';
import { type IndicatorSource, sharedBands, sharedIndicator } from './indicatorCache.ts';
import { ORDER_LIMIT, ORDER_MARKET, ORDER_STOP, SIDE_BUY, SIDE_SELL } from './types.ts';

export type PriceField = 'open' | 'high' | 'low' | 'close' | 'vwap' | 'volume' | 'spreadMean' | 'bidClose' | 'askClose' | 'imbalanceMean';
export interface OrderOptions {
  /** limit price: a limit order (buy fills at ≤ limit, sell at ≥ limit). */
  limit?: number;
  /** stop price: a stop (market-on-trigger) order. */
  stop?: number;
}

const ATR_FIELDS = ['high', 'low', 'close'] as const;

export class StrategyContext {
  /** Current bar index (0-based, over the session-filtered series). */
  index = 0;
  /**
   * Bar whose time stamps new orders: the current bar in onBar; in onFill (at bar i's open,
   * while `index` still shows the last completed bar i − 1) it is i, so those orders fill from i + 1.
   */
  orderBar = 0;
  readonly length: number;
  readonly symbol: string;
  /** Indicators update before each onBar; only creatable in onStart. */
  readonly indicators: Indicator[] = [];
  private started = false;
  private readonly bars: BarSeries;
  private readonly portfolio: Portfolio;
  private readonly exchange: SimulatedExchange;
  private readonly log: RunLog;
  /** The input `bars` were filtered from (the indicator cache's key). */
  private readonly source: IndicatorSource;

  /** `source`: the unfiltered input and the session that gave `bars` (default: bars, 'all'). */
  constructor(bars: BarSeries, portfolio: Portfolio, exchange: SimulatedExchange, log: RunLog, source?: IndicatorSource) {
    this.bars = bars;
    this.source = source ?? { bars, session: 'all' };
    this.length = bars.length;
    this.symbol = bars.symbol;
    this.portfolio = portfolio;
    this.exchange = exchange;
    this.log = log;
  }

  /** Called by the engine after onStart. */
  lockIndicators(): void {
    this.started = true;
  }

  get isLastBar(): boolean {
    return this.index === this.length - 1;
  }
  /** Signed position (units; > 0 long, < 0 short). */
  get position(): number {
    return this.portfolio.position;
  }
  get cash(): number {
    return this.portfolio.cash;
  }
  /** Mark-to-market equity at the current bar's close. */
  get equity(): number {
    return this.portfolio.cash + this.portfolio.position * this.bars.close[this.index]!;
  }
  get openOrderCount(): number {
    return this.exchange.openCount;
  }

  private at(col: Float64Array, ago: number): number {
    if (ago < 0 || ago !== Math.floor(ago))
      throw new RangeError(`bar access: ago must be a non-negative integer (no look-ahead), got ${ago}`);
    const k = this.index - ago;
    return k >= 0 ? col[k]! : NaN;
  }
  /** Bar start, ns UTC. */
  ts(ago = 0): number {
    return this.at(this.bars.ts, ago);
  }
  open(ago = 0): number {
    return ago === 0 ? this.bars.open[this.index]! : this.at(this.bars.open, ago);
  }
  high(ago = 0): number {
    return ago === 0 ? this.bars.high[this.index]! : this.at(this.bars.high, ago);
  }
  low(ago = 0): number {
    return ago === 0 ? this.bars.low[this.index]! : this.at(this.bars.low, ago);
  }
  close(ago = 0): number {
    return ago === 0 ? this.bars.close[this.index]! : this.at(this.bars.close, ago);
  }
  volume(ago = 0): number {
    return this.at(this.bars.volume, ago);
  }
  vwap(ago = 0): number {
    return this.at(this.bars.vwap, ago);
  }
  buyVolume(ago = 0): number {
    return this.at(this.bars.buyVolume, ago);
  }
  sellVolume(ago = 0): number {
    return this.at(this.bars.sellVolume, ago);
  }
  /** TBBO aggregates: NaN when the minute has no quotes (or the dataset no TBBO source). */
  bidClose(ago = 0): number {
    return this.at(this.bars.bidClose, ago);
  }
  askClose(ago = 0): number {
    return this.at(this.bars.askClose, ago);
  }
  spreadMean(ago = 0): number {
    return this.at(this.bars.spreadMean, ago);
  }
  spreadMax(ago = 0): number {
    return this.at(this.bars.spreadMax, ago);
  }
  bidSizeMean(ago = 0): number {
    return this.at(this.bars.bidSizeMean, ago);
  }
  askSizeMean(ago = 0): number {
    return this.at(this.bars.askSizeMean, ago);
  }
  imbalanceMean(ago = 0): number {
    return this.at(this.bars.imbalanceMean, ago);
  }

  /** Submits a buy; fills from the next bar on. Returns the order id. */
  buy(qty: number, opts?: OrderOptions): number {
    return this.submit(SIDE_BUY, qty, opts);
  }
  sell(qty: number, opts?: OrderOptions): number {
    return this.submit(SIDE_SELL, qty, opts);
  }
  /** Signed-quantity order (> 0 buy, < 0 sell). */
  order(signedQty: number, opts?: OrderOptions): number {
    return this.submit(signedQty > 0 ? SIDE_BUY : SIDE_SELL, signedQty > 0 ? signedQty : -signedQty, opts);
  }
  /** Market order for target − position − (open market orders); returns its id, or 0 when nothing to do. */
  targetPosition(target: number): number {
    let pending = 0;
    const log = this.log;
    for (let k = 0; k < this.exchange.openCount; k++) {
      const o = this.exchange.open[k]! - 1;
      if (log.oType[o] === ORDER_MARKET) pending += log.oSide[o] === SIDE_BUY ? log.oQty[o]! : -log.oQty[o]!;
    }
    const delta = target - this.portfolio.position - pending;
    return delta === 0 ? 0 : this.order(delta);
  }
  cancel(orderId: number): boolean {
    return this.exchange.cancel(orderId, this.orderBar);
  }
  cancelAll(): void {
    while (this.exchange.openCount > 0) this.exchange.cancel(this.exchange.open[0]!, this.orderBar);
  }

  private submit(side: number, qty: number, opts: OrderOptions | undefined): number {
    if (!(qty > 0) || !Number.isFinite(qty)) throw new RangeError(`order quantity must be a finite number > 0, got ${qty}`);
    let type = ORDER_MARKET;
    let limit = NaN;
    let stop = NaN;
    if (opts !== undefined) {
      if (opts.limit !== undefined && opts.stop !== undefined) throw new RangeError('an order takes a limit or a stop price, not both');
      if (opts.limit !== undefined) {
        if (!(opts.limit > 0) || !Number.isFinite(opts.limit))
          throw new RangeError(`limit price must be finite and > 0, got ${opts.limit}`);
        type = ORDER_LIMIT;
        limit = opts.limit;
      } else if (opts.stop !== undefined) {
        if (!(opts.stop > 0) || !Number.isFinite(opts.stop)) throw new RangeError(`stop price must be finite and > 0, got ${opts.stop}`);
        type = ORDER_STOP;
        stop = opts.stop;
      }
    }
    return this.exchange.submit(this.orderBar, side, qty, type, limit, stop);
  }

  /**
   * A factory's new incremental instance goes to the cache (indicatorCache.ts), which hands back
   * a reader of the series shared by every run over the same input (computed with this instance
   * on a miss), or the instance itself.
   */
  private add(fresh: Indicator, n: number, what: string, key: string, fields: readonly string[]): Indicator {
    return this.register(sharedIndicator(this.check(fresh, n, what), this.length, this.source, key, fields));
  }
  private check<T extends Indicator>(ind: T, n: number, what: string): T {
    if (this.started) throw new Error(`${what}: indicators can only be created in onStart`);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what}: period must be an integer ≥ 1, got ${n}`);
    return ind;
  }
  private register<T extends Indicator>(ind: T): T {
    this.indicators.push(ind);
    return ind;
  }
  private src(field: PriceField): Float64Array {
    const col = (this.bars as unknown as Record<string, unknown>)[field];
    if (!(col instanceof Float64Array)) throw new RangeError(`unknown bar field '${field}'`);
    return col;
  }
  sma(n: number, field: PriceField = 'close'): Indicator {
    return this.add(new Sma(this.src(field), n), n, `sma(${n})`, `sma ${n}`, [field]);
  }
  ema(n: number, field: PriceField = 'close'): Indicator {
    return this.add(new Ema(this.src(field), n), n, `ema(${n})`, `ema ${n}`, [field]);
  }
  rsi(n: number, field: PriceField = 'close'): Indicator {
    return this.add(new Rsi(this.src(field), n), n, `rsi(${n})`, `rsi ${n}`, [field]);
  }
  atr(n: number): Indicator {
    return this.add(new Atr(this.bars.high, this.bars.low, this.bars.close, n), n, `atr(${n})`, `atr ${n}`, ATR_FIELDS);
  }
  bollinger(n: number, k = 2, field: PriceField = 'close'): BollingerBands {
    const fresh = this.check(new Bollinger(this.src(field), n, k), n, `bollinger(${n})`);
    return this.register(sharedBands(fresh, this.length, this.source, `bollinger ${n}`, field, k));
  }
  highest(n: number, field: PriceField = 'high'): Indicator {
    return this.add(new RollingExtreme(this.src(field), n, 1), n, `highest(${n})`, `highest ${n}`, [field]);
  }
  lowest(n: number, field: PriceField = 'low'): Indicator {
    return this.add(new RollingExtreme(this.src(field), n, -1), n, `lowest(${n})`, `lowest ${n}`, [field]);
  }
}
