import { strict as assert } from 'node:assert';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { dailyReturns, metricsJson } from '../../../src/engine/backtest/statistics.ts';
import { closesToBars, mkBars, ns, scripted } from './helpers.ts';

const approx = (a: number | null, b: number) => {
  assert.ok(a !== null, `expected ${b}, got null`);
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);
};

describe('statistics (docs/backtest.md)', () => {
  // Three New York dates; the buy fills at bar 1 (100), the sell at bar 3 (95).
  const ts = ['2024-03-04T15:00:00Z', '2024-03-04T15:01:00Z', '2024-03-05T15:00:00Z', '2024-03-05T15:01:00Z', '2024-03-06T15:00:00Z'].map(
    ns,
  );
  const bars = mkBars(
    [
      [100, 100, 100, 100],
      [100, 110, 100, 110],
      [90, 90, 90, 90],
      [95, 95, 95, 95],
      [95, 95, 95, 95],
    ],
    { ts },
  );
  const r = runBacktest(bars, { strategy: scripted({ 0: (c) => c.buy(10), 2: (c) => c.sell(10) }), costs: { cash: 1000 } });
  const m = r.metrics;

  it('equity per bar and drawdown series', () => {
    assert.deepEqual(Array.from(r.equity.equity), [1000, 1100, 900, 950, 950]);
    assert.deepEqual(Array.from(r.equity.drawdown), [0, 0, 1 - 900 / 1100, 1 - 950 / 1100, 1 - 950 / 1100]);
  });

  it('every metric against hand-computed values', () => {
    // D = 1100, 950, 950 → r = 0.1, 950/1100 − 1, 0
    const rs = [0.1, 950 / 1100 - 1, 0];
    const mean = (rs[0]! + rs[1]! + rs[2]!) / 3;
    const sd = Math.sqrt(((rs[0]! - mean) ** 2 + (rs[1]! - mean) ** 2 + (rs[2]! - mean) ** 2) / 2);
    const years = 2 / 365.25;
    const cagr = Math.pow(0.95, 1 / years) - 1;
    const mdd = 1 - 900 / 1100;
    assert.equal(m.final_equity, 950);
    approx(m.total_return, -0.05);
    approx(m.cagr, cagr);
    approx(m.volatility, sd * Math.sqrt(252));
    approx(m.sharpe, (mean / sd) * Math.sqrt(252));
    approx(m.sortino, (mean / Math.sqrt(rs[1]! ** 2 / 3)) * Math.sqrt(252));
    approx(m.max_drawdown, mdd);
    approx(m.calmar, cagr / mdd);
    assert.equal(m.num_trades, 1);
    assert.equal(m.win_rate, 0);
    assert.equal(m.profit_factor, 0, 'some lost, none won');
    assert.equal(m.avg_trade_pnl, -50);
    assert.equal(m.exposure, 2 / 5);
    assert.equal(m.num_fills, 2);
    assert.equal(m.fees_total, 0);
    assert.equal(m.turnover, 1950);
  });

  it('null cases: one bar, no trades, no negative return, a single daily return', () => {
    const one = runBacktest(closesToBars([100]), { strategy: scripted({}) });
    assert.deepEqual(one.metrics, {
      final_equity: 100000,
      total_return: 0,
      cagr: null,
      volatility: null,
      sharpe: null,
      sortino: null,
      max_drawdown: 0,
      calmar: null,
      num_trades: 0,
      win_rate: null,
      profit_factor: null,
      avg_trade_pnl: null,
      exposure: 0,
      num_fills: 0,
      fees_total: 0,
      turnover: 0,
    });
    // two bars on one date: one daily return (positive) → volatility/sharpe null, sortino null, calmar null (no drawdown)
    const up = runBacktest(closesToBars([100, 100, 120]), { strategy: scripted({ 0: (c) => c.buy(10) }) });
    assert.equal(up.metrics.volatility, null);
    assert.equal(up.metrics.sharpe, null);
    assert.equal(up.metrics.sortino, null);
    assert.equal(up.metrics.calmar, null);
    assert.ok(up.metrics.cagr! > 0);
    // zero std over two equal returns → sharpe null, volatility 0
    const flat = runBacktest(closesToBars([100, 100], { ts: [ns('2024-03-04T15:00:00Z'), ns('2024-03-05T15:00:00Z')] }), {
      strategy: scripted({}),
    });
    assert.equal(flat.metrics.volatility, 0);
    assert.equal(flat.metrics.sharpe, null);
  });

  it('cagr is null when final equity is ≤ 0', () => {
    const crash = runBacktest(closesToBars([100, 100, 1]), { strategy: scripted({ 0: (c) => c.buy(2000) }) });
    assert.ok(crash.metrics.final_equity <= 0);
    assert.equal(crash.metrics.cagr, null);
    assert.equal(crash.metrics.calmar, null);
  });

  it('daily closing equity groups by America/New_York date, not UTC date', () => {
    // 2024-03-05T03:00Z is 22:00 on March 4 in New York
    const t = ['2024-03-04T15:00:00Z', '2024-03-05T03:00:00Z', '2024-03-05T15:00:00Z'].map(ns);
    const rs = Array.from(dailyReturns(100, Float64Array.from(t), Float64Array.from([110, 121, 133.1])));
    assert.equal(rs.length, 2);
    approx(rs[0]!, 0.21);
    approx(rs[1]!, 0.1);
  });

  it('metrics.json: §4 key order, shortest round-trip numbers, null for undefined', () => {
    const text = metricsJson({ ...m, sharpe: null, turnover: 0.1 + 0.2, fees_total: NaN });
    const keys = Object.keys(JSON.parse(text));
    assert.deepEqual(keys, [
      'final_equity',
      'total_return',
      'cagr',
      'volatility',
      'sharpe',
      'sortino',
      'max_drawdown',
      'calmar',
      'num_trades',
      'win_rate',
      'profit_factor',
      'avg_trade_pnl',
      'exposure',
      'num_fills',
      'fees_total',
      'turnover',
    ]);
    assert.match(text, /"sharpe": null/);
    assert.match(text, /"fees_total": null/);
    assert.match(text, /"turnover": 0\.30000000000000004/);
    assert.match(text, /"final_equity": 950,/);
  });
});
