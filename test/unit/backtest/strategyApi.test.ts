import { strict as assert } from 'node:assert';
import { z } from 'zod';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { defineStrategy, StrategyError } from '../../../src/engine/backtest/strategy.ts';
import { BUILTIN_STRATEGIES } from '../../../src/engine/strategies/index.ts';
import { allocBarSeries } from '../../../src/engine/bars/barSeries.ts';
import { closesToBars, mkBars, ns, MIN } from './helpers.ts';

/** A seeded random walk over several New York days, 24 h a day, with quotes. */
function walk(n: number, seed: number) {
  const b = allocBarSeries('WALK', n);
  let s = seed,
    p = 100;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const t0 = ns('2024-03-04T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.round((p + (rnd() - 0.5) * 0.3) * 100) / 100;
    b.ts[i] = t0 + i * MIN;
    b.open[i] = o;
    b.close[i] = p;
    b.high[i] = Math.max(o, p) + 0.05;
    b.low[i] = Math.min(o, p) - 0.05;
    b.spreadMean[i] = 0.01 + rnd() * 0.02;
    b.quoteCount[i] = 3;
  }
  return b;
}

describe('strategy API and engine', () => {
  it('a strategy that throws fails the run with its stack trace, the callback and the bar', () => {
    const boom = defineStrategy({
      id: 'boom',
      params: z.object({}),
      onBar(ctx) {
        if (ctx.index === 3) throw new Error('kaboom');
      },
    });
    try {
      runBacktest(closesToBars([1, 2, 3, 4, 5]), { strategy: boom });
      assert.fail('expected a failure');
    } catch (e) {
      assert.ok(e instanceof StrategyError);
      assert.match(e.message, /strategy 'boom' threw in onBar at bar 3 \(2024-03-04T15:03:00\.000Z\): kaboom/);
      assert.match(e.stack!, /Error: kaboom\n\s+at (Object\.)?onBar .*strategyApi\.test\.ts/);
    }
  });

  it('onStart errors and indicator creation outside onStart are reported', () => {
    const bad = defineStrategy({
      id: 'late',
      params: z.object({}),
      onBar(ctx) {
        ctx.sma(3);
      },
    });
    assert.throws(
      () => runBacktest(closesToBars([1, 2]), { strategy: bad }),
      /threw in onBar at bar 0 .*indicators can only be created in onStart/,
    );
    const badStart = defineStrategy({ id: 's', params: z.object({}), onStart: (ctx) => ctx.sma(0), onBar() {} });
    assert.throws(
      () => runBacktest(closesToBars([1, 2]), { strategy: badStart }),
      /threw in onStart: sma\(0\): period must be an integer ≥ 1/,
    );
  });

  it('defineStrategy checks its definition', () => {
    assert.throws(() => defineStrategy({ id: '', params: z.object({}), onBar() {} }), /id must be/);
    assert.throws(() => defineStrategy({ id: 'x', params: {} as never, onBar() {} }), /params must be a zod schema/);
  });

  it('indicators are updated before onBar and include the current bar', () => {
    const seen: number[] = [];
    const st = defineStrategy({
      id: 'probe',
      params: z.object({}),
      onStart: (ctx) => ({ sma: ctx.sma(2), hi: ctx.highest(2, 'close') }),
      onBar(ctx, s) {
        seen.push(s.sma.value, s.hi.value, ctx.close(1));
      },
    });
    runBacktest(closesToBars([1, 3, 2]), { strategy: st });
    assert.deepEqual(seen, [NaN, NaN, NaN, 2, 3, 1, 2.5, 3, 3]);
  });

  it('session rth: the run sees only regular-hours bars (indices, fills, equity)', () => {
    // 2024-03-08 (Fri, EST): 14:29Z is 09:29 (out), 14:30Z in, 20:59Z in, 21:00Z (16:00 bar) out
    const ts = ['2024-03-08T14:29:00Z', '2024-03-08T14:30:00Z', '2024-03-08T20:59:00Z', '2024-03-08T21:00:00Z', '2024-03-11T13:30:00Z'].map(
      ns,
    );
    const bars = mkBars(
      [
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        [3, 3, 3, 3],
        [4, 4, 4, 4],
        [5, 5, 5, 5],
      ],
      { ts },
    );
    const idx: number[] = [];
    const st = defineStrategy({
      id: 'p',
      params: z.object({}),
      onBar(ctx) {
        idx.push(ctx.close());
        if (ctx.index === 0) ctx.buy(1);
      },
    });
    const r = runBacktest(bars, { strategy: st, session: 'rth' });
    assert.deepEqual(idx, [2, 3, 5]);
    assert.deepEqual(Array.from(r.equity.ts), [ts[1], ts[2], ts[4]]);
    assert.equal(r.fills.price[0], 3);
    assert.equal(runBacktest(bars, { strategy: st, session: 'all' }).equity.ts.length, 5);
    assert.throws(
      () => runBacktest(bars.ts.length ? mkBars([[1, 1, 1, 1]], { ts: [ts[0]!] }) : bars, { strategy: st, session: 'rth' }),
      /no bars to run on: TEST has 1 bars, 0 after session 'rth'/,
    );
  });

  it('determinism: identical inputs give identical result arrays (every built-in, random slippage)', () => {
    const bars = walk(5000, 3);
    const params: Record<string, object> = {
      'sma-cross': { fast: 5, slow: 20, allow_short: true },
      'bollinger-reversion': { allow_short: true },
      'donchian-breakout': { allow_short: true },
    };
    for (const [id, def] of Object.entries(BUILTIN_STRATEGIES)) {
      const spec = {
        strategy: def,
        params: params[id],
        seed: 9,
        costs: { slippage_model: 'random' as const, slippage_bps: 5, fee_per_unit: 0.005, fee_min: 1 },
      };
      const a = runBacktest(bars, spec),
        b = runBacktest(bars, spec);
      assert.ok(a.fills.length > 10, `${id} trades`);
      for (const k of ['equity', 'orders', 'fills', 'trades', 'events'] as const) assert.deepEqual(a[k], b[k], `${id} ${k}`);
      assert.deepEqual(a.metrics, b.metrics);
    }
  });

  it('donchian-breakout fills its stops at the channel level or the gap open, never better than seen', () => {
    const bars = walk(3000, 5);
    const r = runBacktest(bars, { strategy: BUILTIN_STRATEGIES['donchian-breakout']!, params: { entry: 20, exit: 10 } });
    for (let k = 0; k < r.fills.length; k++) {
      const o = r.fills.orderId[k]! - 1;
      const bar = r.fills.bar[k]!;
      assert.ok(r.orders.bar[o]! < bar);
      const stop = r.orders.stopPrice[o]!;
      const expected = r.fills.side[k] === 0 ? Math.max(bars.open[bar]!, stop) : Math.min(bars.open[bar]!, stop);
      assert.equal(r.fills.price[k], expected);
    }
  });

  it('donchian-breakout with an exit channel longer than the entry one waits for both (no NaN stop)', () => {
    const bars = walk(3000, 6);
    const r = runBacktest(bars, { strategy: BUILTIN_STRATEGIES['donchian-breakout']!, params: { entry: 10, exit: 30, allow_short: true } });
    assert.ok(r.fills.length > 0);
    for (let k = 0; k < r.orders.length; k++) assert.ok(Number.isFinite(r.orders.stopPrice[k]) && r.orders.bar[k]! >= 29);
  });

  it('bollinger-reversion on a hand-computed series: buy below the lower band, exit at the middle', () => {
    // i=4: window 10,10,10,7 → mean 9.25, population std √1.6875 ≈ 1.299 → lower ≈ 7.95 > 7 → buy (fills bar 5 @ 8)
    // i=5: window 10,10,7,8 → middle 8.75 > 8 → hold; i=6: window 10,7,8,11 → middle 9 ≤ 11 → sell (fills bar 7 @ 10)
    const r = runBacktest(closesToBars([10, 10, 10, 10, 7, 8, 11, 10]), {
      strategy: BUILTIN_STRATEGIES['bollinger-reversion']!,
      params: { period: 4, k: 1 },
    });
    assert.deepEqual(Array.from(r.fills.bar), [5, 7]);
    assert.deepEqual(Array.from(r.fills.price), [8, 10]);
    assert.equal(r.trades.pnl[0], 200);
  });

  it('refuses bars that are not in time order, naming the row', () => {
    const b = closesToBars([1, 2, 3]);
    b.ts[2] = b.ts[0]!;
    assert.throws(
      () => runBacktest(b, { strategy: BUILTIN_STRATEGIES['sma-cross']!, params: { fast: 1, slow: 2 } }),
      /bars of TEST are not sorted by ts: row 2 \(2024-03-04T15:00:00\.000Z\) comes after row 1/,
    );
  });
});
