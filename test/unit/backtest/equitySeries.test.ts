import { strict as assert } from 'node:assert';
import { z } from 'zod';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { defineStrategy } from '../../../src/engine/backtest/strategy.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';
import { synthBars } from './support/dataset.ts';

/**
 * The engine stores only equity per bar; position and cash are replayed from the fill log on
 * access. Independent check: a strategy records what the portfolio showed it at every bar
 * (ctx.position / ctx.cash in onBar come after that bar's fills, before any new order fills).
 */
describe('equity columns: position and cash replayed from fills', () => {
  it('equal the portfolio at every bar (market/limit/stop orders, onFill orders, fees, random slippage, reversals)', () => {
    const bars = synthBars(5000, 11);
    const seen = { pos: new Float64Array(bars.length), cash: new Float64Array(bars.length) };
    const strat = defineStrategy({
      id: 'recorder',
      params: z.object({}),
      onStart: () => ({ rng: new Sfc32(5) }),
      onBar(ctx, s: { rng: Sfc32 }) {
        seen.pos[ctx.index] = ctx.position;
        seen.cash[ctx.index] = ctx.cash;
        if (ctx.isLastBar) return;
        const u = s.rng.next();
        const q = 1 + Math.floor(s.rng.next() * 50);
        if (u < 0.05) ctx.order(u < 0.025 ? q : -q);
        else if (u < 0.08) ctx.buy(q, { limit: ctx.close() - 0.02 });
        else if (u < 0.11) ctx.sell(q, { stop: ctx.close() - 0.03 });
        else if (u < 0.12)
          ctx.targetPosition(-ctx.position); // a reversal through zero
        else if (u < 0.13) ctx.cancelAll();
      },
      onFill(ctx, f) {
        if (f.qty > 40) ctx.order(f.side === 'buy' ? -7 : 7); // orders from onFill fill from the next bar
      },
    });
    const r = runBacktest(bars, {
      strategy: strat,
      seed: 3,
      costs: { slippage_model: 'random', slippage_bps: 5, fee_per_unit: 0.005, fee_bps: 0.2, fee_min: 0.35 },
    });
    assert.ok(r.fills.length > 300, `only ${r.fills.length} fills`);
    assert.deepEqual(Array.from(r.equity.position), Array.from(seen.pos));
    assert.deepEqual(Array.from(r.equity.cash), Array.from(seen.cash));
    for (let i = 0; i < bars.length; i++)
      assert.equal(r.equity.equity[i], seen.cash[i]! + seen.pos[i]! * bars.close[i]!, `equity at bar ${i}`);
  });

  it('a run without fills: flat position and the initial cash throughout', () => {
    const bars = synthBars(300, 2);
    const r = runBacktest(bars, { strategy: defineStrategy({ id: 'idle', params: z.object({}), onBar() {} }), costs: { cash: 12_345 } });
    assert.ok(r.equity.position.every((v) => v === 0));
    assert.ok(r.equity.cash.every((v) => v === 12_345));
    assert.equal(r.equity.position.length, 300);
  });
});
