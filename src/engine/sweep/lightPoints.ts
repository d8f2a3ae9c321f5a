/**
 * Light sweep points (`--artifacts top:N|none`): workers run each point for its metrics only;
 * this process — the only catalog writer — records the finished points in batches (one
 * transaction, one fsync per batch) with the manifest their directory will carry, reuses
 * identical earlier runs by input_hash without running them, and at the end materialises the
 * best N by the sort metric (materialize.ts; the others are materialised when someone opens them).
 *
 * Crash and cancel: a point is in the catalog whole (succeeded with metrics, or failed with its
 * error) or not at all; the batch in hand is recorded before returning on cancel, so no finished
 * point is lost and none is half-recorded.
 */
import { newUlid } from '../catalog/ulid.ts';
import { dataPaths } from '../dataDir.ts';
import type { BarSeries } from '../bars/barSeries.ts';
import type { CatalogPort, RecordRunInput } from '../ports/catalog.ts';
import { cachedBars, runIdentity, runManifest, type ResolvedStrategy, type RunIdentity } from '../backtest/runner.ts';
import { ensureRunArtifacts } from '../backtest/materialize.ts';
import { ENGINE_VERSION } from '../version.ts';
import { metricScore, type ArtifactsMode } from './grid.ts';
import { setupMessage, type LightOutcome, type WorkerJob } from './protocol.ts';
import type { SweepPointResult, SweepRequest } from './sweep.ts';

/** Points per worker job: one IPC round trip per batch, small enough to keep both workers busy to the end. */
export const POINTS_PER_JOB = 8;
/** Finished points recorded per catalog transaction, or sooner when this much time has passed. */
export const RECORD_BATCH = 256;
export const RECORD_EVERY_MS = 500;

interface Pending {
  /** Index into the sweep's valid points. */
  idx: number;
  params: Record<string, unknown>;
  id: RunIdentity;
}

