/**
 * The one protocol of distributed sweeps: what a BullMQ job carries to a `btnb worker` and what
 * the worker completes it with, as zod schemas both sides check on arrival, and the queue's
 * settings. The coordinator (coordinator.ts) writes the catalog; workers (worker.ts) never do.
 *
 * Delivery is at least once. A job's id is its point's input_hash (64 hex digits, never `:`),
 * so a point is enqueued once while its job exists; BullMQ drops a finished job after a day
 * (JOB_OPTIONS), and the catalog (keyed by input_hash, settled only from queued/running) makes a
 * second completion of the same point a no-op.
 */
import { z } from 'zod';

export const QUEUE_PROTOCOL = 1;
/** The BullMQ queue of sweep points (one per Redis unless `--queue-name` says otherwise). */
export const DEFAULT_QUEUE_NAME = 'btnb-points';

/**
 * Lock and stall settings, set deliberately (docs/distributed.md):
 * - lockDuration 60 s, renewed every 30 s by the worker's event loop, which stays free: points
 *   run in the engine's async loop (built-ins) or the sandbox thread (user code), and a point
 *   takes milliseconds to seconds;
 * - stalledInterval 15 s: a worker killed mid-point is noticed within 15 s after its lock ends;
 * - maxStalledCount 3: a point whose worker dies three times fails instead of looping forever.
 */
export const QUEUE_SETTINGS = { lockDuration: 60_000, stalledInterval: 15_000, maxStalledCount: 3 } as const;
/**
 * Every point's job options:
 * - 4 attempts with exponential backoff from 0.5 s for a processor that threw (an upload refused,
 *   the coordinator unreachable beyond the worker's patience);
 * - a finished job stays a day (a failed one a week) so a coordinator restarted meanwhile still
 *   reads its outcome; BullMQ then drops it in its own completion script (no call per job).
 */
export const JOB_OPTIONS = {
  attempts: 4,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 86_400 },
  removeOnFail: { age: 7 * 86_400 },
} as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in 64 lowercase hex digits');

/** A user strategy's bundled inputs: relative paths (to the entry's folder) and their text. */
export const StrategySources = z.strictObject({
  entry: z.string().min(1),
  files: z.array(z.strictObject({ path: z.string().min(1), text: z.string() })).min(1),
});
export type StrategySources = z.infer<typeof StrategySources>;

export const PointJobData = z.strictObject({
  protocol: z.literal(QUEUE_PROTOCOL),
  engine_version: z.string().min(1),
  sweep_id: z.string().min(1),
  run_id: z.string().min(1),
  input_hash: Sha256,
  dataset_id: z.string().min(1),
  symbol: z.string(),
  /** The dataset's bars.parquet, content-addressed: the worker fetches and verifies it once. */
  bars_sha256: Sha256,
  strategy_id: z.string().min(1),
  code_hash: Sha256,
  /** null for a built-in strategy. */
  strategy: StrategySources.nullable(),
  params: z.record(z.string(), z.unknown()),
  seed: z.number().int().nonnegative(),
  costs: z.record(z.string(), z.unknown()),
  session: z.enum(['all', 'rth']),
  date_range: z.strictObject({ from: z.string(), to: z.string() }).nullable(),
  /** Upload the run's files (PUT /backtests/{id}/artifacts) before completing; else metrics only. */
  artifacts: z.boolean(),
});
export type PointJobData = z.infer<typeof PointJobData>;

const Metric = z.number().nullable();
/** The catalog's timestamp form: a worker's clock reading is checked here, not in a catalog write. */
const IsoTs = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, 'a UTC ISO-8601 timestamp');
export const PointJobResult = z.strictObject({
  protocol: z.literal(QUEUE_PROTOCOL),
  /** The run the job was queued for (a later run of the same input gets its own job). */
  run_id: z.string(),
  /** failed: the strategy threw (deterministic: not retried); the error carries its stack. */
  status: z.enum(['succeeded', 'failed', 'canceled']),
  metrics: z.record(z.string(), Metric).nullable(),
  error: z.string().nullable(),
  started_at: IsoTs,
  finished_at: IsoTs,
  /** The run-manifest.json a light point's files will carry (null when the files were uploaded). */
  manifest: z.record(z.string(), z.unknown()).nullable(),
  uploaded: z.boolean(),
  /** Which worker ran it (host:pid), for the logs. */
  worker: z.string(),
});
export type PointJobResult = z.infer<typeof PointJobResult>;

/** The Redis key a canceled run leaves for the worker that has (or gets) its point: it completes it `canceled`. */
export function canceledKey(queueName: string, runId: string): string {
  return `btnb:${queueName}:canceled:${runId}`;
}

/** Multipart field of PUT /backtests/{id}/artifacts: every file's SHA-256 (hex) by name, sent first. */
export const DIGESTS_FIELD = 'sha256';
export const UploadDigests = z.record(z.string(), Sha256);
