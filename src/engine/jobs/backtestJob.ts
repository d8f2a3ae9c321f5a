/**
 * Child process: one backtest through the engine's runner (catalog row queued → running →
 * succeeded/failed/canceled, artifacts under backtests/<run_id>/). The host picks the run id
 * so it can settle the run itself if this process dies before it could.
 */
import { runJobChild } from './childRuntime.ts';

runJobChild('backtest', async (p, ctx) => {
  const { LocalBacktestRunner } = await import('../backtest/runner.ts');
  const out = await new LocalBacktestRunner(p.dataDir).run({
    datasetId: p.datasetId,
    strategy: p.strategyPath ?? p.strategyId,
    params: p.params,
    seed: p.seed,
    costs: p.costs,
    session: p.session,
    ...(p.runId ? { runId: p.runId } : {}),
    force: p.force,
    ...(p.dateRange ? { dateRange: p.dateRange } : {}),
    signal: ctx.signal,
    onStatus: (run) => ctx.log('info', `run ${run.run_id} ${run.status}`),
    onProgress: (phase, done, total) => ctx.progress(phase, done, total),
  });
  if (!out.created) ctx.log('info', `identical inputs (input_hash ${out.input_hash.slice(0, 12)}…): returning run ${out.run.run_id}`);
  return {
    runId: out.run.run_id,
    created: out.created,
    status: out.run.status,
    inputHash: out.input_hash,
    artifactsDir: out.artifacts_dir,
    metrics: out.metrics === null ? null : Object.fromEntries(Object.entries(out.metrics)),
  };
});
