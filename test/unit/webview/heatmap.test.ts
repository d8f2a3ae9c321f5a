import { strict as assert } from 'node:assert';
import { heatGrid, type SweepRun } from '../../../src/webview/lib/heatmap.ts';

const runs: SweepRun[] = [];
for (const fast of [5, 10])
  for (const slow of [20, 30])
    for (const size of [1, 2]) {
      runs.push({
        run_id: `r${fast}-${slow}-${size}`,
        params: { fast, slow, size },
        metrics: { sharpe: fast / 10 + slow / 100 + size, max_drawdown: size / 10 },
      });
    }

describe('sweep heatmap grid', () => {
  it('aggregates the other parameter (best / mean) and marks the best cell with the run behind it', () => {
    const best = heatGrid(runs, 'sharpe', 'max', 'fast', [5, 10], 'slow', [20, 30], { size: null }, 'best');
    assert.deepEqual(
      best.cells.map((r) => r.map((c) => c.runId)),
      [
        ['r5-20-2', 'r10-20-2'],
        ['r5-30-2', 'r10-30-2'],
      ],
    );
    assert.deepEqual(best.best, { x: 1, y: 1 });
    const mean = heatGrid(runs, 'sharpe', 'max', 'fast', [5, 10], 'slow', [20, 30], { size: null }, 'mean');
    assert.ok(Math.abs(mean.cells[0]![0]!.value! - (0.5 + 0.2 + 1.5)) < 1e-12);
    assert.equal(mean.cells[0]![0]!.count, 2);
  });

  it('fixes other parameters to a value; lower-is-better metrics pick the minimum; missing cells stay empty', () => {
    const fixed = heatGrid(runs, 'sharpe', 'max', 'fast', [5, 10], 'slow', [20, 30], { size: 1 }, 'best');
    assert.deepEqual(
      fixed.cells.flat().map((c) => c.count),
      [1, 1, 1, 1],
    );
    assert.equal(fixed.cells[0]![0]!.runId, 'r5-20-1');
    const dd = heatGrid(runs, 'max_drawdown', 'min', 'fast', [5, 10], null, [], { slow: null, size: null }, 'best');
    assert.equal(dd.cells.length, 1);
    assert.equal(dd.cells[0]![0]!.value, 0.1);
    const holes = heatGrid(runs.slice(2), 'sharpe', 'max', 'fast', [5, 10], 'slow', [20, 30], { size: null }, 'best');
    assert.equal(holes.cells[0]![0]!.value, null);
  });
});
