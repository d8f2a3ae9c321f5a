/**
 * Columnar event logs of one run: orders, fills, round trips and the event stream
 * (OrderSubmitted, OrderFilled, OrderCanceled, PositionOpened, PositionClosed).
 * Appends write into growable typed arrays; nothing is allocated per event. Time stamps are
 * not stored: every event keeps its bar index and the ts columns are built from the bars on
 * first access (artifacts need them; metrics, sweeps and benchmarks do not).
 */
import { grow, initialCapacity, nextCapacity } from './columns.ts';
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

/** 1, 2, …, n (1-based ids). */
function serial(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) out[k] = k + 1;
  return out;
}

export class RunLog {
  private readonly barTs: Float64Array;
  private readonly nBars: number;

  // Columns are plain typed-array fields, replaced (never resized in place) when a table grows:
  // hot code loads them from here after anything that may have appended.
  // orders (index = order id − 1)
  orderCount = 0;
  oBar: Int32Array;
  oSide: Uint8Array;
  oQty: Float64Array;
  oType: Uint8Array;
  oLimit: Float64Array;
  oStop: Float64Array;
  oStatus: Uint8Array;
  oFill: Int32Array;
  // fills (index = fill id − 1)
  fillCount = 0;
  fOrder: Int32Array;
  fBar: Int32Array;
  // side and qty are the order's (fills are whole): read through fOrder, not stored twice
  fPrice: Float64Array;
  fFee: Float64Array;
  fSlip: Float64Array;
  // round trips (index = trade id − 1)
  tradeCount = 0;
  tDir: Uint8Array;
  tQty: Float64Array;
  tEntryBar: Int32Array;
  tEntryPrice: Float64Array;
  tExitBar: Int32Array;
  tExitPrice: Float64Array;
  tPnl: Float64Array;
  tFees: Float64Array;
  // events
  eventCount = 0;
  eKind: Uint8Array;
  eBar: Int32Array;
  eRef: Int32Array;

  constructor(barTs: Float64Array) {
    this.barTs = barTs;
    this.nBars = barTs.length;
    const cap = initialCapacity(barTs.length);
    this.oBar = new Int32Array(cap);
    this.oSide = new Uint8Array(cap);
    this.oQty = new Float64Array(cap);
    this.oType = new Uint8Array(cap);
    this.oLimit = new Float64Array(cap);
    this.oStop = new Float64Array(cap);
    this.oStatus = new Uint8Array(cap);
    this.oFill = new Int32Array(cap);
    this.fOrder = new Int32Array(cap);
    this.fBar = new Int32Array(cap);
    this.fPrice = new Float64Array(cap);
    this.fFee = new Float64Array(cap);
    this.fSlip = new Float64Array(cap);
    this.tDir = new Uint8Array(cap);
    this.tQty = new Float64Array(cap);
    this.tEntryBar = new Int32Array(cap);
    this.tEntryPrice = new Float64Array(cap);
    this.tExitBar = new Int32Array(cap);
    this.tExitPrice = new Float64Array(cap);
    this.tPnl = new Float64Array(cap);
    this.tFees = new Float64Array(cap);
    // a fill is about three events (submitted, filled, position opened/closed)
    this.eKind = new Uint8Array(cap * 3);
    this.eBar = new Int32Array(cap * 3);
    this.eRef = new Int32Array(cap * 3);
  }

  event(kind: number, bar: number, ref: number): void {
    const n = this.eventCount++;
    if (n === this.eKind.length) this.growEvents(bar);
    this.eKind[n] = kind;
    this.eBar[n] = bar;
    this.eRef[n] = ref;
  }

  /** Appends an open order; returns its 1-based id. */
  addOrder(bar: number, side: number, qty: number, type: number, limit: number, stop: number): number {
    const n = this.orderCount++;
    if (n === this.oBar.length) this.growOrders(bar);
    this.oBar[n] = bar;
    this.oSide[n] = side;
    this.oQty[n] = qty;
    this.oType[n] = type;
    this.oLimit[n] = limit;
    this.oStop[n] = stop;
    this.oStatus[n] = STATUS_OPEN;
    this.oFill[n] = 0;
    this.event(EV_ORDER_SUBMITTED, bar, n + 1);
    return n + 1;
  }

  /** Appends a fill of the whole order `orderId` (its side and qty); returns its 1-based id. */
  addFill(orderId: number, bar: number, price: number, fee: number, slippage: number): number {
    const n = this.fillCount++;
    if (n === this.fOrder.length) this.growFills(bar);
    this.fOrder[n] = orderId;
    this.fBar[n] = bar;
    this.fPrice[n] = price;
    this.fFee[n] = fee;
    this.fSlip[n] = slippage;
    return n + 1;
  }

  /** Appends an open round trip; returns its 1-based id. */
  addTrade(dir: number, bar: number): number {
    const n = this.tradeCount++;
    if (n === this.tDir.length) this.growTrades(bar);
    this.tDir[n] = dir;
    this.tEntryBar[n] = bar;
    this.tQty[n] = 0;
    this.tEntryPrice[n] = NaN;
    this.tExitBar[n] = -1;
    this.tExitPrice[n] = NaN;
    this.tPnl[n] = NaN;
    this.tFees[n] = 0;
    return n + 1;
  }

  // Growth is out of line: the append methods stay small enough to be inlined into the exchange.
  private growEvents(bar: number): void {
    const cap = nextCapacity(this.eKind.length, bar, this.nBars);
    this.eKind = grow(this.eKind, cap);
    this.eBar = grow(this.eBar, cap);
    this.eRef = grow(this.eRef, cap);
  }

