/**
 * Cash, one signed position, and round-trip accounting (docs/backtest.md).
 *
 * A round trip opens when the position leaves 0 and closes when it returns to 0 or changes
 * sign; a reversal fill closes one trip and opens the next, its fee split by quantity.
 * With scaling in/out, entry (exit) price is the quantity-weighted mean of the fills that grew
 * (shrank) the position, qty the total quantity opened, and
 * pnl = dir · (exit notional − entry notional) − fees, which equals the trip's cash flow.
 */
import type { RunLog } from './runLog.ts';
import { EV_POSITION_CLOSED, EV_POSITION_OPENED, SIDE_BUY } from './types.ts';

export class Portfolio {
  cash: number;
  position = 0;
  // open trip (tripId 0 = none)
  tripId = 0;
  private dir = 0;
  private entryQty = 0;
  private entryNotional = 0;
  private exitQty = 0;
  private exitNotional = 0;
  private fees = 0;
  private readonly log: RunLog;

  constructor(cash: number, log: RunLog) {
    this.cash = cash;
    this.log = log;
  }

  /**
   * Applies fill `fillId` (already in the log) to cash, position and the open trip. It takes
   * the id, not the numbers: a call that is not inlined passes a small integer, where three
   * doubles would each be boxed (one heap allocation per argument per fill).
   */
  applyFill(fillId: number): void {
    const log = this.log;
    const f = fillId - 1;
    const o = log.fOrder[f]! - 1;
    const q = log.oSide[o] === SIDE_BUY ? log.oQty[o]! : -log.oQty[o]!;
    const price = log.fPrice[f]!;
    const fee = log.fFee[f]!;
    const bar = log.fBar[f]!;
    this.cash -= q * price + fee;
    const pos = this.position;
    const absQ = q < 0 ? -q : q;
    if (pos === 0) {
      this.open(q, absQ, price, fee, bar);
    } else if (q > 0 === pos > 0) {
      this.entryQty += absQ;
      this.entryNotional += absQ * price;
      this.fees += fee;
    } else {
      const absPos = pos < 0 ? -pos : pos;
      const closing = absQ < absPos ? absQ : absPos;
      const closeFee = closing === absQ ? fee : (fee * closing) / absQ;
      this.exitQty += closing;
      this.exitNotional += closing * price;
      this.fees += closeFee;
      if (closing === absPos) {
        this.close(bar);
        if (absQ > absPos) {
          const rest = absQ - absPos;
          this.open(q > 0 ? rest : -rest, rest, price, fee - closeFee, bar);
        }
      }
    }
    this.position = pos + q;
  }

  private open(q: number, absQ: number, price: number, fee: number, bar: number): void {
    this.dir = q > 0 ? 1 : -1;
    this.tripId = this.log.addTrade(q > 0 ? 0 : 1, bar);
    this.entryQty = absQ;
    this.entryNotional = absQ * price;
    this.exitQty = 0;
    this.exitNotional = 0;
    this.fees = fee;
    this.log.event(EV_POSITION_OPENED, bar, this.tripId);
  }

  private close(bar: number): void {
    const k = this.tripId - 1;
    const log = this.log;
    log.tQty[k] = this.entryQty;
    log.tEntryPrice[k] = this.entryNotional / this.entryQty;
    log.tExitBar[k] = bar;
    log.tExitPrice[k] = this.exitNotional / this.exitQty;
    log.tPnl[k] = this.dir * (this.exitNotional - this.entryNotional) - this.fees;
    log.tFees[k] = this.fees;
    log.event(EV_POSITION_CLOSED, bar, this.tripId);
    this.tripId = 0;
  }

  /** At the end of the run: an open trip keeps null exit and pnl (left out of trade statistics). */
  finish(): void {
    if (this.tripId === 0) return;
    const k = this.tripId - 1;
    this.log.tQty[k] = this.entryQty;
    this.log.tEntryPrice[k] = this.entryNotional / this.entryQty;
    this.log.tFees[k] = this.fees;
  }
}
