import { strict as assert } from 'node:assert';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { smaCross } from '../../../src/engine/strategies/smaCross.ts';
import { StrategyParamsError } from '../../../src/engine/backtest/strategy.ts';
import { closesToBars } from './helpers.ts';

const col = (a: ArrayLike<number>) => Array.from(a);

/** Reference targets straight from docs/backtest.md with BigInt sums (independent of the strategy code). */
function referenceFills(closes: number[], fast: number, slow: number, size: number, allowShort: boolean): { bar: number; qty: number }[] {
  const raw = closes.map((c) => BigInt(Math.round(c * 1e9)));
  const out: { bar: number; qty: number }[] = [];
  let pos = 0;
  for (let i = slow - 1; i < closes.length - 1; i++) {
    let sf = 0n,
      ss = 0n;
    for (let k = i - fast + 1; k <= i; k++) sf += raw[k]!;
    for (let k = i - slow + 1; k <= i; k++) ss += raw[k]!;
    const target = sf * BigInt(slow) > ss * BigInt(fast) ? size : allowShort ? -size : 0;
    if (target !== pos) {
      out.push({ bar: i + 1, qty: target - pos });
      pos = target;
    }
  }
  return out;
}

describe('sma-cross (docs/backtest.md)', () => {
  const closes = [10, 11, 12, 11, 10, 9, 10, 12, 13, 12];

  it('hand-computed long-only run: fills at the next open, none at the last bar', () => {
    const r = runBacktest(closesToBars(closes), { strategy: smaCross, params: { fast: 2, slow: 3, size: 1 } });
    // bar 2: 11.5 > 11 → buy (fill bar 3 @ 11); bar 4: 10.5 < 11 → sell (bar 5 @ 9); bar 7: 11 > 10.33 → buy (bar 8 @ 13)
    assert.deepEqual(col(r.fills.bar), [3, 5, 8]);
    assert.deepEqual(col(r.fills.price), [11, 9, 13]);
    assert.deepEqual(col(r.fills.side), [0, 1, 0]);
    assert.deepEqual(
      col(r.orders.ts),
      [2, 4, 7].map((i) => r.bars.ts[i]),
    );
    assert.equal(r.trades.length, 2);
    assert.equal(r.trades.pnl[0], -2);
    assert.ok(Number.isNaN(r.trades.pnl[1]!));
    assert.equal(r.metrics.final_equity, 100000 - 11 + 9 - 13 + 12);
  });

  it('allow_short: reversals are single orders of 2·size', () => {
    const r = runBacktest(closesToBars(closes), { strategy: smaCross, params: { fast: 2, slow: 3, size: 1, allow_short: true } });
    assert.deepEqual(col(r.fills.bar), [3, 5, 8]);
    assert.deepEqual(col(r.fills.qty), [1, 2, 2]);
    assert.deepEqual(col(r.trades.pnl).slice(0, 2), [-2, -4]);
    assert.deepEqual(col(r.trades.direction), [0, 1, 0]);
  });

  it('decides ties exactly on integer sums where floating-point means disagree', () => {
    // SMA2 = (100.25 + 101.15)/2 and SMA4 = 402.8/4 are both 100.7, but in doubles the first is larger.
    const c = [101.34, 100.06, 100.25, 101.15, 101];
    assert.ok((c[2]! + c[3]!) / 2 > (c[0]! + c[1]! + c[2]! + c[3]!) / 4, 'the float comparison is wrong here');
    const r = runBacktest(closesToBars(c), { strategy: smaCross, params: { fast: 2, slow: 4 } });
    assert.equal(r.orders.length, 0);
  });

  it('matches a BigInt reference on a random walk, including prices whose products pass 2^53', () => {
    let s = 12345;
    const rnd = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
    for (const [base, fast, slow] of [
      [100, 5, 20],
      [250_000, 7, 60],
    ] as const) {
      const cs: number[] = [];
      let p = base;
      for (let i = 0; i < 3000; i++) {
        p = Math.round((p + (rnd() - 0.5) * base * 0.002) * 100) / 100;
        cs.push(p);
      }
      const r = runBacktest(closesToBars(cs), { strategy: smaCross, params: { fast, slow, allow_short: true } });
      const ref = referenceFills(cs, fast, slow, 100, true);
      assert.ok(ref.length > 20);
      assert.deepEqual(
        col(r.fills.bar),
        ref.map((x) => x.bar),
      );
      assert.deepEqual(
        col(r.fills.qty),
        ref.map((x) => Math.abs(x.qty)),
      );
    }
  });

  it('matches the BigInt reference where products pass 2^53 but sums do not, including exact ties on flat stretches', () => {
    // price 100 with slow 400: Σslow·fast ≈ 4e13·150 > 2^53, so every comparison is outside the
    // exact-product range; flat stretches longer than slow make the SMAs exactly equal (ties → not above).
    let s = 777;
    const rnd = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
    const cs: number[] = [];
    let p = 100;
    for (let i = 0; i < 6000; i++) {
      if (i % 1500 < 600) {
        cs.push(p);
        continue;
      } // flat: ties for ~200 bars each time
      p = Math.round((p + (rnd() - 0.5) * 0.2) * 100) / 100;
      cs.push(p);
    }
    for (const allowShort of [false, true]) {
      const r = runBacktest(closesToBars(cs), { strategy: smaCross, params: { fast: 150, slow: 400, allow_short: allowShort } });
      const ref = referenceFills(cs, 150, 400, 100, allowShort);
      assert.ok(ref.length > 10, `only ${ref.length} reference fills`);
      assert.deepEqual(
        col(r.fills.bar),
        ref.map((x) => x.bar),
      );
      assert.deepEqual(
        col(r.fills.qty),
        ref.map((x) => Math.abs(x.qty)),
      );
    }
  });

  it('bad params: one error listing every issue', () => {
    try {
      runBacktest(closesToBars(closes), { strategy: smaCross, params: { fast: 0, slow: 'x', size: -1, colour: 1 } });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof StrategyParamsError);
      assert.match(e.message, /^invalid params for strategy 'sma-cross':/);
      assert.ok(
        e.issues.some((x) => x.startsWith('fast:')),
        e.message,
      );
      assert.ok(
        e.issues.some((x) => x.startsWith('slow:')),
        e.message,
      );
      assert.ok(
        e.issues.some((x) => x.startsWith('size:')),
        e.message,
      );
      assert.ok(
        e.issues.some((x) => /colour/.test(x)),
        e.message,
      );
    }
    assert.throws(
      () => runBacktest(closesToBars(closes), { strategy: smaCross, params: { fast: 30, slow: 10 } }),
      /slow: slow must be greater than fast/,
    );
  });
});
