/**
 * Messages between a sweep's pool (workerPool.ts) and its forked workers (sweepWorker.ts),
 * over the IPC channel with 'advanced' serialization (typed arrays travel as such), checked
 * with zod on arrival on both sides. Cancel is SIGTERM, not a message.
 */
import { z } from 'zod';
import type { BarSeries } from '../bars/barSeries.ts';

const F64 = ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'buyVolume', 'sellVolume', 'bidClose', 'askClose', 'spreadMean', 'spreadMax', 'bidSizeMean', 'askSizeMean', 'imbalanceMean'] as const;

/** A BarSeries as structured clone delivers it: every column a typed array of at least `length` values. */
function isBarSeries(v: unknown): v is BarSeries {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  const n = b.length;
  if (typeof b.symbol !== 'string' || typeof n !== 'number' || !Number.isInteger(n) || n < 0) return false;
  const long = (a: unknown, T: typeof Float64Array | typeof Int32Array) => a instanceof T && a.length >= n;
  return F64.every((k) => long(b[k], Float64Array)) && long(b.tradeCount, Int32Array) && long(b.quoteCount, Int32Array);
}

export const Job = z.object({ type: z.literal('run'), idx: z.number().int(), params: z.record(z.string(), z.unknown()) });
export const Setup = z.object({
  type: z.literal('setup'), dataDir: z.string(), datasetId: z.string(), strategy: z.string(), seed: z.number().int(),
  costs: z.record(z.string(), z.unknown()), session: z.enum(['all', 'rth']), force: z.boolean(), sweepId: z.string(), tags: z.array(z.string()).optional(),
  /** The dataset's bars, read once by the pool (each worker would otherwise read and decode the file again). */
  bars: z.custom<BarSeries>(isBarSeries, 'expected a BarSeries').optional(),
});
/**
 * Walk-forward in-sample evaluation: scores of several points on session-filtered bars
 * [from, to). Batched: one IPC round trip per batch, not per point (under load a round trip
 * can cost more than a small in-sample run).
 */
export const Score = z.object({
  type: z.literal('score'), idx: z.number().int(), points: z.array(z.record(z.string(), z.unknown())).min(1),
  from: z.number().int().nonnegative(), to: z.number().int().nonnegative(), sortKey: z.string(),
});
/** stop: finish the jobs in flight, then exit. */
export const ToWorker = z.discriminatedUnion('type', [Setup, Job, Score, z.object({ type: z.literal('stop') })]);
export const Done = z.object({
  type: z.literal('done'), idx: z.number().int(), run_id: z.string().nullable(), status: z.string(), created: z.boolean(),
  metrics: z.record(z.string(), z.number().nullable()).nullable(), error: z.string().nullable(),
});
/** score null = −Infinity (JSON has no infinities); error set when the run threw. */
export const Scored = z.object({ type: z.literal('scored'), idx: z.number().int(), scores: z.array(z.number().nullable()), error: z.string().nullable() });
export const ToParent = z.discriminatedUnion('type', [z.object({ type: z.literal('ready') }), Done, Scored]);

export type SetupMsg = z.infer<typeof Setup>;
export type WorkerJob = z.infer<typeof Job> | z.infer<typeof Score>;
export type WorkerReply = z.infer<typeof Done> | z.infer<typeof Scored>;
