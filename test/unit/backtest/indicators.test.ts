import { strict as assert } from 'node:assert';
import { Atr, Bollinger, Ema, RollingExtreme, Rsi, Sma } from '../../../src/engine/backtest/indicators.ts';

let s = 99;
const rnd = () => {
  s = (s * 1103515245 + 12345) % 2147483648;
  return s / 2147483648;
};
const N = 10_000;
const close = new Float64Array(N),
  high = new Float64Array(N),
  low = new Float64Array(N);
{
  let p = 100;
  for (let i = 0; i < N; i++) {
    p += rnd() - 0.5;
    close[i] = p;
    high[i] = p + rnd();
    low[i] = p - rnd();
  }
}
const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

describe('incremental indicators vs direct definitions', () => {
  it('SMA: mean of the last n values; NaN before n', () => {
    const ind = new Sma(close, 20);
    for (let i = 0; i < N; i++) {
      ind.update(i);
      if (i < 19) {
        assert.ok(Number.isNaN(ind.value));
        continue;
      }
      let sum = 0;
      for (let k = i - 19; k <= i; k++) sum += close[k]!;
      near(ind.value, sum / 20);
    }
  });

  it('EMA: SMA seed over n, then alpha = 2/(n+1)', () => {
    const ind = new Ema(close, 10);
    let ref = NaN;
    for (let i = 0; i < N; i++) {
      ind.update(i);
      if (i === 9) {
        ref = 0;
        for (let k = 0; k < 10; k++) ref += close[k]! / 10;
      } else if (i > 9) ref = close[i]! * (2 / 11) + ref * (1 - 2 / 11);
      if (i < 9) assert.ok(Number.isNaN(ind.value));
      else near(ind.value, ref);
    }
  });

  it('RSI (Wilder) on a hand-computed sequence', () => {
    const x = Float64Array.from([1, 2, 3, 2, 4, 3]);
    const ind = new Rsi(x, 3);
    const vals: number[] = [];
    for (let i = 0; i < x.length; i++) {
      ind.update(i);
      vals.push(ind.value);
    }
    // changes: +1 +1 −1 | +2 −1; first avg gain 2/3, loss 1/3 → RSI 66.67
    // then gain (2/3·2 + 2)/3 = 10/9, loss (1/3·2)/3 = 2/9 → 83.33; then gain 20/27, loss (4/9 + 1)/3 = 13/27 → 100 − 100/(1 + 20/13)
    assert.ok(vals.slice(0, 3).every(Number.isNaN));
    near(vals[3]!, 100 - 100 / (1 + 2));
    near(vals[4]!, 100 - 100 / (1 + 5));
    near(vals[5]!, 100 - 100 / (1 + 20 / 13));
  });

  it('ATR (Wilder): first TR = high − low, seed = mean of n TRs', () => {
    const ind = new Atr(high, low, close, 14);
    let ref = 0;
    for (let i = 0; i < 500; i++) {
      ind.update(i);
      const tr =
        i === 0 ? high[0]! - low[0]! : Math.max(high[i]! - low[i]!, Math.abs(high[i]! - close[i - 1]!), Math.abs(low[i]! - close[i - 1]!));
      if (i < 13) {
        ref += tr;
        assert.ok(Number.isNaN(ind.value));
        continue;
      }
      ref = i === 13 ? (ref + tr) / 14 : (ref * 13 + tr) / 14;
      near(ind.value, ref);
    }
  });

  it('Bollinger: middle ± k·population std over the window (through re-sum points)', () => {
    const ind = new Bollinger(close, 20, 2);
    for (let i = 0; i < N; i++) {
      ind.update(i);
      if (i < 19) continue;
      let m = 0;
      for (let k = i - 19; k <= i; k++) m += close[k]! / 20;
      let v = 0;
      for (let k = i - 19; k <= i; k++) v += (close[k]! - m) ** 2 / 20;
      near(ind.middle, m);
      near(ind.upper, m + 2 * Math.sqrt(v), 1e-7);
      near(ind.lower, m - 2 * Math.sqrt(v), 1e-7);
    }
  });

  it('rolling highest/lowest over n bars', () => {
    const hi = new RollingExtreme(high, 7, 1),
      lo = new RollingExtreme(low, 7, -1);
    for (let i = 0; i < N; i++) {
      hi.update(i);
      lo.update(i);
      if (i < 6) {
        assert.ok(Number.isNaN(hi.value));
        continue;
      }
      assert.equal(hi.value, Math.max(...high.subarray(i - 6, i + 1)));
      assert.equal(lo.value, Math.min(...low.subarray(i - 6, i + 1)));
    }
  });
});
