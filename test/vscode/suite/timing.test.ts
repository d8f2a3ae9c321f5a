// Figures for `npm run bench:ext`, measured inside the real extension host: activate() start →
// end (the extension measures it itself), and the first tree load over a seeded catalog (lazy
// better-sqlite3 + catalog module + two list queries). Written to BTNB_TEST_BENCH_OUT when set;
// no timed assertion (benchmarks print, tests do not race the clock).
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { api, catalogAt, seedDataset, useDataDir } from './ext-helpers.ts';

describe('activation timing', () => {
  it('reports activation time and the first tree load', async () => {
    const a = await api();
    assert.ok(Number.isFinite(a.activationMs) && a.activationMs > 0);
    const dir = await useDataDir('data-timing');
    for (let i = 0; i < 20; i++) seedDataset(dir, `ds_${i.toString(16).padStart(16, '0')}`, `SYM${i}`, 1000 + i);
    const cat = catalogAt(dir);
    for (let i = 0; i < 200; i++) {
      const r = cat.createRun({
        input_hash: i.toString(16).padStart(64, '0'),
        dataset_id: `ds_${(i % 20).toString(16).padStart(16, '0')}`,
        strategy_id: 'sma-cross',
        params: { fast: 5 + (i % 7), slow: 30 },
        seed: 0,
        costs: {},
        session: 'all',
        code_hash: 'c'.repeat(64),
        engine_version: '1',
      }).run;
      cat.markRunning(r.run_id);
      cat.markSucceeded(r.run_id, { total_return: i / 1000, sharpe: i / 100 });
    }
    cat.close();
    const t0 = performance.now();
    a.services.tree.refresh();
    const roots = await a.services.tree.getChildren();
    const treeMs = performance.now() - t0;
    assert.equal(roots.length, 20);
    const runs = roots.reduce((n, r) => n + (r.kind === 'dataset' ? r.runs.length : 0), 0);
    assert.equal(runs, 200);
    const out = {
      activationMs: a.activationMs,
      moduleLoadMs: a.moduleLoadMs,
      activateDelayMs: a.activateDelayMs,
      firstTreeLoadMs: treeMs,
      datasets: 20,
      runs,
    };
    console.log(`[bench:ext] ${JSON.stringify(out)}`);
    if (process.env.BTNB_TEST_BENCH_OUT) writeFileSync(process.env.BTNB_TEST_BENCH_OUT, JSON.stringify(out));
  });
});
