import { strict as assert } from 'node:assert';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';
import { mkBars, scripted } from './helpers.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);
// bar opens 100, 100, 110, 120
const bars = () =>
  mkBars(
    [
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [110, 111, 109, 110],
      [120, 121, 119, 120],
    ],
    { spread: [0.02, 0.04, NaN, 0.1] },
  );
const buyThenSell = scripted({ 0: (c) => c.buy(10), 1: (c) => c.sell(10) });

describe('fill and fee models', () => {
  it('fixed bps slippage: buy at open·(1+bps/1e4), sell at open·(1−bps/1e4); slippage column = |Δ|·qty', () => {
    const r = runBacktest(bars(), { strategy: buyThenSell, costs: { slippage_bps: 10 } });
    close(r.fills.price[0]!, 100.1);
    close(r.fills.price[1]!, 109.89);
    close(r.fills.slippage[0]!, 1);
    close(r.fills.slippage[1]!, 1.1);
    close(r.equity.cash[3]!, 100000 - 1001 + 1098.9);
  });

  it('half-spread: ± spread_mean/2 of the fill bar, 0 when spread_mean is null', () => {
    const r = runBacktest(bars(), { strategy: buyThenSell, costs: { slippage_model: 'half-spread' } });
    close(r.fills.price[0]!, 100.02, 1e-12);
    assert.equal(r.fills.price[1], 110, 'bar 2 has no quotes');
    close(r.fills.slippage[0]!, 0.2);
  });

  it('random: uniform 0..max bps from the seed, reproducible, seed-dependent', () => {
    const run = (seed: number) =>
      runBacktest(bars(), { strategy: buyThenSell, seed, costs: { slippage_model: 'random', slippage_bps: 20 } });
    const a = run(42);
    const rng = new Sfc32(42);
    close(a.fills.price[0]!, 100 * (1 + (rng.next() * 20) / 1e4), 1e-15);
    close(a.fills.price[1]!, 110 * (1 - (rng.next() * 20) / 1e4), 1e-15);
    assert.ok(a.fills.price[0]! >= 100 && a.fills.price[0]! <= 100.2);
    assert.deepEqual(run(42).fills.price, a.fills.price);
    assert.notDeepEqual(run(43).fills.price, a.fills.price);
  });

  it('the PRNG gives the same uniform stream for a seed, in [0, 1)', () => {
    const a = new Sfc32(7),
      b = new Sfc32(7),
      c = new Sfc32(8);
    const xs = Array.from({ length: 1000 }, () => a.next());
    assert.deepEqual(
      Array.from({ length: 1000 }, () => b.next()),
      xs,
    );
    assert.notEqual(c.next(), xs[0]);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  });

  it('fees: max(fee_min, |q|·per_unit + |q|·price·bps/1e4) on the slipped price, on every fill', () => {
    const r = runBacktest(bars(), { strategy: buyThenSell, costs: { fee_per_unit: 0.01, fee_bps: 1, fee_min: 1 } });
    // buy 10 @ 100: 0.1 + 0.1 = 0.2 → min 1; sell 10 @ 110: 0.1 + 0.11 = 0.21 → 1
    assert.deepEqual(Array.from(r.fills.fee), [1, 1]);
    const big = scripted({ 0: (c) => c.buy(1000), 1: (c) => c.sell(1000) });
    const r2 = runBacktest(bars(), { strategy: big, costs: { fee_per_unit: 0.01, fee_bps: 1, fee_min: 1, slippage_bps: 10 } });
    close(r2.fills.fee[0]!, 10 + (1000 * 100.1) / 1e4);
    close(r2.fills.fee[1]!, 10 + (1000 * 109.89) / 1e4);
    close(r2.metrics.fees_total, 20 + 10.01 + 10.989);
    // cash: a buy pays qty·price + fee, a sell receives qty·price − fee
    close(r2.equity.cash[3]!, 100000 - 100100 - 20.01 + 109890 - 20.989);
    close(r2.metrics.turnover, 100100 + 109890);
  });

  it('refuses bad costs naming the field', () => {
    assert.throws(
      () => runBacktest(bars(), { strategy: buyThenSell, costs: { fee_bps: -1 } }),
      /costs\.fee_bps: expected a finite number ≥ 0, got -1/,
    );
    assert.throws(
      () => runBacktest(bars(), { strategy: buyThenSell, costs: { slippage_model: 'half-spread', slippage_bps: 3 } }),
      /exclusive/,
    );
    assert.throws(() => runBacktest(bars(), { strategy: buyThenSell, costs: { slippage_model: 'x' as never } }), /costs\.slippage_model/);
  });
});
