/**
 * Order matching against 1-minute bars, never at a price the strategy could not have seen:
 * an order submitted at bar j is first eligible at bar j + 1.
 * - market: fills at the bar's open (slipped).
 * - limit buy L: fills when low ≤ L, at min(open, L) (the open when it gapped through);
 *   limit sell L: when high ≥ L, at max(open, L). Limit fills are not slipped (the limit is a
 *   price guarantee) but pay fees.
 * - stop buy S: triggers when high ≥ S, at max(open, S); stop sell S: when low ≤ S, at
 *   min(open, S); then slipped like a market order.
 * Several eligible orders on one bar are processed in submission order.
 */
import type { BarSeries } from '../bars/barSeries.ts';
import type { Costs } from './types.ts';
import {
  EV_ORDER_CANCELED,
  EV_ORDER_FILLED,
  ORDER_LIMIT,
  ORDER_MARKET,
  SIDE_BUY,
  STATUS_CANCELED,
  STATUS_FILLED,
  STATUS_OPEN,
} from './types.ts';
import type { RunLog } from './runLog.ts';
import type { Portfolio } from './portfolio.ts';
import type { FillModel } from './fillModel.ts';
import { fillFee } from './feeModel.ts';

export class SimulatedExchange {
  /** Ids of open orders in submission order. */
  open = new Int32Array(16);
  openCount = 0;
  /** Σ fee and Σ |qty·price| of the fills so far, in fill order (metrics fees_total, turnover). */
  feesTotal = 0;
  turnover = 0;
  /**
   * Open of the bar being run, set by the engine for every bar: streaming the open column with
   * the closes keeps it in cache, where reading open[i] only at fills (one bar in ~25 for a
   * busy strategy) missed the cache every time, and the whole fill waited on that price.
   */
  barOpen = NaN;
  /** Called after each fill is booked (the strategy's onFill). */
  onFilled: ((fillId: number) => void) | null = null;
  private readonly bars: BarSeries;
  private readonly log: RunLog;
  private readonly portfolio: Portfolio;
  private readonly fillModel: FillModel;
  private readonly costs: Costs;

  constructor(bars: BarSeries, log: RunLog, portfolio: Portfolio, fillModel: FillModel, costs: Costs) {
    this.bars = bars;
    this.log = log;
    this.portfolio = portfolio;
    this.fillModel = fillModel;
    this.costs = costs;
  }

  submit(bar: number, side: number, qty: number, type: number, limit: number, stop: number): number {
    const id = this.log.addOrder(bar, side, qty, type, limit, stop);
    if (this.openCount === this.open.length) {
      const next = new Int32Array(this.open.length * 2);
      next.set(this.open);
      this.open = next;
    }
    this.open[this.openCount++] = id;
    return id;
  }

  /** Cancels an open order; returns false when it is not open (filled, canceled or unknown). */
  cancel(orderId: number, bar: number): boolean {
    for (let k = 0; k < this.openCount; k++) {
      if (this.open[k] !== orderId) continue;
      this.removeAt(k);
      this.log.oStatus[orderId - 1] = STATUS_CANCELED;
      this.log.event(EV_ORDER_CANCELED, bar, orderId);
      return true;
    }
    return false;
  }

  private removeAt(k: number): void {
    const open = this.open;
    const end = --this.openCount;
    for (let j = k; j < end; j++) open[j] = open[j + 1]!;
  }

  /** Matches the open orders against bar i (at its open, before the strategy sees bar i). */
  process(i: number): void {
    const log = this.log;
    const b = this.bars;
    // high/low/spread are loaded only when an order needs them: on a long series each is a
    // cache miss (the bar loop streams only the opens and closes).
    const open = this.barOpen;
    let k = 0;
    while (k < this.openCount) {
      const id = this.open[k]!;
      const o = id - 1;
      if (log.oBar[o]! >= i || log.oStatus[o] !== STATUS_OPEN) {
        k++;
        continue;
      }
      const buy = log.oSide[o] === SIDE_BUY;
      const type = log.oType[o]!;
      let ref: number;
      let slipped: boolean;
      if (type === ORDER_MARKET) {
        ref = open;
        slipped = true;
      } else if (type === ORDER_LIMIT) {
        const l = log.oLimit[o]!;
        if (buy ? b.low[i]! > l : b.high[i]! < l) {
          k++;
          continue;
        }
        ref = buy ? (open < l ? open : l) : open > l ? open : l;
        slipped = false;
      } else {
        const s = log.oStop[o]!;
        if (buy ? b.high[i]! < s : b.low[i]! > s) {
          k++;
          continue;
        }
        ref = buy ? (open > s ? open : s) : open < s ? open : s;
        slipped = true;
      }
      const price = slipped ? this.fillModel.slip(ref, buy ? 1 : -1, this.fillModel.usesSpread ? b.spreadMean[i]! : NaN) : ref;
      const qty = log.oQty[o]!;
      const fee = fillFee(this.costs, qty, price);
      const slip = (price > ref ? price - ref : ref - price) * qty;
      const fillId = log.addFill(id, i, price, fee, slip);
      this.feesTotal += fee;
      this.turnover += Math.abs(qty * price);
      log.oStatus[o] = STATUS_FILLED;
      log.oFill[o] = fillId;
      log.event(EV_ORDER_FILLED, i, id);
      this.portfolio.applyFill(fillId);
      this.removeAt(k);
      if (this.onFilled !== null) {
        this.onFilled(fillId);
        k = 0; // the callback may have canceled orders before k: rescan (untriggered ones stay untriggered)
      }
    }
  }
}
