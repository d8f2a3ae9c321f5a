/**
 * Walk-forward over a cataloged dataset: every fold × grid point is scored in sample on the
 * sweep worker pool (`--workers`; in this process when 1), the best point per fold (ties →
 * earliest in grid order) is run out of sample as a catalog run over the fold's New York
 * test dates (`dateRange`, part of input_hash), tagged `walk-forward:<id>` and `fold:<k>` with
 * sweep_id = the walk-forward id. Folds run in order: each starts with the previous fold's
 * final equity as cash. The stitched equity and metrics equal the in-memory `walkForward`.
 */
import type { BarSeries } from '../bars/barSeries.ts';
import { newUlid } from '../catalog/ulid.ts';
import { openCatalog } from '../catalog/sqliteCatalog.ts';
import { dataPaths } from '../dataDir.ts';
import { readBarsParquet } from '../parquet/barsParquet.ts';
import { runBacktest } from '../backtest/engine.ts';
import { toCosts } from '../backtest/costs.ts';
import { barsInDateRange, LocalBacktestRunner, resolveStrategy } from '../backtest/runner.ts';
import { applySession } from '../backtest/session.ts';
import { sliceBars } from '../backtest/sliceBars.ts';
import { runOnWorkers } from './workerPool.ts';
import type { BacktestResult } from '../backtest/types.ts';
import { argBest, OosStitcher, planFolds, scorePoint, validPoints, type WalkForwardPlan, type WalkForwardResult } from './walkForward.ts';

export interface WalkForwardRunRequest extends WalkForwardPlan {
  dataDir: string;
  datasetId: string;
  strategy: string;
  force: boolean;
  workers: number;
  /** Only the bars of these New York dates (inclusive) are folded. */
  dateRange?: { from: string; to: string };
  /** Entry script to fork for workers (as for sweeps); without it scoring runs in this process. */
  workerEntry?: string;
  signal?: AbortSignal;
}

export interface WalkForwardRunResult extends WalkForwardResult {
  walk_forward_id: string;
  strategy_id: string;
}

