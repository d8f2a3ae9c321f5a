/**
 * A sweep through the queue, with the local sweep's contract (sweep/sweep.ts): the same request,
 * progress, cancel and `SweepResult`, so the CLI's table, `--json`, the server's GET /sweeps and
 * the heatmap do not know where the points ran. The best N light points are materialised at the
 * end, as a local sweep does.
 */
import { newUlid } from '../catalog/ulid.ts';
import { DEFAULT_ARTIFACTS, metricScore } from '../sweep/grid.ts';
import type { SweepRequest, SweepResult } from '../sweep/index.ts';
import type { QueueCoordinator } from './coordinator.ts';
import type { CatalogPort } from '../ports/catalog.ts';

export async function runQueuedSweep(
  coordinator: QueueCoordinator,
  catalog: CatalogPort,
  req: SweepRequest,
  materialize: (runId: string) => Promise<unknown>,
): Promise<SweepResult> {
  if (req.force) throw new Error('--force is not supported with a queued sweep: identical points are reused by input_hash');
  const sweepId = req.sweepId ?? newUlid();
  const artifacts = req.artifacts ?? DEFAULT_ARTIFACTS;
  // the abort is heard from the start: a cancel while the points are being queued cancels them once queued
  const canceling: { done: Promise<number> | null } = { done: null };
  const onAbort = () => {
    canceling.done = coordinator.cancel(sweepId);
  };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  let total = 0;
  const progress = () => req.onProgress?.(total - coordinator.openCount(sweepId), total);
  const onSettled = (s: string | null) => {
    if (s === sweepId) progress();
  };
  coordinator.on('settled', onSettled);
  let sub;
  try {
    sub = await coordinator.submit({
      sweepId,
      datasetId: req.datasetId,
      strategy: req.strategy,
      points: req.points,
      seed: req.seed,
      costs: req.costs as Record<string, unknown>,
      session: req.session,
      dateRange: req.dateRange,
      uploadAll: artifacts.kind === 'all',
      tags: req.tags ?? [],
    });
    total = sub.runs.length;
    // an abort during submit found nothing queued yet: cancel what is queued now
    if (req.signal?.aborted) canceling.done = coordinator.cancel(sweepId);
    progress();
    await coordinator.waitFor(sweepId, req.signal);
  } catch (err) {
    // canceled: the sweep ends once its open runs are canceled and its waiting jobs gone
    if (canceling.done) await canceling.done;
    throw err;
  } finally {
    coordinator.off('settled', onSettled);
    req.signal?.removeEventListener('abort', onAbort);
  }
  const results = sub.runs.map(({ params, run, created }) => {
    const r = catalog.getRun(run.run_id) ?? run;
    return {
      params,
      run_id: r.run_id,
      status: r.status,
      created,
      metrics: r.metrics,
      error: r.error,
    };
  });
  if (artifacts.kind === 'top') {
    const sortKey = req.sortKey ?? 'sharpe';
    const best = results
      .filter((r) => r.status === 'succeeded')
      .sort((a, b) => metricScore(b.metrics, sortKey) - metricScore(a.metrics, sortKey))
      .slice(0, artifacts.n);
    for (const id of new Set(best.map((b) => b.run_id))) if (catalog.getRun(id)?.materialized === false) await materialize(id);
  }
  return { sweep_id: sweepId, results, skipped: sub.skipped };
}
