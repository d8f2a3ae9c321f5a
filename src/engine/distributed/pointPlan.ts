/**
 * What a distributed sweep queues, computed the way a local sweep computes it: the strategy
 * resolved once, every point checked against its schema (refusals reported, not queued), each
 * valid point's identity (input_hash), its catalog row and its job's data.
 */
import type { ResolvedStrategy, RunIdentity } from '../backtest/runner.ts';
import type { CatalogPort, QueueRunInput } from '../ports/catalog.ts';
import { newUlid } from '../catalog/ulid.ts';
import { ENGINE_VERSION } from '../version.ts';
import { QUEUE_PROTOCOL, type PointJobData, type StrategySources } from './protocol.ts';

/** One distributed sweep's points as the coordinator submits them. */
export interface QueuedPoints {
  sweepId: string;
  datasetId: string;
  strategy: string;
  points: Record<string, unknown>[];
  seed: number;
  costs: Record<string, unknown>;
  session: 'all' | 'rth';
  dateRange?: { from: string; to: string } | undefined;
  /** Every point uploads its files (artifacts: all); else points are light. */
  uploadAll: boolean;
  tags: string[];
}

export interface PointPlan {
  strategy: ResolvedStrategy;
  symbol: string;
  valid: { params: Record<string, unknown>; id: RunIdentity }[];
  skipped: { params: Record<string, unknown>; error: string }[];
}

export async function planPoints(catalog: CatalogPort, req: QueuedPoints): Promise<PointPlan> {
  const [{ resolveStrategy, runIdentity }, { parseParams, StrategyParamsError }] = await Promise.all([
    import('../backtest/runner.ts'),
    import('../backtest/strategy.ts'),
  ]);
  const strategy = await resolveStrategy(req.strategy);
  const dataset = catalog.getDataset(req.datasetId);
  if (!dataset || dataset.status !== 'ready')
    throw new Error(`dataset '${req.datasetId}' is not in the catalog with bars (status ${dataset?.status ?? 'missing'})`);
  const plan: PointPlan = { strategy, symbol: dataset.symbol, valid: [], skipped: [] };
  for (const p of req.points) {
    try {
      parseParams(strategy.def, p);
      const id = runIdentity(strategy, {
        datasetId: req.datasetId,
        params: p,
        seed: req.seed,
        costs: req.costs,
        session: req.session,
        ...(req.dateRange ? { dateRange: req.dateRange } : {}),
      });
      plan.valid.push({ params: p, id });
    } catch (e) {
      if (!(e instanceof StrategyParamsError)) throw e;
      plan.skipped.push({ params: p, error: e.issues.join('; ') });
    }
  }
  return plan;
}

/** The catalog rows of the valid points (queued, unowned; identical inputs reuse their run). */
export function queueRows(plan: PointPlan, req: QueuedPoints): QueueRunInput[] {
  const tags = [...new Set([...req.tags, `sweep:${req.sweepId}`])];
  return plan.valid.map((v) => ({
    run_id: newUlid(),
    input_hash: v.id.hash,
    dataset_id: req.datasetId,
    strategy_id: plan.strategy.strategyId,
    params: v.id.params,
    seed: v.id.seed,
    costs: v.id.costs as unknown as Record<string, unknown>,
    session: v.id.session,
    code_hash: plan.strategy.codeHash,
    engine_version: ENGINE_VERSION,
    sweep_id: req.sweepId,
    tags,
  }));
}

/** A point's job data for the run that will hold it. */
export function pointJobData(
  plan: PointPlan,
  req: QueuedPoints,
  v: PointPlan['valid'][number],
  runId: string,
  barsSha256: string,
  sources: StrategySources | null,
): PointJobData {
  return {
    protocol: QUEUE_PROTOCOL,
    engine_version: ENGINE_VERSION,
    sweep_id: req.sweepId,
    run_id: runId,
    input_hash: v.id.hash,
    dataset_id: req.datasetId,
    symbol: plan.symbol,
    bars_sha256: barsSha256,
    strategy_id: plan.strategy.strategyId,
    code_hash: plan.strategy.codeHash,
    strategy: sources,
    params: v.id.params,
    seed: v.id.seed,
    costs: v.id.costs as unknown as Record<string, unknown>,
    session: v.id.session,
    date_range: v.id.dateRange ?? null,
    artifacts: req.uploadAll,
  };
}
