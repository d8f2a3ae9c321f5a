/**
 * Columnar event logs of one run: orders, fills, round trips and the event stream
 * (OrderSubmitted, OrderFilled, OrderCanceled, PositionOpened, PositionClosed).
 * Appends write into growable typed arrays; nothing is allocated per event. Time stamps are
 * not stored: every event keeps its bar index and ts comes from the bars when the columns are built.
 */
import { f64, i32, u8 } from './columns.ts';
import type { EventColumns, FillColumns, OrderColumns, TradeColumns } from './types.ts';
import { EV_ORDER_SUBMITTED, STATUS_OPEN } from './types.ts';

export class RunLog {
  private readonly barTs: Float64Array;
  constructor(barTs: Float64Array) {
    this.barTs = barTs;
  }
  // orders (index = order id − 1)
  orderCount = 0;
  readonly oBar = i32();
  readonly oSide = u8();
  readonly oQty = f64();
  readonly oType = u8();
  readonly oLimit = f64();
  readonly oStop = f64();
  readonly oStatus = u8();
  readonly oFill = i32();
  // fills (index = fill id − 1)
  fillCount = 0;
  readonly fOrder = i32();
  readonly fBar = i32();
  readonly fSide = u8();
  readonly fQty = f64();
  readonly fPrice = f64();
  readonly fFee = f64();
  readonly fSlip = f64();
  // round trips (index = trade id − 1)
  tradeCount = 0;
  readonly tDir = u8();
  readonly tQty = f64();
  readonly tEntryBar = i32();
  readonly tEntryPrice = f64();
  readonly tExitBar = i32();
  readonly tExitPrice = f64();
  readonly tPnl = f64();
  readonly tFees = f64();
  // events
  eventCount = 0;
  readonly eKind = u8(256);
  readonly eBar = i32(256);
  readonly eRef = i32(256);

  event(kind: number, bar: number, ref: number): void {
    const n = this.eventCount++;
    if (n >= this.eKind.data.length) { this.eKind.ensure(n + 1); this.eBar.ensure(n + 1); this.eRef.ensure(n + 1); }
    this.eKind.data[n] = kind;
    this.eBar.data[n] = bar;
    this.eRef.data[n] = ref;
  }

  /** Appends an open order; returns its 1-based id. */
  addOrder(bar: number, side: number, qty: number, type: number, limit: number, stop: number): number {
    const n = this.orderCount++;
    if (n >= this.oBar.data.length) {
      for (const c of [this.oBar, this.oSide, this.oQty, this.oType, this.oLimit, this.oStop, this.oStatus, this.oFill]) c.ensure(n + 1);
    }
    this.oBar.data[n] = bar;
    this.oSide.data[n] = side;
    this.oQty.data[n] = qty;
    this.oType.data[n] = type;
    this.oLimit.data[n] = limit;
    this.oStop.data[n] = stop;
    this.oStatus.data[n] = STATUS_OPEN;
    this.oFill.data[n] = 0;
    this.event(EV_ORDER_SUBMITTED, bar, n + 1);
    return n + 1;
  }

  /** Appends a fill; returns its 1-based id. */
  addFill(orderId: number, bar: number, side: number, qty: number, price: number, fee: number, slippage: number): number {
    const n = this.fillCount++;
    if (n >= this.fOrder.data.length) {
      for (const c of [this.fOrder, this.fBar, this.fSide, this.fQty, this.fPrice, this.fFee, this.fSlip]) c.ensure(n + 1);
    }
    this.fOrder.data[n] = orderId;
    this.fBar.data[n] = bar;
    this.fSide.data[n] = side;
    this.fQty.data[n] = qty;
    this.fPrice.data[n] = price;
    this.fFee.data[n] = fee;
    this.fSlip.data[n] = slippage;
    return n + 1;
  }

  /** Appends an open round trip; returns its 1-based id. */
  addTrade(dir: number, bar: number): number {
    const n = this.tradeCount++;
    if (n >= this.tDir.data.length) {
      for (const c of [this.tDir, this.tQty, this.tEntryBar, this.tEntryPrice, this.tExitBar, this.tExitPrice, this.tPnl, this.tFees]) c.ensure(n + 1);
    }
    this.tDir.data[n] = dir;
    this.tEntryBar.data[n] = bar;
    this.tQty.data[n] = 0;
    this.tEntryPrice.data[n] = NaN;
    this.tExitBar.data[n] = -1;
    this.tExitPrice.data[n] = NaN;
    this.tPnl.data[n] = NaN;
    this.tFees.data[n] = 0;
    return n + 1;
  }

  /** ts of each event's bar; NaN where the bar is −1 (an open trip's exit). */
  private tsOf(bars: Int32Array, n: number): Float64Array {
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) out[k] = bars[k]! < 0 ? NaN : this.barTs[bars[k]!]!;
    return out;
  }

  orders(): OrderColumns {
    const n = this.orderCount;
    const orderId = new Int32Array(n);
    for (let k = 0; k < n; k++) orderId[k] = k + 1;
    return {
      length: n, orderId, bar: this.oBar.trim(n), ts: this.tsOf(this.oBar.data, n), side: this.oSide.trim(n), qty: this.oQty.trim(n),
      type: this.oType.trim(n), limitPrice: this.oLimit.trim(n), stopPrice: this.oStop.trim(n), status: this.oStatus.trim(n),
      fillId: this.oFill.trim(n),
    };
  }

  fills(): FillColumns {
    const n = this.fillCount;
    const fillId = new Int32Array(n);
    for (let k = 0; k < n; k++) fillId[k] = k + 1;
    return {
      length: n, fillId, orderId: this.fOrder.trim(n), bar: this.fBar.trim(n), ts: this.tsOf(this.fBar.data, n), side: this.fSide.trim(n),
      qty: this.fQty.trim(n), price: this.fPrice.trim(n), fee: this.fFee.trim(n), slippage: this.fSlip.trim(n),
    };
  }

  trades(): TradeColumns {
    const n = this.tradeCount;
    const tradeId = new Int32Array(n);
    const ret = new Float64Array(n);
    const barsHeld = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      tradeId[k] = k + 1;
      ret[k] = this.tPnl.data[k]! / (this.tEntryPrice.data[k]! * this.tQty.data[k]!);
      barsHeld[k] = this.tExitBar.data[k]! < 0 ? -1 : this.tExitBar.data[k]! - this.tEntryBar.data[k]!;
    }
    return {
      length: n, tradeId, direction: this.tDir.trim(n), qty: this.tQty.trim(n), entryTs: this.tsOf(this.tEntryBar.data, n),
      entryPrice: this.tEntryPrice.trim(n), exitTs: this.tsOf(this.tExitBar.data, n), exitPrice: this.tExitPrice.trim(n),
      pnl: this.tPnl.trim(n), ret, fees: this.tFees.trim(n), barsHeld,
    };
  }

  events(): EventColumns {
    const n = this.eventCount;
    return { length: n, kind: this.eKind.trim(n), bar: this.eBar.trim(n), ref: this.eRef.trim(n) };
  }
}
