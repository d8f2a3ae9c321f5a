/**
 * What the run chart draws, as columns: candles (OHLC buckets), equity points, fills and order
 * levels (segments of bars an order rested over). Built from a SeriesWindow (static view) or
 * grown from replay frames; the chart only ever reads a model.
 */
import type { FrameMsg } from '../../engine/replay/protocol.ts';
import type { SeriesWindow } from '../../engine/views/protocol.ts';

export interface Candles {
  i: number[];
  n: number[];
  ts: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
  spread: (number | null)[];
}

export interface Fills {
  fillId: number[];
  orderId: number[];
  bar: number[];
  ts: number[];
  side: ('buy' | 'sell')[];
  qty: number[];
  price: number[];
  fee: number[];
  slippage: number[];
}

/** Order levels: segment k covers bars [a[k], b[k]] at price y[k]; kind 0 buy limit, 1 sell limit, 2 buy stop, 3 sell stop. */
export interface Segments {
  a: number[];
  b: number[];
  y: number[];
  kind: number[];
}

export interface ChartModel {
  candles: Candles;
  equity: { i: number[]; equity: number[]; drawdown: number[] };
  fills: Fills;
  segments: Segments;
  /** Replay: the last bar shown (drawn as a line). */
  cursor: number | null;
}

export function emptyModel(): ChartModel {
  return {
    candles: { i: [], n: [], ts: [], open: [], high: [], low: [], close: [], volume: [], spread: [] },
    equity: { i: [], equity: [], drawdown: [] },
    fills: { fillId: [], orderId: [], bar: [], ts: [], side: [], qty: [], price: [], fee: [], slippage: [] },
    segments: { a: [], b: [], y: [], kind: [] },
    cursor: null,
  };
}

const KINDS = ['buy_limit', 'sell_limit', 'buy_stop', 'sell_stop'] as const;

/** A static window → model; per-bucket levels become segments (runs of equal level merged). */
export function modelFromWindow(w: SeriesWindow): ChartModel {
  const m = emptyModel();
  m.candles = {
    i: w.candles.i,
    n: w.candles.n,
    ts: w.candles.ts_ms,
    open: w.candles.open,
    high: w.candles.high,
    low: w.candles.low,
    close: w.candles.close,
    volume: w.candles.volume,
    spread: w.candles.spread,
  };
  m.equity = { i: w.equity.i, equity: w.equity.equity, drawdown: w.equity.drawdown };
  const f = w.fills;
  m.fills = {
    fillId: f.fill_id,
    orderId: f.order_id,
    bar: f.bar,
    ts: f.ts_ms,
    side: f.side,
    qty: f.qty,
    price: f.price,
    fee: f.fee,
    slippage: f.slippage,
  };
  const lv = w.levels;
  KINDS.forEach((k, kind) => {
    const col = lv[k];
    let start = -1;
    for (let q = 0; q <= col.length; q++) {
      const v = q < col.length ? col[q] : null;
      const prev = start >= 0 ? col[start] : null;
      if (start >= 0 && v !== prev) {
        m.segments.a.push(lv.i[start]!);
        m.segments.b.push(q < lv.i.length ? lv.i[q]! - 1 : w.to - 1);
        m.segments.y.push(prev!);
        m.segments.kind.push(kind);
        start = -1;
      }
      if (start < 0 && v !== null && v !== undefined) start = q;
    }
  });
  return m;
}

const kindOf = (side: 'buy' | 'sell', type: 'market' | 'limit' | 'stop') => (type === 'limit' ? 0 : 2) + (side === 'buy' ? 0 : 1);

/**
 * Replay state grown from frames: a reset replaces everything, other frames append. Open order
 * segments end at the cursor until a fill or cancel closes them.
 */
export class ReplayModel {
  model: ChartModel = emptyModel();
  /** order id → index of its open segment. */
  #open = new Map<number, number>();

  apply(f: FrameMsg): void {
    if (f.reset) {
      this.model = emptyModel();
      this.#open.clear();
    }
    const m = this.model;
    const c = m.candles;
    const b = f.bars;
    for (let k = 0; k < b.i.length; k++) {
      c.i.push(b.i[k]!);
      c.n.push(b.n[k]!);
      c.ts.push(b.ts_ms[k]!);
      c.open.push(b.open[k]!);
      c.high.push(b.high[k]!);
      c.low.push(b.low[k]!);
      c.close.push(b.close[k]!);
      c.volume.push(b.volume[k]!);
      c.spread.push(null);
    }
    const e = f.equity;
    for (let k = 0; k < e.i.length; k++) {
      m.equity.i.push(e.i[k]!);
      m.equity.equity.push(e.equity[k]!);
      m.equity.drawdown.push(e.drawdown[k]!);
    }
    const fl = f.fills;
    for (let k = 0; k < fl.fill_id.length; k++) {
      m.fills.fillId.push(fl.fill_id[k]!);
      m.fills.orderId.push(fl.order_id[k]!);
      m.fills.bar.push(fl.bar[k]!);
      m.fills.ts.push(fl.ts_ms[k]!);
      m.fills.side.push(fl.side[k]!);
      m.fills.qty.push(fl.qty[k]!);
      m.fills.price.push(fl.price[k]!);
      m.fills.fee.push(fl.fee[k]!);
      m.fills.slippage.push(fl.slippage[k]!);
    }
    const o = f.orders;
    const s = m.segments;
    for (let k = 0; k < o.order_id.length; k++) {
      const id = o.order_id[k]!;
      const type = o.type[k]!;
      if (o.event[k] === 'submitted') {
        if (type === 'market') continue;
        this.#open.set(id, s.a.length);
        s.a.push(o.bar[k]! + 1);
        s.b.push(f.cursor);
        s.y.push((type === 'limit' ? o.limit_price[k] : o.stop_price[k]) ?? NaN);
        s.kind.push(kindOf(o.side[k]!, type));
      } else {
        const seg = this.#open.get(id);
        if (seg !== undefined) {
          s.b[seg] = o.bar[k]!;
          this.#open.delete(id);
        }
      }
    }
    for (const seg of this.#open.values()) s.b[seg] = f.cursor;
    m.cursor = f.cursor;
  }
}

/** First index of a sorted column ≥ x. */
export function lowerBound(col: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = col.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (col[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
