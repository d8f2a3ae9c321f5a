/**
 * Child process: a parameter sweep — the grid's points (sweep/grid.ts: the one grammar and
 * order), one catalog run per combination
 * sharing a sweep_id, on the sweep pool of `btnb sweep`: this process runs points too, next
 * to forked CLI sweep workers (`btnb sweep --worker`; none when the CLI bundle is not beside
 * us). Cancel stops them all: runs in flight end canceled, the rest are not started.
 * Combinations the strategy's schema refuses (e.g. slow ≤ fast) are reported as failed
 * entries without a run; identical combinations reuse their runs.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJobChild, type JobHandler } from './childRuntime.ts';

/** At most this many worker processes (this one included): the host and other jobs share the machine. */
const MAX_WORKERS = 2;

declare const __filename: string | undefined;

/** dist/jobs/sweepJob.js → dist/cli.js; src/engine/jobs/sweepJob.ts → src/engine/cli/main.ts. */
function workerEntry(): string | null {
  let here: string;
  try {
    here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  } catch {
    return null;
  }
  const dir = dirname(here);
  for (const candidate of [join(dir, '..', 'cli.js'), join(dir, '..', 'cli', 'main.ts')]) if (existsSync(candidate)) return candidate;
  return null;
}

type SweepJobParams = Parameters<JobHandler<'sweep'>>[0];
type Ctx = Parameters<JobHandler<'sweep'>>[1];

/** Walk-forward: folds scored on the same pool; each fold's best point run out of sample. */
async function walkForwardJob(p: SweepJobParams, points: Record<string, unknown>[], workers: number, entry: string | null, ctx: Ctx) {
  const { runWalkForward } = await import('../sweep/index.ts');
  const wf = p.walkForward!;
  let r;
  try {
    r = await runWalkForward({
      dataDir: p.dataDir,
      datasetId: p.datasetId,
      strategy: p.strategyPath ?? p.strategyId,
      points,
      trainDays: wf.trainDays,
      testDays: wf.testDays,
      sortKey: p.sort,
      seed: p.seed,
      costs: p.costs,
      session: p.session,
      force: p.force,
      workers,
      ...(p.dateRange ? { dateRange: p.dateRange } : {}),
      signal: ctx.signal,
      ...(entry ? { workerEntry: entry } : {}),
      onProgress: (done, total) => ctx.progress('walk-forward', done, total, `${done}/${total} scored or run`),
    });
  } catch (err) {
    if (ctx.signal.aborted) throw Object.assign(new Error('canceled'), { name: 'AbortError' });
    throw err;
  }
  const folds = r.folds.map((f, i) => ({
    fold: i + 1,
    trainStart: f.train_start,
    trainEnd: f.train_end,
    testStart: f.test_start,
    testEnd: f.test_end,
    params: f.best_params,
    trainScore: f.train_score,
    testReturn: f.test_return,
    runId: f.run_id ?? '',
  }));
  const metrics = Object.fromEntries(
    Object.entries(r.metrics).map(([k, v]) => [k, typeof v === 'number' && Number.isFinite(v) ? v : null]),
  );
  return {
    sweepId: r.walk_forward_id,
    total: folds.length,
    succeeded: folds.length,
    runs: folds.map((f) => ({ runId: f.runId, params: f.params, status: 'succeeded', created: true, metrics: null })),
    walkForward: { folds, metrics },
  };
}

runJobChild('sweep', async (p, ctx) => {
  const [{ gridFromRecord, gridPoints, parseArtifactsMode }, { runSweep }, { newUlid }] = await Promise.all([
    import('../sweep/grid.ts'),
    import('../sweep/index.ts'),
    import('../catalog/ulid.ts'),
  ]);
  const points = gridPoints(gridFromRecord(p.grid), p.fixed);
  const total = points.length;
  const entry = workerEntry();
  const workers = entry ? Math.max(1, Math.min(MAX_WORKERS, availableParallelism(), total)) : 1;
  if (p.walkForward) return walkForwardJob(p, points, workers, entry, ctx);
  const sweepId = newUlid();
  ctx.log('info', `sweep ${sweepId}: ${total} combinations on ${workers} worker process${workers === 1 ? '' : 'es'}`);
  ctx.progress('sweep', 0, total);
  let res;
  const run = p.queue
    ? async (req: Parameters<typeof runSweep>[0]) => {
        const q = p.queue!;
        const [{ coordinateSweep }, { jobsDirFor }] = await Promise.all([
          import('../distributed/sweepCoordinator.ts'),
          import('./jobEntries.ts'),
        ]);
        if (!entry) throw new Error('a queued sweep needs the btnb CLI beside the job scripts (its server serves the workers)');
        return coordinateSweep(req, {
          redisUrl: q.redisUrl,
          listen: q.listen,
          token: q.token ?? null,
          quiet: true,
          jobsDir: jobsDirFor(entry),
          log: (line) => ctx.log('info', line),
        });
      }
    : runSweep;
  try {
    res = await run({
      dataDir: p.dataDir,
      datasetId: p.datasetId,
      strategy: p.strategyPath ?? p.strategyId,
      points,
      seed: p.seed,
      costs: p.costs,
      session: p.session,
      force: p.force,
      workers,
      artifacts: parseArtifactsMode(p.artifacts),
      sortKey: p.sort,
      sweepId,
      ...(p.dateRange ? { dateRange: p.dateRange } : {}),
      signal: ctx.signal,
      ...(entry ? { workerEntry: entry } : {}),
      onProgress: (done) => ctx.progress('sweep', done, total, `${done}/${total} runs`),
    });
  } catch (err) {
    if (ctx.signal.aborted) throw Object.assign(new Error('canceled'), { name: 'AbortError' });
    throw err;
  }
  if (ctx.signal.aborted) throw Object.assign(new Error('canceled'), { name: 'AbortError' });
  // Back in combination order: run results and schema refusals keep their relative order.
  const skipped = new Map(res.skipped.map((s) => [s.params, s.error]));
  const done = res.results[Symbol.iterator]();
  const runs = points.map((params) => {
    const refused = skipped.get(params);
    if (refused !== undefined) {
      ctx.log('warn', `${JSON.stringify(params)}: ${refused}`);
      return { runId: '', params, status: 'failed', created: false, metrics: null, error: refused };
    }
    const r = done.next().value!;
    return {
      runId: r.run_id ?? '',
      params,
      status: r.status,
      created: r.created,
      metrics: r.metrics,
      ...(r.error ? { error: r.error } : {}),
    };
  });
  ctx.progress('sweep', total, total);
  return { sweepId, total, succeeded: runs.filter((r) => r.status === 'succeeded').length, runs };
});
