import { strict as assert } from 'node:assert';
import { gridSize, jobCostsOf, parseCosts, parseGrid } from '../../../src/extension/commands/parse.ts';
import { combinations } from '../../../src/engine/jobs/grid.ts';
import { keyParams, paramSummary, fmtPct, fmtTime } from '../../../src/extension/catalog/model.ts';

describe('Run Backtest prompt parsing', () => {
  it('parses costs and names the bad field', () => {
    assert.deepEqual(parseCosts(''), { ok: true, costs: {} });
    assert.deepEqual(parseCosts('cash=50000 fee_per_unit=0.005, fee_min=1'), { ok: true, costs: { cash: 50000, fee_per_unit: 0.005, fee_min: 1 } });
    assert.deepEqual(parseCosts('slippage=half-spread'), { ok: true, costs: { slippage: 'half-spread' } });
    assert.deepEqual(parseCosts('cash=0'), { ok: false, error: "cash: expected a positive number, got '0'" });
    assert.deepEqual(parseCosts('fee_bps=-1'), { ok: false, error: "fee_bps: expected a non-negative number, got '-1'" });
    assert.deepEqual(parseCosts('slippage=random'), { ok: false, error: "slippage: expected half-spread, got 'random'" });
    assert.deepEqual(parseCosts('slippage_bps=2 slippage=half-spread'), { ok: false, error: 'slippage_bps and slippage=half-spread are exclusive' });
    assert.match((parseCosts('commission=1') as { error: string }).error, /'commission': expected one of cash, slippage_bps/);
    assert.deepEqual(parseCosts('cash'), { ok: false, error: "'cash': expected key=value" });
  });

  it('parses sweep grids: lists and from:to:step ranges (inclusive, no float drift)', () => {
    assert.deepEqual(parseGrid('fast=5,10,20 slow=30:90:30'), { ok: true, grid: { fast: [5, 10, 20], slow: [30, 60, 90] } });
    assert.deepEqual(parseGrid('k=0.1:0.3:0.1'), { ok: true, grid: { k: [0.1, 0.2, 0.3] } });
    assert.deepEqual(parseGrid('allow_short=true,false'), { ok: true, grid: { allow_short: [true, false] } });
    assert.equal(gridSize({ a: [1, 2, 3], b: [1, 2], c: [7] }), 6);
    assert.match((parseGrid('slow=90:30:30') as { error: string }).error, /slow: range 90:30:30 needs from ≤ to and step > 0/);
    assert.equal(parseGrid('').ok, false);
  });

  it('sweep combinations: sorted keys, last key fastest, deterministic whatever the key order', () => {
    const a = [...combinations({ slow: [20, 40], fast: [3, 5] })];
    const b = [...combinations({ fast: [3, 5], slow: [20, 40] })];
    assert.deepEqual(a, [{ fast: 3, slow: 20 }, { fast: 3, slow: 40 }, { fast: 5, slow: 20 }, { fast: 5, slow: 40 }]);
    assert.deepEqual(a, b);
    assert.equal([...combinations({ a: [1, 2, 3], b: [1, 2, 3, 4], c: [0, 1] })].length, 24);
  });

  it('maps stored engine costs back to job costs', () => {
    assert.deepEqual(jobCostsOf({ cash: 1e5, slippage_model: 'fixed', slippage_bps: 2, fee_per_unit: 0, fee_bps: 0, fee_min: 1 }), { ok: true, costs: { cash: 1e5, slippage_bps: 2, fee_per_unit: 0, fee_bps: 0, fee_min: 1 } });
    assert.deepEqual(jobCostsOf({ cash: 1e5, slippage_model: 'half-spread', slippage_bps: 0 }), { ok: true, costs: { cash: 1e5, slippage: 'half-spread' } });
    assert.equal(jobCostsOf({ slippage_model: 'random', slippage_bps: 5 }).ok, false);
  });

  it('formats tree text: sorted params, signed percent, New York time with the zone', () => {
    assert.equal(paramSummary({ slow: 30, fast: 10 }), 'fast=10 slow=30');
    assert.deepEqual(keyParams({ fast: 5, slow: 20, size: 100, allow_short: false }, { size: 100, allow_short: false }), { fast: 5, slow: 20 });
    assert.deepEqual(keyParams({ size: 50, allow_short: true }, { size: 100, allow_short: false }), { size: 50, allow_short: true });
    assert.deepEqual(keyParams({ a: 1 }, undefined), { a: 1 });
    assert.equal(fmtPct(0.123456), '+12.35%');
    assert.equal(fmtPct(-0.0421), '-4.21%');
    assert.equal(fmtPct(0.05, false), '5.00%');
    assert.equal(fmtPct(null), '—');
    // 2024-03-04T14:30Z = 09:30 EST; 2024-07-01T13:30Z = 09:30 EDT.
    assert.equal(fmtTime('2024-03-04T14:30:00Z', 'America/New_York'), '2024-03-04 09:30 EST');
    assert.equal(fmtTime('2024-07-01T13:30:00Z', 'America/New_York'), '2024-07-01 09:30 EDT');
  });
});
