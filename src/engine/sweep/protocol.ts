/**
 * Messages between a sweep's pool (workerPool.ts) and its forked workers (worker.ts),
 * over the IPC channel with 'advanced' serialization (typed arrays travel as such), checked
 * with zod on arrival on both sides.
 */
import { z } from 'zod';
import { ProtocolError, describeIssues } from '../jobs/protocol.ts';
import type { SweepRequest } from './sweep.ts';

/**
 * The same envelope, names and error type as the job protocol (jobs/protocol.ts): the worker
 * says `ready`, gets `start` (the sweep's settings; it reads the bars itself), then work items (`run`: a grid
 * point as a catalog run; `score`: a batch of walk-forward in-sample scores), answers each with
 * a `result`, and reports a fatal problem as `error`. `stop` lets it finish what it has and
 * exit; `cancel` ends its runs in flight as canceled (SIGTERM only when it does not answer).
 */
export const StartMsg = z.object({
  type: z.literal('start'),
  dataDir: z.string(),
  datasetId: z.string(),
  strategy: z.string(),
  seed: z.number().int(),
  costs: z.record(z.string(), z.unknown()),
  session: z.enum(['all', 'rth']),
  force: z.boolean(),
  sweepId: z.string(),
  tags: z.array(z.string()).optional(),
  /** Every point runs over these New York dates only (part of each run's identity). */
  dateRange: z.object({ from: z.string(), to: z.string() }).optional(),
});
export const RunMsg = z.object({ type: z.literal('run'), idx: z.number().int(), params: z.record(z.string(), z.unknown()) });
/**
 * Walk-forward in-sample evaluation: scores of several points on session-filtered bars
 * [from, to). Batched: one IPC round trip per batch, not per point (under load a round trip
 * can cost more than a small in-sample run).
 */
export const ScoreMsg = z.object({
  type: z.literal('score'),
  idx: z.number().int(),
  points: z.array(z.record(z.string(), z.unknown())).min(1),
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
  sortKey: z.string(),
});
/**
 * Light sweep points: several grid points (validated params) run for their metrics only — no
 * catalog, no files; the pool's parent records them in batches (lightPoints.ts).
 */
export const PointsMsg = z.object({
  type: z.literal('points'),
  idx: z.number().int(),
  points: z.array(z.record(z.string(), z.unknown())).min(1),
});
export const ToWorker = z.discriminatedUnion('type', [
  StartMsg,
  RunMsg,
  ScoreMsg,
  PointsMsg,
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('cancel') }),
]);
export type ToWorker = z.infer<typeof ToWorker>;

export const RunResult = z.object({
  type: z.literal('result'),
  job: z.literal('run'),
  idx: z.number().int(),
  run_id: z.string().nullable(),
  status: z.string(),
  created: z.boolean(),
  metrics: z.record(z.string(), z.number().nullable()).nullable(),
  error: z.string().nullable(),
});
/** score null = −Infinity (JSON has no infinities); error set when the batch threw. */
export const ScoreResult = z.object({
  type: z.literal('result'),
  job: z.literal('score'),
  idx: z.number().int(),
  scores: z.array(z.number().nullable()),
  error: z.string().nullable(),
});
/** One light point's outcome: its metrics, or the error that ended it; bar count and times for its manifest. */
export const PointOutcome = z.object({
  metrics: z.record(z.string(), z.number().nullable()).nullable(),
  error: z.string().nullable(),
  bar_count: z.number().int().nonnegative(),
  started_at: z.string(),
  finished_at: z.string(),
});
export type LightOutcome = z.infer<typeof PointOutcome>;
/** Outcomes in the order of the batch's points; error set (and outcomes empty) when the batch as a whole failed. */
export const PointsResult = z.object({
  type: z.literal('result'),
  job: z.literal('points'),
  idx: z.number().int(),
  outcomes: z.array(PointOutcome),
  error: z.string().nullable(),
});
export const ToParent = z.union([
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  RunResult,
  ScoreResult,
  PointsResult,
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ToParent = z.infer<typeof ToParent>;

export type SetupMsg = z.infer<typeof StartMsg>;
export type WorkerJob = z.infer<typeof RunMsg> | z.infer<typeof ScoreMsg> | z.infer<typeof PointsMsg>;
export type WorkerReply = z.infer<typeof RunResult> | z.infer<typeof ScoreResult> | z.infer<typeof PointsResult>;

export function parseToWorker(raw: unknown): ToWorker {
  const r = ToWorker.safeParse(raw);
  if (!r.success) throw new ProtocolError('to-child', `sweep worker: invalid message: ${describeIssues(r.error)}`);
  return r.data;
}

export function parseToParent(raw: unknown): ToParent {
  const r = ToParent.safeParse(raw);
  if (!r.success) throw new ProtocolError('to-host', `sweep worker: invalid message: ${describeIssues(r.error)}`);
  return r.data;
}

/** The `start` message every sweep executor gets: the request's settings, once per worker. */
export function setupMessage(req: SweepRequest, sweepId: string): SetupMsg {
  return {
    type: 'start',
    dataDir: req.dataDir,
    datasetId: req.datasetId,
    strategy: req.strategy,
    seed: req.seed,
    costs: req.costs as Record<string, unknown>,
    session: req.session,
    force: req.force,
    sweepId,
    ...(req.tags ? { tags: req.tags } : {}),
    ...(req.dateRange ? { dateRange: req.dateRange } : {}),
  };
}
