/**
 * Child process: a parameter sweep — the cartesian product of the grid (keys sorted, values in
 * the given order, so the run order is deterministic), one catalog run per combination sharing
 * a sweep_id, all in this one process with one open catalog and the bars read once. Cancel
 * stops between bars of the current run (it ends canceled) and skips the rest; identical combinations reuse their runs.
 */
import type { BarSeries } from '../bars/barSeries.ts';
import { runJobChild } from './childRuntime.ts';
import { combinations } from './grid.ts';

runJobChild('sweep', async (p, ctx) => {
  const [{ runBacktestToCatalog, costsFromJob }, { openCatalog }, { newUlid }, { dataPaths }] = await Promise.all([
    import('../backtest/runner.ts'), import('../catalog/sqliteCatalog.ts'), import('../catalog/ulid.ts'), import('../dataDir.ts'),
  ]);
  const total = Object.values(p.grid).reduce((n, v) => n * v.length, 1);
  const sweepId = newUlid();
  const catalog = openCatalog(dataPaths(p.dataDir).catalog);
  // The bars are read once for the whole sweep, not once per combination.
  const barsCache = new Map<string, BarSeries>();
  const runs: { runId: string; params: Record<string, unknown>; status: string; created: boolean; metrics: unknown; error?: string }[] = [];
  try {
    let done = 0;
    for (const combo of combinations(p.grid)) {
      if (ctx.signal.aborted) break;
      const params = { ...p.fixed, ...combo };
      ctx.progress('sweep', done, total, `run ${done + 1}/${total}: ${Object.entries(combo).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
      try {
        const out = await runBacktestToCatalog({
          dataDir: p.dataDir, datasetId: p.datasetId, strategy: p.strategyPath ?? p.strategyId, params, seed: p.seed,
          costs: costsFromJob(p.costs), session: p.session, force: p.force, sweepId, tags: [`sweep:${sweepId}`], signal: ctx.signal, catalog, barsCache,
        });
        runs.push({ runId: out.run.run_id, params, status: out.run.status, created: out.created, metrics: out.metrics });
      } catch (err) {
        if (ctx.signal.aborted) break;
        // One bad combination (e.g. slow ≤ fast) fails that run, not the sweep.
        const message = (err as Error).message;
        ctx.log('warn', `${JSON.stringify(params)}: ${message.split('\n')[0]}`);
        runs.push({ runId: '', params, status: 'failed', created: false, metrics: null, error: message });
      }
      done++;
    }
    ctx.progress('sweep', done, total);
  } finally {
    catalog.close();
  }
  if (ctx.signal.aborted) throw Object.assign(new Error('canceled'), { name: 'AbortError' });
  return { sweepId, total, succeeded: runs.filter((r) => r.status === 'succeeded').length, runs };
});
