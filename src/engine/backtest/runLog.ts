/**
 * Columnar event logs of one run: orders, fills, round trips and the event stream
 * (OrderSubmitted, OrderFilled, OrderCanceled, PositionOpened, PositionClosed).
 * Appends write into growable typed arrays; nothing is allocated per event. Time stamps are
 * not stored: every event keeps its bar index and the ts columns are built from the bars on
 * first access (artifacts need them; metrics, sweeps and benchmarks do not).
 */
import { f64, i32, u8, type GrowableColumn } from './columns.ts';
import type { EventColumns, FillColumns, OrderColumns, TradeColumns } from './types.ts';
import { EV_ORDER_SUBMITTED, STATUS_OPEN } from './types.ts';

/** ts of each event's bar; NaN where the bar is −1 (an open trip's exit). */
function tsOf(barTs: Float64Array, bars: Int32Array): Float64Array {
  const n = bars.length;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const b = bars[k]!;
    out[k] = b < 0 ? NaN : barTs[b]!;
  }
  return out;
}

export class RunLog {
  private readonly barTs: Float64Array;

  // orders (index = order id − 1)
  orderCount = 0;
  readonly oBar: GrowableColumn<Int32Array>;
  readonly oSide: GrowableColumn<Uint8Array>;
  readonly oQty: GrowableColumn<Float64Array>;
  readonly oType: GrowableColumn<Uint8Array>;
  readonly oLimit: GrowableColumn<Float64Array>;
  readonly oStop: GrowableColumn<Float64Array>;
  readonly oStatus: GrowableColumn<Uint8Array>;
  readonly oFill: GrowableColumn<Int32Array>;
  // fills (index = fill id − 1)
  fillCount = 0;
  readonly fOrder: GrowableColumn<Int32Array>;
  readonly fBar: GrowableColumn<Int32Array>;
  // side and qty are the order's (fills are whole): read through fOrder, not stored twice
  readonly fPrice: GrowableColumn<Float64Array>;
  readonly fFee: GrowableColumn<Float64Array>;
  readonly fSlip: GrowableColumn<Float64Array>;
  // round trips (index = trade id − 1)
  tradeCount = 0;
  readonly tDir: GrowableColumn<Uint8Array>;
  readonly tQty: GrowableColumn<Float64Array>;
  readonly tEntryBar: GrowableColumn<Int32Array>;
  readonly tEntryPrice: GrowableColumn<Float64Array>;
  readonly tExitBar: GrowableColumn<Int32Array>;
  readonly tExitPrice: GrowableColumn<Float64Array>;
  readonly tPnl: GrowableColumn<Float64Array>;
  readonly tFees: GrowableColumn<Float64Array>;
  // events
  eventCount = 0;
  readonly eKind: GrowableColumn<Uint8Array>;
  readonly eBar: GrowableColumn<Int32Array>;
  readonly eRef: GrowableColumn<Int32Array>;

  constructor(barTs: Float64Array) {
    this.barTs = barTs;
    // Initial capacity from the bar count (one entry per 64 bars, 256..262144): most runs never
    // grow, and an active strategy on 10 M bars grows once instead of three times.
    const cap = Math.max(256, Math.min(1 << 18, barTs.length >> 6));
    this.oBar = i32(cap);
    this.oSide = u8(cap);
    this.oQty = f64(cap);
    this.oType = u8(cap);
    this.oLimit = f64(cap);
    this.oStop = f64(cap);
    this.oStatus = u8(cap);
    this.oFill = i32(cap);
    this.fOrder = i32(cap);
    this.fBar = i32(cap);
    this.fPrice = f64(cap);
    this.fFee = f64(cap);
    this.fSlip = f64(cap);
    this.tDir = u8(cap);
    this.tQty = f64(cap);
    this.tEntryBar = i32(cap);
    this.tEntryPrice = f64(cap);
    this.tExitBar = i32(cap);
    this.tExitPrice = f64(cap);
    this.tPnl = f64(cap);
    this.tFees = f64(cap);
    this.eKind = u8(cap);
    this.eBar = i32(cap);
    this.eRef = i32(cap);
  }

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

  /** Appends a fill of the whole order `orderId` (its side and qty); returns its 1-based id. */
  addFill(orderId: number, bar: number, price: number, fee: number, slippage: number): number {
    const n = this.fillCount++;
    if (n >= this.fOrder.data.length) {
      for (const c of [this.fOrder, this.fBar, this.fPrice, this.fFee, this.fSlip]) c.ensure(n + 1);
    }
    this.fOrder.data[n] = orderId;
    this.fBar.data[n] = bar;
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

  orders(): OrderColumns {
    const n = this.orderCount;
    const barTs = this.barTs;
    const orderId = new Int32Array(n);
    for (let k = 0; k < n; k++) orderId[k] = k + 1;
    const bar = this.oBar.trim(n);
    let ts: Float64Array | null = null;
    return {
      length: n, orderId, bar, get ts() { return ts ??= tsOf(barTs, bar); }, side: this.oSide.trim(n), qty: this.oQty.trim(n),
      type: this.oType.trim(n), limitPrice: this.oLimit.trim(n), stopPrice: this.oStop.trim(n), status: this.oStatus.trim(n),
      fillId: this.oFill.trim(n),
    };
  }

  fills(): FillColumns {
    const n = this.fillCount;
    const barTs = this.barTs;
    const fillId = new Int32Array(n);
    const side = new Uint8Array(n);
    const qty = new Float64Array(n);
    const orderId = this.fOrder.trim(n);
    const oSide = this.oSide.data;
    const oQty = this.oQty.data;
    for (let k = 0; k < n; k++) {
      fillId[k] = k + 1;
      const o = orderId[k]! - 1;
      side[k] = oSide[o]!;
      qty[k] = oQty[o]!;
    }
    const bar = this.fBar.trim(n);
    let ts: Float64Array | null = null;
    return {
      length: n, fillId, orderId, bar, get ts() { return ts ??= tsOf(barTs, bar); }, side,
      qty, price: this.fPrice.trim(n), fee: this.fFee.trim(n), slippage: this.fSlip.trim(n),
    };
  }

  trades(): TradeColumns {
    const n = this.tradeCount;
    const barTs = this.barTs;
    const tradeId = new Int32Array(n);
    const ret = new Float64Array(n);
    const barsHeld = new Int32Array(n);
    const entryBar = this.tEntryBar.trim(n);
    const exitBar = this.tExitBar.trim(n);
    let entryTs: Float64Array | null = null;
    let exitTs: Float64Array | null = null;
    for (let k = 0; k < n; k++) {
      tradeId[k] = k + 1;
      ret[k] = this.tPnl.data[k]! / (this.tEntryPrice.data[k]! * this.tQty.data[k]!);
      barsHeld[k] = this.tExitBar.data[k]! < 0 ? -1 : this.tExitBar.data[k]! - this.tEntryBar.data[k]!;
    }
    return {
      length: n, tradeId, direction: this.tDir.trim(n), qty: this.tQty.trim(n), get entryTs() { return entryTs ??= tsOf(barTs, entryBar); },
      entryPrice: this.tEntryPrice.trim(n), get exitTs() { return exitTs ??= tsOf(barTs, exitBar); }, exitPrice: this.tExitPrice.trim(n),
      pnl: this.tPnl.trim(n), ret, fees: this.tFees.trim(n), barsHeld,
    };
  }

  events(): EventColumns {
    const n = this.eventCount;
    return { length: n, kind: this.eKind.trim(n), bar: this.eBar.trim(n), ref: this.eRef.trim(n) };
  }
}
