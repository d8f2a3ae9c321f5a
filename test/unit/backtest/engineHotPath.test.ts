import { strict as assert } from 'node:assert';
import { z } from 'zod';
import { firstUnsorted, runBacktest } from '../../../src/engine/backtest/engine.ts';
import { grow, initialCapacity, nextCapacity } from '../../../src/engine/backtest/columns.ts';
import { computeMetrics, dayEndBars } from '../../../src/engine/backtest/statistics.ts';
import { nyDayOfUtcNs } from '../../../src/engine/calendar/newYork.ts';
import { BUILTIN_STRATEGIES } from '../../../src/engine/strategies/index.ts';
import { defineStrategy } from '../../../src/engine/backtest/strategy.ts';
import {
  ORDER_LIMIT,
  ORDER_MARKET,
  ORDER_STOP,
  SIDE_BUY,
  EV_ORDER_CANCELED,
  EV_ORDER_FILLED,
  EV_ORDER_SUBMITTED,
  EV_POSITION_CLOSED,
  EV_POSITION_OPENED,
  STATUS_CANCELED,
  STATUS_FILLED,
} from '../../../src/engine/backtest/types.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';
import { synthBars } from './support/dataset.ts';

/** The engine's shortcuts (blocked sort check, division-free drawdown, log growth) against plain definitions. */
describe('engine hot path', () => {
  it('firstUnsorted finds the first out-of-order or NaN row like a row-by-row scan', () => {
    const naive = (ts: Float64Array) => {
      for (let k = 1; k < ts.length; k++) if (!(ts[k]! >= ts[k - 1]!)) return k;
      return -1;
    };
    for (let n = 0; n <= 19; n++) {
      const sorted = Float64Array.from({ length: n }, (_, i) => 1000 + 10 * i);
      assert.equal(firstUnsorted(sorted, n), -1, `sorted n=${n}`);
      for (let at = 0; at < n; at++) {
        for (const v of [NaN, 0, 1000 + 10 * at - 11, 1000 + 10 * at + 10]) {
          const ts = sorted.slice();
          ts[at] = v;
          assert.equal(firstUnsorted(ts, n), naive(ts), `n=${n} row ${at} = ${v}`);
        }
      }
    }
    const eq = new Float64Array(9).fill(5); // equal time stamps are in order
    assert.equal(firstUnsorted(eq, 9), -1);
  });

  it('max_drawdown is bit-identical to the maximum of the drawdown series (random trading, equity through zero)', () => {
    const bars = synthBars(4000, 3);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const strat = defineStrategy({
        id: 'random-trader',
        params: z.object({}),
        onStart: () => ({ rng: new Sfc32(seed) }),
        onBar(ctx, s: { rng: Sfc32 }) {
          if (ctx.isLastBar) return;
          const u = s.rng.next();
          // large sizes on a small account: equity swings far below zero and back
          if (u < 0.05) ctx.order((u < 0.025 ? 1 : -1) * (1 + Math.floor(s.rng.next() * 4000)));
          else if (u < 0.06) ctx.targetPosition(0);
        },
      });
      const r = runBacktest(bars, {
        strategy: strat,
        costs: { cash: seed * 3000, slippage_model: 'random', slippage_bps: 3, fee_min: 1 },
        seed,
      });
      let max = 0;
      for (const d of r.equity.drawdown) if (d > max) max = d;
      assert.ok(Object.is(r.metrics.max_drawdown, max), `seed ${seed}: ${r.metrics.max_drawdown} vs ${max}`);
      if (seed === 1) assert.ok(max > 1, `equity should go below zero in this run (max drawdown ${max})`);
    }
    // no drawdown at all: exactly 0
    const flat = runBacktest(synthBars(50, 1), { strategy: defineStrategy({ id: 'idle', params: z.object({}), onBar() {} }) });
    assert.ok(Object.is(flat.metrics.max_drawdown, 0));
  });

  it('log capacity: extrapolated from the rate, 1.5×..16× per step; grow keeps the data', () => {
    assert.equal(initialCapacity(1000), 256);
    assert.equal(initialCapacity(100_000), 1562);
    assert.equal(initialCapacity(10_000_000), 4096);
    assert.equal(nextCapacity(1000, 499, 1000), 2250); // 2000 expected by the end, + 1/8
    assert.equal(nextCapacity(1000, 999, 1000), 1516); // at the end: 1.5× + 16
    assert.equal(nextCapacity(4096, 99_999, 10_000_000), 65_536); // 460 800 expected: capped at 16×
    assert.equal(nextCapacity(65_536, 1_499_999, 10_000_000), 491_520); // 436 907 expected, + 1/8
    const a = grow(Float64Array.from([1, 2, 3]), 5);
    assert.deepEqual([...a], [1, 2, 3, 0, 0]);
    assert.ok(grow(new Int32Array(2), 4) instanceof Int32Array);
  });

  it('logs that grow many times keep every order, fill, trade and event (checked against the strategy’s own count)', () => {
    const bars = synthBars(3000, 9); // initial capacity 256: orders, fills, trades and events all grow repeatedly
    const seen = { submitted: 0, canceled: 0, filled: 0 };
    const strat = defineStrategy({
      id: 'busy',
      params: z.object({}),
      onBar(ctx) {
        if (ctx.isLastBar) return;
        for (let k = 0; k < 3; k++) {
          ctx.buy(1 + k, { limit: ctx.close() - 0.01 * k });
          seen.submitted++;
        }
        if (ctx.index % 3 === 0) {
          seen.canceled += ctx.openOrderCount;
          ctx.cancelAll();
          if (ctx.targetPosition(ctx.index % 2 === 0 ? 7 : -7) !== 0) seen.submitted++; // reversals close trips
        } else {
          ctx.order(ctx.index % 2 === 0 ? 5 : -5);
          seen.submitted++;
        }
      },
      onFill() {
        seen.filled++;
      },
    });
    const r = runBacktest(bars, { strategy: strat });
    assert.equal(r.orders.length, seen.submitted);
    assert.ok(r.orders.length > 4 * 256 && r.fills.length > 4 * 256, `${r.orders.length} orders, ${r.fills.length} fills`);
    assert.equal(r.fills.length, seen.filled);
    assert.deepEqual(
      [...r.orders.orderId],
      Array.from({ length: seen.submitted }, (_, k) => k + 1),
    );
    let canceled = 0;
    for (let o = 0; o < r.orders.length; o++) {
      if (r.orders.status[o] === STATUS_CANCELED) canceled++;
      if (r.orders.status[o] === STATUS_FILLED) {
        const f = r.orders.fillId[o]! - 1;
        assert.equal(r.fills.orderId[f], o + 1);
        assert.ok(r.fills.bar[f]! > r.orders.bar[o]!);
      }
    }
    assert.equal(canceled, seen.canceled);
    const kinds = new Map<number, number>();
    for (const k of r.events.kind) kinds.set(k, (kinds.get(k) ?? 0) + 1);
    assert.equal(kinds.get(EV_ORDER_SUBMITTED), seen.submitted);
    assert.equal(kinds.get(EV_ORDER_FILLED), seen.filled);
    assert.equal(kinds.get(EV_ORDER_CANCELED), seen.canceled);
    assert.equal(kinds.get(EV_POSITION_OPENED), r.trades.length);
    let closed = 0;
    for (const p of r.trades.pnl) if (p === p) closed++;
    assert.equal(kinds.get(EV_POSITION_CLOSED), closed);
    assert.ok(r.trades.length > 256 && closed > 256, `${r.trades.length} trades, ${closed} closed`);
  });

  it('fees_total and turnover summed at booking equal the sums over the fill columns; lazily built columns equal their definitions', () => {
    const bars = synthBars(6000, 4);
    const strat = defineStrategy({
      id: 'alternating',
      params: z.object({}),
      onBar(ctx) {
        if (!ctx.isLastBar && ctx.index % 7 === 0) ctx.targetPosition(ctx.index % 14 === 0 ? 30 : -20);
      },
    });
    const r = runBacktest(bars, {
      strategy: strat,
      costs: { slippage_model: 'random', slippage_bps: 7, fee_per_unit: 0.013, fee_bps: 1.1, fee_min: 0.7 },
      seed: 9,
    });
    let fees = 0,
      turnover = 0;
    for (let k = 0; k < r.fills.length; k++) {
      fees += r.fills.fee[k]!;
      turnover += Math.abs(r.fills.qty[k]! * r.fills.price[k]!);
      const o = r.fills.orderId[k]! - 1;
      assert.equal(r.fills.fillId[k], k + 1);
      assert.equal(r.fills.side[k], r.orders.side[o]);
      assert.equal(r.fills.qty[k], r.orders.qty[o]);
    }
    assert.ok(r.fills.length > 100 && fees > 0);
    assert.ok(Object.is(r.metrics.fees_total, fees) && Object.is(r.metrics.turnover, turnover));
    const barOf = new Map<number, number>();
    bars.ts.forEach((t, i) => barOf.set(t, i));
    for (let k = 0; k < r.trades.length; k++) {
      assert.equal(r.trades.tradeId[k], k + 1);
      assert.ok(Object.is(r.trades.ret[k], r.trades.pnl[k]! / (r.trades.entryPrice[k]! * r.trades.qty[k]!)));
      const exit = r.trades.exitTs[k]!;
      assert.equal(r.trades.barsHeld[k], exit === exit ? barOf.get(exit)! - barOf.get(r.trades.entryTs[k]!)! : -1);
    }
    assert.deepEqual(
      [...r.orders.orderId],
      Array.from({ length: r.orders.length }, (_, k) => k + 1),
    );
  });

  it('dayEndBars: the last bar of each New York date, by a per-bar definition (gap-free minutes, sessions with gaps, equal ts, DST)', () => {
    const naive = (ts: Float64Array) => {
      const out: number[] = [];
      for (let i = 0; i + 1 < ts.length; i++) if (nyDayOfUtcNs(ts[i + 1]!) !== nyDayOfUtcNs(ts[i]!)) out.push(i);
      if (ts.length > 0) out.push(ts.length - 1);
      return out;
    };
    const MIN = 60e9;
    const t0 = Date.parse('2024-03-08T00:00:00Z') * 1e6; // across the March DST change
    const rng = new Sfc32(12);
    const cases: Float64Array[] = [
      Float64Array.from({ length: 6000 }, (_, i) => t0 + i * MIN),
      synthBars(5000, 2).ts,
      Float64Array.from({ length: 3000 }, (_, i) => t0 + Math.floor(i / 3) * MIN), // three bars per minute
      new Float64Array(0),
      Float64Array.of(t0),
    ];
    let t = t0;
    cases.push(Float64Array.from({ length: 5000 }, () => (t += (rng.next() < 0.01 ? 1 + Math.floor(rng.next() * 3000) : 1) * MIN)));
    for (const [k, ts] of cases.entries()) assert.deepEqual([...dayEndBars(ts)], naive(ts), `case ${k}`);
  });

  it('metrics from the loop statistics equal metrics from the full equity and position series', () => {
    const bars = synthBars(20_000, 5);
    for (const [id, params, costs] of [
      ['sma-cross', { fast: 5, slow: 20, allow_short: true }, { slippage_bps: 2, fee_min: 1 }],
      ['bollinger-reversion', {}, { slippage_model: 'half-spread', fee_bps: 1 }],
      ['donchian-breakout', { allow_short: true }, { slippage_model: 'random', slippage_bps: 4 }],
    ] as const) {
      const r = runBacktest(bars, { strategy: BUILTIN_STRATEGIES[id]!, params, costs, seed: 2 });
      const full = computeMetrics(r.costs.cash, r.bars.ts, r.equity.equity, r.equity.position, r.equity.drawdown, r.trades, r.fills);
      assert.deepEqual(r.metrics, full, id);
      assert.ok(r.metrics.num_fills > 10, id);
    }
  });

  it('derived order and fill columns (limit/stop prices, fill ids, slippage) equal their definitions for every order type', () => {
    const bars = synthBars(8000, 21);
    const strat = defineStrategy({
      id: 'all-types',
      params: z.object({}),
      onStart: () => ({ rng: new Sfc32(4) }),
      onBar(ctx, s: { rng: Sfc32 }) {
        if (ctx.isLastBar) return;
        const u = s.rng.next();
        const q = 1 + Math.floor(s.rng.next() * 20);
        const side = s.rng.next() < 0.5 ? 1 : -1;
        const px = ctx.close() + (s.rng.next() - 0.5) * 0.06;
        if (u < 0.04) ctx.order(side * q);
        else if (u < 0.08) ctx.order(side * q, { limit: px });
        else if (u < 0.12) ctx.order(side * q, { stop: px });
        else if (u < 0.13) ctx.cancelAll();
      },
    });
    const r = runBacktest(bars, { strategy: strat, costs: { slippage_model: 'random', slippage_bps: 6, fee_bps: 0.3 }, seed: 8 });
    const { orders: o, fills: f } = r;
    const kinds = new Set<number>();
    for (let k = 0; k < o.length; k++) {
      assert.equal(Number.isNaN(o.limitPrice[k]!), o.type[k] !== ORDER_LIMIT);
      assert.equal(Number.isNaN(o.stopPrice[k]!), o.type[k] !== ORDER_STOP);
    }
    for (let k = 0; k < f.length; k++) {
      const ord = f.orderId[k]! - 1;
      assert.equal(o.fillId[ord], k + 1);
      const open = bars.open[f.bar[k]!]!;
      const buy = f.side[k] === SIDE_BUY;
      const t = o.type[ord]!;
      kinds.add(t);
      const lvl = t === ORDER_LIMIT ? o.limitPrice[ord]! : o.stopPrice[ord]!;
      const ref =
        t === ORDER_MARKET
          ? open
          : t === ORDER_LIMIT
            ? buy
              ? Math.min(open, lvl)
              : Math.max(open, lvl)
            : buy
              ? Math.max(open, lvl)
              : Math.min(open, lvl);
      assert.ok(Object.is(f.slippage[k], Math.abs(f.price[k]! - ref) * f.qty[k]!), `fill ${k + 1}`);
      if (t === ORDER_LIMIT) assert.equal(f.slippage[k], 0);
    }
    assert.equal(kinds.size, 3);
    let unfilled = 0;
    for (let k = 0; k < o.length; k++) if (o.fillId[k] === 0) unfilled++;
    assert.equal(unfilled, o.length - f.length);
  });
});