export async function runWalkForward(req: WalkForwardRunRequest): Promise<WalkForwardRunResult> {
  await (await import('../recovery.ts')).recoverDataDir(req.dataDir);
  const paths = dataPaths(req.dataDir);
  const strategy = await resolveStrategy(req.strategy);
  const costs = toCosts(req.costs);
  const catalog = openCatalog(paths.catalog);
  try {
    const dataset = catalog.getDataset(req.datasetId);
    if (!dataset || dataset.status !== 'ready')
      throw new Error(
        `dataset '${req.datasetId}' is not in the catalog ${paths.catalog} with bars (status ${dataset?.status ?? 'missing'})`,
      );
    const all = await readBarsParquet(paths.barsParquet(req.datasetId));
    const raw = req.dateRange ? barsInDateRange(all, req.dateRange) : all;
    const bars = applySession(raw, req.session);
    const plans = planFolds(bars, req.trainDays, req.testDays);
    const valid = validPoints(strategy.def, req.points);
    const wfId = newUlid();
    const P = valid.length;
    const total = plans.length * (P + 1);
    let done = 0;
    req.onProgress?.(0, total);

    // In sample: fold-major score matrix.
    const scores = new Float64Array(plans.length * P);
    const workers = Math.max(1, Math.min(req.workers, scores.length));
    if (workers > 1 && req.workerEntry) {
      const errors: string[] = [];
      // Batches of points per fold: about 8 batches per worker in all, so the pool stays
      // balanced while IPC round trips stay few (one per batch).
      const perFold = Math.max(1, Math.min(P, Math.ceil((workers * 8) / plans.length)));
      const size = Math.ceil(P / perFold);
      const jobs = plans.flatMap((plan, f) => {
        const out = [];
        for (let p0 = 0; p0 < P; p0 += size)
          out.push({
            type: 'score' as const,
            idx: f * P + p0,
            points: valid.slice(p0, p0 + size),
            from: plan.trainFrom,
            to: plan.trainTo,
            sortKey: req.sortKey,
          });
        return out;
      });
      await runOnWorkers({
        workerEntry: req.workerEntry,
        workers,
        signal: req.signal,
        bars: raw,
        setup: {
          type: 'start',
          dataDir: req.dataDir,
          datasetId: req.datasetId,
          strategy: req.strategy,
          seed: req.seed,
          costs: req.costs as Record<string, unknown>,
          session: req.session,
          force: req.force,
          sweepId: wfId,
        },
        jobs,
        onReply: (m) => {
          if (m.job !== 'score') return;
          if (m.error !== null) errors.push(`fold ${Math.floor(m.idx / P) + 1}: ${m.error}`);
          for (let k = 0; k < m.scores.length; k++) scores[m.idx + k] = m.scores[k] ?? -Infinity;
          done += m.error !== null ? 0 : m.scores.length;
          req.onProgress?.(done, total);
        },
      });
      if (errors.length > 0) throw new Error(`walk-forward in-sample runs failed (${errors.length}): ${errors.slice(0, 3).join('; ')}`);
    } else {
      for (let f = 0; f < plans.length; f++) {
        for (let p = 0; p < P; p++) {
          if (req.signal?.aborted) throw Object.assign(new Error('walk-forward canceled'), { name: 'AbortError' });
          scores[f * P + p] = scorePoint(
            bars,
            plans[f]!.trainFrom,
            plans[f]!.trainTo,
            strategy.def,
            valid[p]!,
            req.seed,
            costs,
            req.sortKey,
          );
          req.onProgress?.(++done, total);
        }
      }
    }

    // Out of sample, in fold order (cash chains): one catalog run per fold.
    const barsCache = new Map<string, BarSeries>([[req.datasetId, raw]]);
    const stitch = new OosStitcher(costs.cash);
    const runner = new LocalBacktestRunner(req.dataDir, { catalog, barsCache });
    for (let f = 0; f < plans.length; f++) {
      const plan = plans[f]!;
      const foldScores = scores.subarray(f * P, (f + 1) * P);
      const b = argBest(foldScores);
      const tags = [`walk-forward:${wfId}`, `fold:${f + 1}`];
      let result: BacktestResult | null = null;
      const out = await runner.run({
        datasetId: req.datasetId,
        strategy: req.strategy,
        params: valid[b]!,
        seed: req.seed,
        costs: { ...costs, cash: stitch.cash },
        session: req.session,
        force: req.force,
        sweepId: wfId,
        tags,
        dateRange: { from: plan.testStart, to: plan.testEnd },
        onResult: (r) => {
          result = r;
        },
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (!out.created) {
        // An identical run exists (same input_hash; the runner tagged it for this walk-forward
        // too): recompute its in-memory result (deterministic) for the stitch.
        result = runBacktest(sliceBars(bars, plan.trainTo, plan.testTo), {
          strategy: strategy.def,
          params: valid[b]!,
          seed: req.seed,
          costs: { ...costs, cash: stitch.cash },
          session: 'all',
        });
      }
      const r = result;
      if (r === null) throw new Error(`walk-forward fold ${f + 1}: run ${out.run.run_id} returned no result`);
      if (r.equity.equity.length !== plan.testTo - plan.trainTo) {
        throw new Error(
          `walk-forward fold ${f + 1}: run ${out.run.run_id} has ${r.equity.equity.length} bars for ${plan.testStart}..${plan.testEnd}, expected ${plan.testTo - plan.trainTo}`,
        );
      }
      stitch.add(plan, foldScores[b]!, req.sortKey, r, { run_id: out.run.run_id });
      req.onProgress?.(++done, total);
    }
    return { ...stitch.finish(), walk_forward_id: wfId, strategy_id: strategy.strategyId };
  } finally {
    catalog.close();
  }
}