/** Runs the valid points as light points; fills `results` (by index) and reports progress. */
export async function runLightPoints(
  req: SweepRequest,
  opts: {
    sweepId: string;
    strategy: ResolvedStrategy;
    valid: { idx: number; params: Record<string, unknown> }[];
    results: SweepPointResult[];
    catalog: CatalogPort;
    artifacts: ArtifactsMode;
    sortKey: string;
    onDone: () => void;
  },
): Promise<void> {
  const { catalog, strategy, results, sweepId } = opts;
  const dataset = catalog.getDataset(req.datasetId);
  if (!dataset) throw new Error(`dataset '${req.datasetId}' is not in the catalog ${catalog.path} (import it with \`btnb data import\`)`);
  if (dataset.status !== 'ready' || !dataset.bars_path)
    throw new Error(`dataset '${req.datasetId}' has no bars yet (status ${dataset.status}); run \`btnb data derive ${req.datasetId}\``);
  const tags = [...new Set([...(req.tags ?? []), `sweep:${sweepId}`])];
  const request = {
    datasetId: req.datasetId,
    costs: req.costs,
    seed: req.seed,
    session: req.session,
    ...(req.dateRange ? { dateRange: req.dateRange } : {}),
  };

  // Identical points (within the grid, or run before) run once: the first of each input_hash.
  const byHash = new Map<string, Pending[]>();
  for (const v of opts.valid) {
    const id = runIdentity(strategy, { ...request, params: v.params });
    const same = byHash.get(id.hash);
    if (same) same.push({ ...v, id });
    else byHash.set(id.hash, [{ ...v, id }]);
  }
  const settle = (group: Pending[], r: Omit<SweepPointResult, 'params'>, progress = true) => {
    for (const p of group) {
      results[p.idx] = { params: p.params, ...r };
      if (progress) opts.onDone();
    }
  };
  const earlier = req.force ? new Map() : catalog.findRunsByInputHash([...byHash.keys()]);
  for (const t of tags)
    catalog.tagRuns(
      [...earlier.values()].map((r) => r.run_id),
      t,
    );
  const todo: Pending[][] = [];
  for (const [hash, group] of byHash) {
    const run = earlier.get(hash);
    if (run) settle(group, { run_id: run.run_id, status: run.status, created: false, metrics: run.metrics, error: run.error });
    else todo.push(group);
  }

  // Finished points wait here until the next batch is recorded.
  let batch: { group: Pending[]; row: RecordRunInput }[] = [];
  let lastFlush = performance.now();
  const flush = () => {
    if (batch.length === 0) return;
    const taken = batch;
    batch = [];
    lastFlush = performance.now();
    const recorded = catalog.recordRuns(taken.map((b) => b.row));
    // an identical run another process recorded meanwhile stands in for ours
    taken.forEach((b, k) => {
      if (!recorded[k]!.created) settle(b.group, recorded[k]!, false);
    });
  };
  const finished = (group: Pending[], o: LightOutcome) => {
    const head = group[0]!;
    const runId = newUlid();
    const manifest = runManifest({
      runId,
      datasetId: req.datasetId,
      symbol: dataset.symbol,
      strategy,
      id: head.id,
      barCount: o.bar_count,
      startedAt: o.started_at,
      finishedAt: o.finished_at,
    });
    batch.push({
      group,
      row: {
        run_id: runId,
        input_hash: head.id.hash,
        dataset_id: req.datasetId,
        strategy_id: strategy.strategyId,
        params: head.id.params,
        seed: head.id.seed,
        costs: head.id.costs as unknown as Record<string, unknown>,
        session: head.id.session,
        code_hash: strategy.codeHash,
        engine_version: ENGINE_VERSION,
        sweep_id: sweepId,
        tags,
        status: o.metrics ? 'succeeded' : 'failed',
        metrics: o.metrics,
        error: o.error,
        started_at: o.started_at,
        finished_at: o.finished_at,
        manifest,
        force: req.force,
      },
    });
    // progress moves as outcomes arrive; the catalog catches up at the next batch
    settle(group, { run_id: runId, status: o.metrics ? 'succeeded' : 'failed', created: true, metrics: o.metrics, error: o.error });
    if (batch.length >= RECORD_BATCH || performance.now() - lastFlush >= RECORD_EVERY_MS) flush();
  };

  const barsCache = new Map<string, BarSeries>();
  const jobs: { job: Extract<WorkerJob, { type: 'points' }>; groups: Pending[][] }[] = [];
  for (let k = 0; k < todo.length; k += POINTS_PER_JOB) {
    const groups = todo.slice(k, k + POINTS_PER_JOB);
    jobs.push({ job: { type: 'points', idx: jobs.length, points: groups.map((g) => g[0]!.id.params) }, groups });
  }
  const onReply = (idx: number, outcomes: LightOutcome[], error: string | null) => {
    const { groups } = jobs[idx]!;
    if (error !== null) throw new Error(`sweep points ${idx * POINTS_PER_JOB}..: ${error}`);
    outcomes.forEach((o, k) => finished(groups[k]!, o));
  };
  try {
    if (jobs.length > 0) await runJobs(req, sweepId, barsCache, jobs, onReply);
  } finally {
    // canceled or not, every finished point is recorded before the sweep returns
    flush();
  }
  if (req.signal?.aborted) throw Object.assign(new Error('sweep canceled'), { name: 'AbortError' });
  if (opts.artifacts.kind === 'none') return;
  const n = opts.artifacts.kind === 'all' ? Infinity : opts.artifacts.n;
  const best = results
    .filter((r): r is SweepPointResult & { run_id: string } => Boolean(r) && r.status === 'succeeded' && r.run_id !== null)
    .sort((a, b) => metricScore(b.metrics, opts.sortKey) - metricScore(a.metrics, opts.sortKey))
    .slice(0, n);
  for (const r of new Set(best.map((b) => b.run_id))) {
    if (req.signal?.aborted) break;
    await ensureRunArtifacts(req.dataDir, catalog, r, { barsCache, ...(req.signal ? { signal: req.signal } : {}) });
  }
}

/** The jobs on this process alone (1 worker) or on the pool; replies in any order. */
async function runJobs(
  req: SweepRequest,
  sweepId: string,
  barsCache: Map<string, BarSeries>,
  jobs: { job: Extract<WorkerJob, { type: 'points' }> }[],
  onReply: (idx: number, outcomes: LightOutcome[], error: string | null) => void,
): Promise<void> {
  const bars = await cachedBars(barsCache, dataPaths(req.dataDir).barsParquet(req.datasetId), req.datasetId);
  const setup = setupMessage(req, sweepId);
  const { runOnWorkers } = await import('./workerPool.ts');
  const workers = req.workerEntry ? Math.max(1, Math.min(req.workers, jobs.length)) : 1;
  // A reply that cannot be recorded (the catalog refused it) stops the pool like a cancel does.
  const stop = new AbortController();
  const onCancel = () => stop.abort();
  req.signal?.addEventListener('abort', onCancel, { once: true });
  const failed: { error: Error | null } = { error: null };
  try {
    await runOnWorkers({
      workerEntry: workers > 1 ? req.workerEntry! : null,
      workers,
      setup,
      bars,
      jobs: jobs.map((j) => j.job),
      signal: stop.signal,
      onReply: (m) => {
        if (m.job !== 'points' || failed.error) return;
        try {
          onReply(m.idx, m.outcomes, m.error);
        } catch (e) {
          failed.error = e as Error;
          stop.abort();
        }
      },
    });
  } catch (e) {
    // a cancel ends the pool with an AbortError: the points that finished are recorded by the caller
    if (!failed.error && !req.signal?.aborted) throw e;
  } finally {
    req.signal?.removeEventListener('abort', onCancel);
  }
  if (failed.error) throw failed.error;
}
