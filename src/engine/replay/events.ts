/**
 * Fills, order events and the account of a RunSeries by bar range, as protocol columns.
 * Order events of one bar come in the engine's order: fills at the bar's open, then the
 * strategy's cancels and submissions of that bar.
 */
import { ORDER_TYPE_NAMES, SIDE_NAMES } from '../backtest/types.ts';
import { emptyFills, emptyOrders, type AccountState, type FrameFills, type FrameOrders, type OrderEvent } from './protocol.ts';
import type { RunSeries } from './runSeries.ts';

/** First index k of a bar-sorted column with col[k] > bar (= length when none). */
export function firstAfter(col: Int32Array, length: number, bar: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (col[mid]! <= bar) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const nullable = (v: number): number | null => (v === v ? v : null);

/** Fills with bar in (after, upTo]. */
export function fillsBetween(s: RunSeries, after: number, upTo: number, out: FrameFills = emptyFills()): FrameFills {
  const f = s.fills;
  for (let k = firstAfter(f.bar, f.length, after); k < f.length && f.bar[k]! <= upTo; k++) {
    out.fill_id.push(f.fillId[k]!);
    out.order_id.push(f.orderId[k]!);
    out.bar.push(f.bar[k]!);
    out.ts_ms.push(s.tsMs[f.bar[k]!]!);
    out.side.push(SIDE_NAMES[f.side[k]!]!);
    out.qty.push(f.qty[k]!);
    out.price.push(f.price[k]!);
    out.fee.push(f.fee[k]!);
    out.slippage.push(f.slippage[k]!);
  }
  return out;
}

/** Number of fill + order events with bar in (after, upTo] (for frame budgets). */
export function eventCount(s: RunSeries, after: number, upTo: number): number {
  const f = s.fills;
  const o = s.orders;
  const fills = firstAfter(f.bar, f.length, upTo) - firstAfter(f.bar, f.length, after);
  const submitted = firstAfter(o.bar, o.length, upTo) - firstAfter(o.bar, o.length, after);
  const cb = cancelBars(s);
  const canceled = firstAfter(cb, cb.length, upTo) - firstAfter(cb, cb.length, after);
  // a fill is also its order's 'filled' event
  return 2 * fills + submitted + canceled;
}

const cancelBarCache = new WeakMap<RunSeries, Int32Array>();
/** Cancel bars in cancel order (sorted), for binary search. */
function cancelBars(s: RunSeries): Int32Array {
  let c = cancelBarCache.get(s);
  if (!c) {
    const o = s.orders;
    c = new Int32Array(o.cancelOrder.length);
    for (let k = 0; k < c.length; k++) c[k] = o.canceledBar[o.cancelOrder[k]!]!;
    cancelBarCache.set(s, c);
  }
  return c;
}

function pushOrder(s: RunSeries, out: FrameOrders, k: number, event: OrderEvent, bar: number): void {
  const o = s.orders;
  out.order_id.push(o.orderId[k]!);
  out.event.push(event);
  out.bar.push(bar);
  out.ts_ms.push(s.tsMs[bar]!);
  out.side.push(SIDE_NAMES[o.side[k]!]!);
  out.qty.push(o.qty[k]!);
  out.type.push(ORDER_TYPE_NAMES[o.type[k]!]!);
  out.limit_price.push(nullable(o.limitPrice[k]!));
  out.stop_price.push(nullable(o.stopPrice[k]!));
  out.fill_id.push(event === 'filled' && o.fillId[k]! > 0 ? o.fillId[k]! : null);
}

/** Order events (submitted, filled, canceled) with bar in (after, upTo], in event order. */
export function orderEventsBetween(s: RunSeries, after: number, upTo: number, out: FrameOrders = emptyOrders()): FrameOrders {
  const o = s.orders;
  const f = s.fills;
  const cb = cancelBars(s);
  let fk = firstAfter(f.bar, f.length, after);
  let ck = firstAfter(cb, cb.length, after);
  let sk = firstAfter(o.bar, o.length, after);
  // order id → index (ids are 1-based and dense in artifacts; fall back to a search otherwise)
  const indexOf = (id: number) => (o.orderId[id - 1] === id ? id - 1 : o.orderId.indexOf(id));
  for (;;) {
    const fb = fk < f.length && f.bar[fk]! <= upTo ? f.bar[fk]! : Infinity;
    const cbar = ck < cb.length && cb[ck]! <= upTo ? cb[ck]! : Infinity;
    const sb = sk < o.length && o.bar[sk]! <= upTo ? o.bar[sk]! : Infinity;
    const bar = Math.min(fb, cbar, sb);
    if (bar === Infinity) break;
    if (fb === bar) {
      pushOrder(s, out, indexOf(f.orderId[fk]!), 'filled', bar);
      fk++;
    } else if (cbar === bar) {
      pushOrder(s, out, o.cancelOrder[ck]!, 'canceled', bar);
      ck++;
    } else {
      pushOrder(s, out, sk, 'submitted', bar);
      sk++;
    }
  }
  return out;
}

/** Orders resting at the close of bar c: submitted at or before c, neither filled nor canceled by then. */
export function restingOrdersAt(s: RunSeries, c: number, out: FrameOrders = emptyOrders()): FrameOrders {
  const o = s.orders;
  const end = firstAfter(o.bar, o.length, c);
  for (let k = 0; k < end; k++) {
    const filled = o.fillBar[k]! >= 0 && o.fillBar[k]! <= c;
    const canceled = o.status[k] === 2 && (o.canceledBar[k]! < 0 || o.canceledBar[k]! <= c);
    if (!filled && !canceled) pushOrder(s, out, k, 'submitted', o.bar[k]!);
  }
  return out;
}

/** Position, average price, cash and P&L at bar c's close. */
export function accountAt(s: RunSeries, c: number): AccountState {
  const f = s.fills;
  const k = firstAfter(f.bar, f.length, c) - 1;
  const position = s.position[c]!;
  const avg = k >= 0 && position !== 0 ? f.avgPriceAfter[k]! : NaN;
  const unrealized = position !== 0 && avg === avg ? position * (s.close[c]! - avg) : 0;
  const equity = s.equity[c]!;
  return {
    bar: c,
    ts_ms: s.tsMs[c]!,
    position,
    avg_price: nullable(avg),
    cash: s.cash[c]!,
    equity,
    realized_pnl: equity - s.initialCash - unrealized,
    unrealized_pnl: unrealized,
    drawdown: s.drawdown[c]!,
  };
}
