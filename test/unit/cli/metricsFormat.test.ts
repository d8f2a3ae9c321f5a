import { strict as assert } from 'node:assert';
import { formatMetric, groupedFixed2, metricsTable } from '../../../src/engine/backtest/format.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';

/** What the metrics table printed before it stopped asking ICU (and what ICU still says). */
const icu = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

describe('metrics table numbers (format.ts)', () => {
  it('groupedFixed2 prints what toLocaleString en-US with 2 decimals prints: ties, near-ties, edges', () => {
    const cases = [
      1000,
      1000.005,
      1000.015,
      1000.025,
      1000.125,
      1000.375,
      1999.995,
      9999.995,
      99_999.999,
      1000.0049999999999,
      1234.565,
      1234.575,
      57_446_600,
      99_599,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 60,
      1e21,
      1.5e21,
      123_456_789_012_345.67,
      1e300,
      Number.MAX_VALUE,
      0.005,
      0.015,
      1e-7,
      999.995,
      -0.001,
      -0,
      0,
      Infinity,
      -Infinity,
    ];
    for (const v of cases) {
      assert.equal(groupedFixed2(v), icu(v), String(v));
      assert.equal(groupedFixed2(-v), icu(-v), String(-v));
    }
  });

  it('groupedFixed2 agrees with toLocaleString on 60 000 seeded values: thousandths (every tie) and raw doubles', () => {
    const rng = new Sfc32(12);
    const bits = new Float64Array(1);
    const words = new Uint32Array(bits.buffer);
    for (let i = 0; i < 30_000; i++) {
      // a whole part of 4 to 15 digits and a multiple of 0.001: every x.xx5 is a tie for ICU
      const whole = Math.floor(rng.next() * 10 ** (4 + Math.floor(rng.next() * 12)));
      const v = (whole + Math.floor(rng.next() * 1000) / 1000) * (rng.next() < 0.5 ? -1 : 1);
      assert.equal(groupedFixed2(v), icu(v), String(v));
      words[0] = rng.nextUint32();
      words[1] = rng.nextUint32();
      const x = bits[0]!;
      if (!Number.isNaN(x)) assert.equal(groupedFixed2(x), icu(x), String(x));
    }
  });

  it('formatMetric and metricsTable print a run the way they always have', () => {
    assert.equal(formatMetric('final_equity', 99_599), '99,599.00');
    assert.equal(formatMetric('turnover', 57_446_600), '57,446,600.00');
    assert.equal(formatMetric('turnover', 1000.005), '1,000.01'); // ICU's rounding, not toFixed's 1000.00
    assert.equal(formatMetric('fees_total', -12_345.675), '-12,345.68');
    assert.equal(formatMetric('sharpe', -0.35151), '-0.3515');
    assert.equal(formatMetric('total_return', -0.004), '-0.40 %');
    assert.equal(formatMetric('num_trades', 2905), '2905');
    assert.equal(formatMetric('calmar', null), '—');
    const table = metricsTable({
      final_equity: 99_599,
      total_return: -0.004,
      cagr: -0.0029,
      volatility: 0.0056,
      sharpe: -0.3515,
      sortino: -0.5247,
      max_drawdown: 0.0099,
      calmar: null,
      num_trades: 2905,
      win_rate: 0.284,
      profit_factor: 0.9734,
      avg_trade_pnl: -0.1353,
      exposure: 0.5,
      num_fills: 5811,
      fees_total: 0,
      turnover: 57_446_600,
    });
    assert.equal(
      table,
      [
        '  final_equity          99,599.00',
        '  total_return            -0.40 %',
        '  cagr                    -0.29 %',
        '  volatility               0.56 %',
        '  sharpe                  -0.3515',
        '  sortino                 -0.5247',
        '  max_drawdown             0.99 %',
        '  calmar                        —',
        '  num_trades                 2905',
        '  win_rate                28.40 %',
        '  profit_factor            0.9734',
        '  avg_trade_pnl           -0.1353',
        '  exposure                50.00 %',
        '  num_fills                  5811',
        '  fees_total               0.0000',
        '  turnover          57,446,600.00',
        '',
      ].join('\n'),
    );
  });
});
