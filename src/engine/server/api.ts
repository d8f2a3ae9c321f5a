/**
 * The HTTP protocol of `btnb serve` (docs/api/openapi.yaml is generated from it): every request
 * and response body as a zod schema, shared by the server's routes and by clients. Bodies use
 * the catalog's snake_case names (the seed's BacktestRunnerPort fields), so the API cannot drift
 * from the engine: a run is the catalog's RunRow, costs are the engine's CostsInput.
 */
import { z } from 'zod';
import { CostsInput } from '../backtest/costs.ts';

/** RFC 9457 problem details: every error answer. `field` names the invalid input when there is one. */
const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  field: z.string().optional(),
});
export type Problem = z.infer<typeof Problem>;

export const Health = z.object({
  status: z.literal('ok'),
  version: z.string(),
  catalog: z.object({ ok: z.boolean(), path: z.string(), error: z.string().optional() }),
  jobs: z.object({ running: z.number().int(), queued: z.number().int(), max: z.number().int() }),
});

const metrics = z.record(z.string(), z.number().nullable());

export const Run = z.object({
  run_id: z.string(),
  input_hash: z.string(),
  status: z.enum(RUN_STATUSES),
  dataset_id: z.string(),
  symbol: z.string().nullable(),
  strategy_id: z.string(),
  params: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  costs: z.record(z.string(), z.unknown()),
  session: z.string(),
  code_hash: z.string(),
  engine_version: z.string(),
  materialized: z.boolean(),
  metrics: metrics.nullable(),
  error: z.string().nullable(),
  tags: z.array(z.string()),
  notes: z.string(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  sweep_id: z.string().nullable(),
});
export type Run = z.infer<typeof Run>;

export const RunsQuery = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  strategy: z.string().min(1).optional(),
  dataset_id: z.string().min(1).optional(),
  sweep_id: z.string().min(1).optional(),
  /** Full text over strategy, symbol, tags and notes (every word must match). */
  search: z.string().min(1).optional(),
  /** 'created' (default), 'strategy', 'symbol', 'status', 'duration' or a metrics key. */
  sort: z.string().min(1).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** Opaque: the `next_cursor` of the previous page. */
  cursor: z.string().min(1).optional(),
});
export type RunsQuery = z.infer<typeof RunsQuery>;

export const RunsPage = z.object({ runs: z.array(Run), total: z.number().int(), next_cursor: z.string().nullable() });

export const RunId = z.object({ id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a run id (a 26-character ULID)') });

export const RunPatch = z.strictObject({
  tags: z.array(z.string().trim().min(1)).max(100).optional(),
  note: z.string().max(100_000).optional(),
});

export const BacktestBody = z.strictObject({
  dataset_id: z.string().regex(/^ds_[0-9a-f]{16}$/, 'expected a dataset id (ds_ + 16 hex digits)'),
  strategy_id: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  seed: z.number().int().min(0).default(0),
  costs: CostsInput.default({}),
  session: z.enum(['all', 'rth']).default('all'),
  /** New York dates, inclusive (part of the run identity). */
  date_range: z.strictObject({ from: z.iso.date(), to: z.iso.date() }).optional(),
});
export type BacktestBody = z.infer<typeof BacktestBody>;

export const BacktestAccepted = z.object({
  run_id: z.string(),
  status: z.enum(RUN_STATUSES),
  input_hash: z.string(),
  /** The job that runs it; null when an identical run already existed. */
  job_id: z.string().nullable(),
});