  private growOrders(bar: number): void {
    const cap = nextCapacity(this.oBar.length, bar, this.nBars);
    this.oBar = grow(this.oBar, cap);
    this.oSide = grow(this.oSide, cap);
    this.oQty = grow(this.oQty, cap);
    this.oType = grow(this.oType, cap);
    this.oLimit = grow(this.oLimit, cap);
    this.oStop = grow(this.oStop, cap);
    this.oStatus = grow(this.oStatus, cap);
    this.oFill = grow(this.oFill, cap);
  }

  private growFills(bar: number): void {
    const cap = nextCapacity(this.fOrder.length, bar, this.nBars);
    this.fOrder = grow(this.fOrder, cap);
    this.fBar = grow(this.fBar, cap);
    this.fPrice = grow(this.fPrice, cap);
    this.fFee = grow(this.fFee, cap);
    this.fSlip = grow(this.fSlip, cap);
  }

  private growTrades(bar: number): void {
    const cap = nextCapacity(this.tDir.length, bar, this.nBars);
    this.tDir = grow(this.tDir, cap);
    this.tQty = grow(this.tQty, cap);
    this.tEntryBar = grow(this.tEntryBar, cap);
    this.tEntryPrice = grow(this.tEntryPrice, cap);
    this.tExitBar = grow(this.tExitBar, cap);
    this.tExitPrice = grow(this.tExitPrice, cap);
    this.tPnl = grow(this.tPnl, cap);
    this.tFees = grow(this.tFees, cap);
  }

  // Id, gathered and derived columns are built on first access, like the ts columns: artifacts
  // need them; metrics (computed from the engine's loop statistics), sweeps and benchmarks do not.
  orders(): OrderColumns {
    const n = this.orderCount;
    const barTs = this.barTs;
    const bar = this.oBar.subarray(0, n);
    let ts: Float64Array | null = null;
    let orderId: Int32Array | null = null;
    return {
      length: n,
      get orderId() {
        return (orderId ??= serial(n));
      },
      bar,
      get ts() {
        return (ts ??= tsOf(barTs, bar));
      },
      side: this.oSide.subarray(0, n),
      qty: this.oQty.subarray(0, n),
      type: this.oType.subarray(0, n),
      limitPrice: this.oLimit.subarray(0, n),
      stopPrice: this.oStop.subarray(0, n),
      status: this.oStatus.subarray(0, n),
      fillId: this.oFill.subarray(0, n),
    };
  }

  fills(): FillColumns {
    const n = this.fillCount;
    const barTs = this.barTs;
    const orderId = this.fOrder.subarray(0, n);
    const oSide = this.oSide;
    const oQty = this.oQty;
    const bar = this.fBar.subarray(0, n);
    let ts: Float64Array | null = null;
    let fillId: Int32Array | null = null;
    let side: Uint8Array | null = null;
    let qty: Float64Array | null = null;
    // side and qty are the order's: gathered through orderId
    const gather = () => {
      side = new Uint8Array(n);
      qty = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const o = orderId[k]! - 1;
        side[k] = oSide[o]!;
        qty[k] = oQty[o]!;
      }
    };
    return {
      length: n,
      get fillId() {
        return (fillId ??= serial(n));
      },
      orderId,
      bar,
      get ts() {
        return (ts ??= tsOf(barTs, bar));
      },
      get side(): Uint8Array {
        if (side === null) gather();
        return side!;
      },
      get qty(): Float64Array {
        if (qty === null) gather();
        return qty!;
      },
      price: this.fPrice.subarray(0, n),
      fee: this.fFee.subarray(0, n),
      slippage: this.fSlip.subarray(0, n),
    };
  }

  trades(): TradeColumns {
    const n = this.tradeCount;
    const barTs = this.barTs;
    const entryBar = this.tEntryBar.subarray(0, n);
    const exitBar = this.tExitBar.subarray(0, n);
    const pnl = this.tPnl.subarray(0, n);
    const entryPrice = this.tEntryPrice.subarray(0, n);
    const qty = this.tQty.subarray(0, n);
    let entryTs: Float64Array | null = null;
    let exitTs: Float64Array | null = null;
    let tradeId: Int32Array | null = null;
    let ret: Float64Array | null = null;
    let barsHeld: Int32Array | null = null;
    return {
      length: n,
      get tradeId() {
        return (tradeId ??= serial(n));
      },
      direction: this.tDir.subarray(0, n),
      qty,
      get entryTs() {
        return (entryTs ??= tsOf(barTs, entryBar));
      },
      entryPrice,
      get exitTs() {
        return (exitTs ??= tsOf(barTs, exitBar));
      },
      exitPrice: this.tExitPrice.subarray(0, n),
      pnl,
      get ret() {
        if (ret === null) {
          ret = new Float64Array(n);
          for (let k = 0; k < n; k++) ret[k] = pnl[k]! / (entryPrice[k]! * qty[k]!);
        }
        return ret;
      },
      fees: this.tFees.subarray(0, n),
      get barsHeld() {
        if (barsHeld === null) {
          barsHeld = new Int32Array(n);
          for (let k = 0; k < n; k++) barsHeld[k] = exitBar[k]! < 0 ? -1 : exitBar[k]! - entryBar[k]!;
        }
        return barsHeld;
      },
    };
  }

  events(): EventColumns {
    const n = this.eventCount;
    return { length: n, kind: this.eKind.subarray(0, n), bar: this.eBar.subarray(0, n), ref: this.eRef.subarray(0, n) };
  }
}
