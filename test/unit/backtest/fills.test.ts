import { strict as assert } from 'node:assert';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { mkBars, scripted } from './helpers.ts';

const col = (a: ArrayLike<number>) => Array.from(a);

describe('simulatedExchange fill rules', () => {
  // bar:       0                 1                  2                 3
  const bars = mkBars([
    [100, 101, 99, 100.5],
    [100.2, 100.8, 99.6, 100],
    [99.8, 100.4, 98.5, 99],
    [97, 98, 96, 97.5],
  ]);

  it('market order: fills at the next bar open, never on the signal bar', () => {
    const r = runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(10) }) });
    assert.equal(r.fills.length, 1);
    assert.equal(r.fills.bar[0], 1);
    assert.equal(r.fills.price[0], 100.2);
    assert.equal(r.fills.ts[0], bars.ts[1]);
    assert.equal(r.orders.ts[0], bars.ts[0]);
    assert.deepEqual(col(r.equity.position), [0, 10, 10, 10]);
    // cash = 100000 − 10·100.2; equity = cash + 10·close
    assert.deepEqual(col(r.equity.cash), [100000, 98998, 98998, 98998]);
    assert.deepEqual(col(r.equity.equity), [100000, 98998 + 1000, 98998 + 990, 98998 + 975]);
  });

  it('limit buy: not on the signal bar even when its range crosses; later at the level', () => {
    // limit 99.7 submitted at bar 0 (whose low 99 crosses it): bar 1 low 99.6 ≤ 99.7 → fill at 99.7
    const r = runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(10, { limit: 99.7 }) }) });
    assert.equal(r.fills.bar[0], 1);
    assert.equal(r.fills.price[0], 99.7);
    assert.equal(r.fills.slippage[0], 0);
  });

  it('limit buy: waits while the range stays above; gap through fills at the open', () => {
    const r = runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(5, { limit: 98 }) }) });
    assert.equal(r.fills.bar[0], 3, 'bar 2 low 98.5 > 98; bar 3 opens at 97 < 98');
    assert.equal(r.fills.price[0], 97);
  });

  it('limit sell: at the level when the high reaches it, at the open when gapped', () => {
    const r1 = runBacktest(bars, { strategy: scripted({ 1: (c) => c.sell(3, { limit: 100.3 }) }) });
    assert.equal(r1.fills.bar[0], 2);
    assert.equal(r1.fills.price[0], 100.3);
    const r2 = runBacktest(bars, { strategy: scripted({ 0: (c) => c.sell(3, { limit: 100.1 }) }) });
    assert.equal(r2.fills.bar[0], 1);
    assert.equal(r2.fills.price[0], 100.2, 'bar 1 opened above the limit');
  });

  it('stop buy: triggers when the high reaches the stop, at the stop; gap → open', () => {
    const r = runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(1, { stop: 100.6 }) }) });
    assert.equal(r.fills.bar[0], 1);
    assert.equal(r.fills.price[0], 100.6);
    const g = runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(1, { stop: 100.1 }) }) });
    assert.equal(g.fills.price[0], 100.2, 'opened above the stop');
  });

  it('stop sell: triggers when the low reaches the stop; gap down fills at the open', () => {
    const r = runBacktest(bars, { strategy: scripted({ 0: (c) => c.sell(2, { stop: 99 }) }) });
    assert.equal(r.fills.bar[0], 2, 'bar 1 low 99.6 stays above');
    assert.equal(r.fills.price[0], 99);
    const g = runBacktest(bars, { strategy: scripted({ 1: (c) => c.sell(2, { stop: 98 }) }) });
    assert.equal(g.fills.bar[0], 3);
    assert.equal(g.fills.price[0], 97);
  });

  it('cancel: a canceled order never fills and is logged canceled; an order left at the end stays open', () => {
    let id = 0;
    const r = runBacktest(bars, {
      strategy: scripted({
        0: (c) => {
          id = c.buy(1, { limit: 90 });
          c.sell(1, { limit: 200 });
        },
        1: (c) => assert.equal(c.cancel(id), true),
      }),
    });
    assert.equal(r.fills.length, 0);
    assert.deepEqual(col(r.orders.status), [2, 0]);
    assert.deepEqual(col(r.orders.fillId), [0, 0]);
    assert.deepEqual(col(r.events.kind), [1, 1, 3]);
  });

  it('orders record side, qty, type, prices and the fill id', () => {
    const r = runBacktest(bars, {
      strategy: scripted({
        0: (c) => {
          c.buy(4);
          c.sell(2, { stop: 99 });
        },
      }),
    });
    assert.deepEqual(col(r.orders.side), [0, 1]);
    assert.deepEqual(col(r.orders.qty), [4, 2]);
    assert.deepEqual(col(r.orders.type), [0, 2]);
    assert.deepEqual(col(r.orders.stopPrice), [NaN, 99]);
    assert.deepEqual(col(r.orders.fillId), [1, 2]);
    assert.deepEqual(col(r.fills.orderId), [1, 2]);
    assert.deepEqual(col(r.equity.position), [0, 4, 2, 2]);
  });

  it('onFill sees each fill; orders placed there fill from the next bar', () => {
    const seen: string[] = [];
    const r = runBacktest(bars, {
      strategy: scripted({ 0: (c) => c.buy(1) }, (ctx, f) => {
        seen.push(`${f.side} ${f.qty}@${f.price} bar ${f.bar}`);
        if (f.side === 'buy') ctx.sell(1);
      }),
    });
    assert.deepEqual(seen, ['buy 1@100.2 bar 1', 'sell 1@99.8 bar 2']);
    assert.equal(r.trades.length, 1);
  });

  it('rejects bad orders with a clear message', () => {
    assert.throws(
      () => runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(0) }) }),
      /order quantity must be a finite number > 0, got 0/,
    );
    assert.throws(
      () => runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(1, { limit: 1, stop: 2 }) }) }),
      /limit or a stop price, not both/,
    );
    assert.throws(() => runBacktest(bars, { strategy: scripted({ 0: (c) => c.close(-1) }) }), /no look-ahead/);
  });
});
