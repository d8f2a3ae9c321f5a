/**
 * Parameter sweeps: every grid point becomes a catalog run (idempotent by input_hash), run in
 * this process (1 worker) or on the worker pool (workerPool.ts: this process plus forked
 * `btnb sweep --worker` child processes).
 *
 * By default (`artifacts: top:10`) points are light (lightPoints.ts): workers compute metrics,
 * this process records them in batches and writes artifacts for the best N only; the rest are
 * materialised when opened. `artifacts: all` runs every point as a full catalog run with its
 * artifacts, each executor keeping one catalog connection and the bars.
 */
import { newUlid } from '../catalog/ulid.ts';
import type { BarSeries } from '../bars/barSeries.ts';
import { LocalBacktestRunner, resolveStrategy } from '../backtest/runner.ts';
import { parseParams as validateParams, StrategyParamsError } from '../backtest/strategy.ts';
import { runPoint } from './worker.ts';
import { setupMessage } from './protocol.ts';
import { runOnWorkers, RUNS_IN_FLIGHT } from './workerPool.ts';
import type { Costs, Session } from '../backtest/types.ts';
import type { CostsInput } from '../backtest/costs.ts';
import { DEFAULT_ARTIFACTS, type ArtifactsMode } from './grid.ts';

export interface SweepRequest {
  dataDir: string;
  datasetId: string;
  strategy: string;
  points: Record<string, unknown>[];
  seed: number;
  costs: CostsInput | Costs;
  session: Session;
  force: boolean;
  workers: number;
  /** Which points get artifacts as they run (default top:10 by `sortKey`); the others are light. */
  artifacts?: ArtifactsMode;
  /** The metrics key that ranks points for `artifacts: top:N` (default sharpe). */
  sortKey?: string;
  /** The sweep's id (sweep_id of every run); a new ULID when absent. */
  sweepId?: string;
  /** Tags every run of the sweep gets. */
  tags?: string[];
  /** Every point runs over these New York dates only (inclusive, YYYY-MM-DD). */
  dateRange?: { from: string; to: string };
  /** Entry script to fork for workers (the CLI: dist/cli.js or src/engine/cli/main.ts); without it all runs are in this process. */
  workerEntry?: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SweepPointResult {
  params: Record<string, unknown>;
  run_id: string | null;
  status: string;
  created: boolean;
  metrics: Record<string, number | null> | null;
  error: string | null;
}

export interface SweepResult {
  sweep_id: string;
  results: SweepPointResult[];
  /** Points the strategy's schema refused (e.g. slow ≤ fast), with the reason. */
  skipped: { params: Record<string, unknown>; error: string }[];
}

export async function runSweep(req: SweepRequest): Promise<SweepResult> {
  // points of a killed earlier sweep are settled first, so identical points run again
  await (await import('../recovery.ts')).recoverDataDir(req.dataDir);
  const strategy = await resolveStrategy(req.strategy);
  const sweepId = req.sweepId ?? newUlid();
  const valid: { idx: number; params: Record<string, unknown> }[] = [];
  const skipped: SweepResult['skipped'] = [];
  for (const p of req.points) {
    try {
      validateParams(strategy.def, p);
      valid.push({ idx: valid.length, params: p });
    } catch (e) {
      if (!(e instanceof StrategyParamsError)) throw e;
      skipped.push({ params: p, error: e.issues.join('; ') });
    }
  }
  const results = new Array<SweepPointResult>(valid.length);
  let done = 0;
  const total = valid.length;
  req.onProgress?.(0, total);
  const workers = Math.max(1, Math.min(req.workers, total));
  const artifacts = req.artifacts ?? DEFAULT_ARTIFACTS;
  if (artifacts.kind !== 'all') {
    const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
    const { dataPaths } = await import('../dataDir.ts');
    const { runLightPoints } = await import('./lightPoints.ts');
    const catalog = openCatalog(dataPaths(req.dataDir).catalog);
    try {
      await runLightPoints(req, {
        sweepId,
        strategy,
        valid,
        results,
        catalog,
        artifacts,
        sortKey: req.sortKey ?? 'sharpe',
        onDone: () => req.onProgress?.(++done, total),
      });
    } finally {
      catalog.close();
    }
  } else if (workers === 1 || !req.workerEntry) {
    const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
    const { dataPaths } = await import('../dataDir.ts');
    const catalog = openCatalog(dataPaths(req.dataDir).catalog);
    const barsCache = new Map<string, BarSeries>();
    const runner = new LocalBacktestRunner(req.dataDir, { catalog, barsCache });
    const base = {
      datasetId: req.datasetId,
      strategy: req.strategy,
      seed: req.seed,
      costs: req.costs,
      session: req.session,
      force: req.force,
      sweepId,
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.tags ? { tags: req.tags } : {}),
      ...(req.dateRange ? { dateRange: req.dateRange } : {}),
    };
    try {
      // RUNS_IN_FLIGHT lanes over the points in order, as on each pool executor.
      let next = 0;
      const lane = async () => {
        while (next < valid.length && !req.signal?.aborted) {
          const v = valid[next++]!;
          const r = await runPoint(runner, base, v.params);
          results[v.idx] = { params: v.params, ...r };
          req.onProgress?.(++done, total);
        }
      };
      await Promise.all(Array.from({ length: RUNS_IN_FLIGHT }, lane));
    } finally {
      catalog.close();
    }
  } else {
    await runOnWorkers({
      workerEntry: req.workerEntry,
      workers,
      signal: req.signal,
      setup: setupMessage(req, sweepId),
      jobs: valid.map((v) => ({ type: 'run' as const, idx: v.idx, params: v.params })),
      onReply: (m) => {
        if (m.job !== 'run') return;
        const v = valid[m.idx]!;
        results[m.idx] = { params: v.params, run_id: m.run_id, status: m.status, created: m.created, metrics: m.metrics, error: m.error };
        req.onProgress?.(++done, total);
      },
    });
  }
  return { sweep_id: sweepId, results: results.filter(Boolean), skipped };
}
