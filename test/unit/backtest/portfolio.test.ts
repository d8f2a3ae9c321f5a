import { strict as assert } from 'node:assert';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { closesToBars, scripted } from './helpers.ts';

const col = (a: ArrayLike<number>) => Array.from(a);

describe('portfolio and round trips', () => {
  // opens = closes: 100, 100, 110, 105, 120
  const bars = closesToBars([100, 100, 110, 105, 120]);

  it('a reversal is one order and one fill; its fee is split by quantity between the two trips', () => {
    const r = runBacktest(bars, {
      strategy: scripted({ 0: (c) => c.buy(10), 1: (c) => c.sell(20) }),
      costs: { fee_per_unit: 1 },
    });
    assert.equal(r.orders.length, 2);
    assert.equal(r.fills.length, 1 + 1);
    assert.deepEqual(col(r.fills.qty), [10, 20]);
    assert.deepEqual(col(r.fills.fee), [10, 20]);
    assert.equal(r.trades.length, 2);
    // trip 1: long 10 from 100 to 110, fees 10 + 20·10/20 → pnl 100 − 20 = 80
    assert.deepEqual(
      [r.trades.direction[0], r.trades.qty[0], r.trades.entryPrice[0], r.trades.exitPrice[0], r.trades.pnl[0], r.trades.fees[0]],
      [0, 10, 100, 110, 80, 20],
    );
    assert.equal(r.trades.ret[0], 80 / 1000);
    assert.equal(r.trades.barsHeld[0], 1);
    assert.equal(r.trades.entryTs[0], bars.ts[1]);
    assert.equal(r.trades.exitTs[0], bars.ts[2]);
    // trip 2: short 10 from 110, open at the end: null exit, pnl, return, bars held; fees so far 10
    assert.deepEqual([r.trades.direction[1], r.trades.qty[1], r.trades.entryPrice[1], r.trades.fees[1]], [1, 10, 110, 10]);
    assert.ok(
      Number.isNaN(r.trades.exitPrice[1]!) &&
        Number.isNaN(r.trades.pnl[1]!) &&
        Number.isNaN(r.trades.exitTs[1]!) &&
        Number.isNaN(r.trades.ret[1]!),
    );
    assert.equal(r.trades.barsHeld[1], -1);
    // only the closed trip counts
    assert.equal(r.metrics.num_trades, 1);
    assert.equal(r.metrics.win_rate, 1);
    assert.equal(r.metrics.profit_factor, null);
    assert.equal(r.metrics.avg_trade_pnl, 80);
    assert.equal(r.metrics.num_fills, 2);
    assert.equal(r.metrics.fees_total, 30);
    assert.equal(r.metrics.turnover, 1000 + 2200);
    // cash 100000 − 1000 − 10 + 2200 − 20 = 101170, short 10 marked at 120 → 99970 (nothing closed at the end)
    assert.deepEqual(col(r.equity.position), [0, 10, -10, -10, -10]);
    assert.equal(r.metrics.final_equity, 101170 - 1200);
    assert.deepEqual(col(r.events.kind), [1, 2, 4, 1, 2, 5, 4]);
  });

  it('short round trip: pnl = (exit − entry)·qty·(−1) − fees', () => {
    const r = runBacktest(bars, { strategy: scripted({ 1: (c) => c.sell(10), 2: (c) => c.buy(10) }), costs: { fee_min: 2 } });
    assert.equal(r.trades.length, 1);
    assert.equal(r.trades.direction[0], 1);
    assert.equal(r.trades.pnl[0], (110 - 105) * 10 - 4);
    assert.equal(r.metrics.final_equity, 100000 + 50 - 4);
  });

  it('scaling in and out: quantity-weighted entry/exit prices, pnl equals the cash flow', () => {
    const r = runBacktest(bars, {
      strategy: scripted({ 0: (c) => c.buy(10), 1: (c) => c.buy(10), 2: (c) => c.sell(5), 3: (c) => c.sell(15) }),
    });
    assert.equal(r.trades.length, 1);
    assert.equal(r.trades.qty[0], 20);
    assert.equal(r.trades.entryPrice[0], 105); // (10·100 + 10·110)/20
    assert.equal(r.trades.exitPrice[0], (5 * 105 + 15 * 120) / 20);
    assert.equal(r.trades.pnl[0], 5 * 105 + 15 * 120 - 2100);
    assert.equal(r.metrics.final_equity - 100000, r.trades.pnl[0]);
    assert.equal(r.trades.barsHeld[0], 4 - 1);
  });

  it('exposure counts bars whose position after the fills is non-zero', () => {
    const r = runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(1), 2: (c) => c.sell(1) }) });
    assert.deepEqual(col(r.equity.position), [0, 1, 1, 0, 0]);
    assert.equal(r.metrics.exposure, 2 / 5);
  });

  it('targetPosition accounts for open market orders', () => {
    const r = runBacktest(bars, {
      strategy: scripted({
        0: (c) => {
          c.targetPosition(5);
          c.targetPosition(5);
        },
        1: (c) => c.targetPosition(-5),
      }),
    });
    assert.deepEqual(col(r.orders.qty), [5, 10]);
    assert.deepEqual(col(r.equity.position), [0, 5, -5, -5, -5]);
  });
});
