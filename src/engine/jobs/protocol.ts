/**
 * The one protocol between the extension host and a job child process (forked dist/jobs/<kind>Job.js).
 *
 *   child → host: ready, progress, log, result, error
 *   host → child: start, cancel
 *
 * Every message is validated on arrival on both sides (parseToHost / parseToChild); an invalid
 * message is a protocol error naming the message type and the offending field, never a crash
 * with a half-understood payload. Types are inferred from the schemas.
 */
import { z } from 'zod';
import { CostsInput, toCosts, type CostsError } from '../backtest/costs.ts';
import { gridFromRecord, parseArtifactsMode } from '../sweep/grid.ts';

function isArtifactsMode(s: string): boolean {
  try {
    parseArtifactsMode(s);
    return true;
  } catch {
    return false;
  }
}

export const PROTOCOL_VERSION = 1;

export const JOB_KINDS = ['ingest', 'fetch', 'derive', 'backtest', 'sweep', 'synth', 'query', 'strategy', 'materialize'] as const;
export const JobKind = z.enum(JOB_KINDS);
export type JobKind = z.infer<typeof JobKind>;

// ── child → host ────────────────────────────────────────────────────────────────────────────
export const ReadyMsg = z.object({ type: z.literal('ready'), protocol: z.literal(PROTOCOL_VERSION), kind: JobKind, pid: z.number().int() });
export const ProgressMsg = z.object({
  type: z.literal('progress'),
  phase: z.string().min(1),
  done: z.number().nonnegative(),
  total: z.number().nonnegative(),
  message: z.string().optional(),
});
export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
export const LogMsg = z.object({ type: z.literal('log'), level: LogLevel, text: z.string() });
export const ResultMsg = z.object({ type: z.literal('result'), payload: z.unknown() });
export const ErrorMsg = z.object({
  type: z.literal('error'),
  message: z.string(),
  stack: z.string().optional(),
  /** 'canceled' when the job stopped because it was asked to. */
  code: z.string().optional(),
});
export const ToHostMsg = z.discriminatedUnion('type', [ReadyMsg, ProgressMsg, LogMsg, ResultMsg, ErrorMsg]);
export type ToHostMsg = z.infer<typeof ToHostMsg>;
export type ProgressMsg = z.infer<typeof ProgressMsg>;
export type LogLevel = z.infer<typeof LogLevel>;

// ── host → child ────────────────────────────────────────────────────────────────────────────
export const StartMsg = z.object({ type: z.literal('start'), kind: JobKind, params: z.unknown() });
export const CancelMsg = z.object({ type: z.literal('cancel') });
export const ToChildMsg = z.discriminatedUnion('type', [StartMsg, CancelMsg]);
export type ToChildMsg = z.infer<typeof ToChildMsg>;

// ── job parameters (checked by the child against the kind it implements) ─────────────────────
/** Costs and grids travel in the one form their modules define (backtest/costs.ts, grid.ts), checked there too. */
const Costs = CostsInput.superRefine((c, ctx) => {
  try {
    toCosts(c);
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: [(err as CostsError).field ?? 'costs'], message: (err as Error).message });
  }
});
const GridRecord = z
  .record(z.string(), z.union([z.array(z.union([z.number(), z.string(), z.boolean()])).min(1), z.string()]))
  .superRefine((g, ctx) => {
    try {
      gridFromRecord(g);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
export const Session = z.enum(['all', 'rth']);

export const IngestParams = z.object({
  dataDir: z.string().min(1),
  paths: z.array(z.string().min(1)).min(1),
  symbol: z.string().optional(),
  derive: z.boolean().default(true),
});
export const SynthParams = z.object({
  dataDir: z.string().min(1),
  symbol: z.string().min(1).default('DEMO'),
  start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD'),
  days: z.number().int().positive(),
  seed: z.number().int().default(1),
  tradesPerDay: z.number().int().positive().optional(),
});
export const DeriveParams = z.object({ dataDir: z.string().min(1), datasetId: z.string().min(1) });
export const FetchParams = z.object({
  dataDir: z.string().min(1),
  /** Arrives only inside the start message (never argv, env or a file). */
  apiKey: z.string().min(1),
  baseUrl: z.string().url().optional(),
  dataset: z.string().min(1),
  symbols: z.array(z.string().min(1)).min(1),
  schemas: z.array(z.enum(['trades', 'tbbo'])).min(1),
  start: z.string().min(1),
  end: z.string().min(1),
  derive: z.boolean().default(true),
});
export const BacktestParams = z.object({
  dataDir: z.string().min(1),
  datasetId: z.string().min(1),
  strategyId: z.string().min(1),
  /** A workspace strategy file (absolute path) when strategyId is not built in. */
  strategyPath: z.string().optional(),
  params: z.record(z.string(), z.unknown()),
  seed: z.number().int().default(0),
  costs: Costs.default({}),
  session: Session.default('all'),
  /** Chosen by the host so it can mark the run canceled/failed if the child dies. */
  runId: z.string().optional(),
  force: z.boolean().default(false),
  /** Only bars whose New York date is in [from, to] (part of the run identity). */
  dateRange: z.object({ from: z.string(), to: z.string() }).optional(),
});
export const SweepParams = BacktestParams.omit({ params: true, runId: true }).extend({
  /** Each key maps to the values to try (or 'a:b:step'); the sweep is their cartesian product. */
  grid: GridRecord,
  fixed: z.record(z.string(), z.unknown()).default({}),
  /** The metric that ranks points (and picks each walk-forward fold's best). */
  sort: z.string().min(1).default('sharpe'),
  /** Which points get artifacts as they run: all, none or top:N by `sort` (the others are materialised when opened). */
  artifacts: z
    .string()
    .default('top:10')
    .refine((s) => isArtifactsMode(s), 'expected all, none or top:N (e.g. top:10)'),
  /** Walk-forward instead of a plain sweep: rolling folds in New York trading days. */
  walkForward: z.object({ trainDays: z.number().int().positive(), testDays: z.number().int().positive() }).optional(),
  /** Run the points on `btnb worker`s through BullMQ on this Redis; the job child coordinates (docs/distributed.md). A walk-forward runs locally. */
  queue: z
    .object({
      redisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'),
      /** Where the workers reach this coordinator (HOST:PORT). */
      listen: z.string().default('127.0.0.1:8787'),
      token: z.string().min(16).optional(),
    })
    .optional(),
});
/** A read-only SQL query over the catalog (notebook `sql` cells). */
export const QueryParams = z.object({
  dataDir: z.string().min(1),
  sql: z.string().min(1),
  /** Rows returned; the rest are counted. */
  maxRows: z.number().int().positive().max(100_000).default(1000),
});
/** Loads and checks a strategy file (notebook `typescript` cells are materialized to one first). */
export const StrategyParams = z.object({
  path: z.string().min(1),
});
/** Writes a light sweep point's artifacts (backtest/materialize.ts) — a whole engine run, so never on a server's event loop. */
export const MaterializeParams = z.object({
  dataDir: z.string().min(1),
  runId: z.string().min(1),
});
export const PARAMS_BY_KIND = {
  ingest: IngestParams,
  synth: SynthParams,
  derive: DeriveParams,
  fetch: FetchParams,
  backtest: BacktestParams,
  sweep: SweepParams,
  query: QueryParams,
  strategy: StrategyParams,
  materialize: MaterializeParams,
} as const;
export type IngestParams = z.input<typeof IngestParams>;
export type SynthParams = z.input<typeof SynthParams>;
export type DeriveParams = z.input<typeof DeriveParams>;
export type FetchParams = z.input<typeof FetchParams>;
export type BacktestParams = z.input<typeof BacktestParams>;
export type SweepParams = z.input<typeof SweepParams>;
export type QueryParams = z.input<typeof QueryParams>;
export type StrategyParams = z.input<typeof StrategyParams>;
export type MaterializeParams = z.input<typeof MaterializeParams>;
export type JobParams = { [K in JobKind]: z.input<(typeof PARAMS_BY_KIND)[K]> };

// ── job results (checked by the host against the kind it started, as params are by the child) ──
// Objects keep the fields the host reads (z.object drops the rest on arrival); the CLI's --json
// output, not this protocol, is the place for everything a job knows.
const metricsRecord = z.record(z.string(), z.number().nullable());
const DatasetInfo = z.object({
  dataset_id: z.string(),
  symbol: z.string(),
  schemas: z.array(z.string()),
  start: z.string().nullable(),
  end: z.string().nullable(),
  sources: z.array(z.object({ sha256: z.string() })),
  created: z.boolean().optional(),
  bars_path: z.string().optional(),
  bar_count: z.number().int().optional(),
});
export const ImportResult = z.strictObject({ datasets: z.array(DatasetInfo) });
export const SynthResult = ImportResult.extend({ trades: z.number().int(), tradingDays: z.array(z.string()) });
export const DeriveResult = z.object({
  dataset_id: z.string(),
  symbol: z.string(),
  bar_count: z.number().int(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  bars_path: z.string(),
});
export const FetchResult = z.object({
  datasets: z.array(DatasetInfo),
  cost: z.object({ usd: z.number(), records: z.number() }),
  downloads: z.array(z.object({ schema: z.string(), bytes: z.number() })),
});
export const BacktestResult = z.strictObject({
  runId: z.string(),
  created: z.boolean(),
  status: z.string(),
  inputHash: z.string(),
  artifactsDir: z.string(),
  metrics: metricsRecord.nullable(),
});
export const SweepResult = z.strictObject({
  sweepId: z.string(),
  total: z.number().int(),
  succeeded: z.number().int(),
  runs: z.array(
    z.strictObject({
      runId: z.string(),
      params: z.record(z.string(), z.unknown()),
      status: z.string(),
      created: z.boolean(),
      metrics: metricsRecord.nullable(),
      error: z.string().optional(),
    }),
  ),
  /** Walk-forward sweeps: the folds (each with its out-of-sample run) and the stitched metrics. */
  walkForward: z
    .strictObject({
      folds: z.array(
        z.strictObject({
          fold: z.number().int().positive(),
          trainStart: z.string(),
          trainEnd: z.string(),
          testStart: z.string(),
          testEnd: z.string(),
          params: z.record(z.string(), z.unknown()),
          trainScore: z.number().nullable(),
          testReturn: z.number(),
          runId: z.string(),
        }),
      ),
      metrics: metricsRecord,
    })
    .optional(),
});
const Cell = z.union([z.number(), z.string(), z.boolean(), z.null()]);
export const QueryResult = z.strictObject({
  columns: z.array(z.string()),
  rows: z.array(z.array(Cell)),
  /** Rows the statement produced in all (rows holds the first maxRows). */
  total: z.number().int().nonnegative(),
});
export const StrategyResult = z.strictObject({
  strategyId: z.string(),
  description: z.string().nullable(),
  codeHash: z.string(),
  /** The parameters with their defaults (null when a parameter has none). */
  params: z.array(z.strictObject({ name: z.string(), type: z.string(), default: z.unknown(), description: z.string().nullable() })),
});
export const MaterializeResult = z.strictObject({
  runId: z.string(),
  artifactsDir: z.string(),
  /** False when the run already had its files (nothing was written). */
  written: z.boolean(),
});
/** Each kind's result next to its params (as rust-analyzer pairs a request's params and result). */
export const RESULT_BY_KIND = {
  ingest: ImportResult,
  synth: SynthResult,
  derive: DeriveResult,
  fetch: FetchResult,
  backtest: BacktestResult,
  sweep: SweepResult,
  query: QueryResult,
  strategy: StrategyResult,
  materialize: MaterializeResult,
} as const;
export type JobResults = { [K in JobKind]: z.output<(typeof RESULT_BY_KIND)[K]> };

/** A message that failed validation: says which direction, which message type and what was wrong. */
export class ProtocolError extends Error {
  readonly direction: 'to-host' | 'to-child';
  constructor(direction: 'to-host' | 'to-child', detail: string) {
    super(`job protocol (${direction}): ${detail}`);
    this.name = 'ProtocolError';
    this.direction = direction;
  }
}

export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(message)'}: ${i.message}`).join('; ');
}

function typeOf(raw: unknown): string {
  return raw !== null && typeof raw === 'object' && 'type' in raw ? JSON.stringify(raw.type) : 'no type';
}

export function parseToHost(raw: unknown): ToHostMsg {
  const r = ToHostMsg.safeParse(raw);
  if (!r.success) throw new ProtocolError('to-host', `invalid message (${typeOf(raw)}): ${describeIssues(r.error)}`);
  return r.data;
}

export function parseToChild(raw: unknown): ToChildMsg {
  const r = ToChildMsg.safeParse(raw);
  if (!r.success) throw new ProtocolError('to-child', `invalid message (${typeOf(raw)}): ${describeIssues(r.error)}`);
  return r.data;
}

/** Validates a result for the kind the host started (an invalid one is a protocol error, not data). */
export function parseJobResult<K extends JobKind>(kind: K, raw: unknown): JobResults[K] {
  const r = RESULT_BY_KIND[kind].safeParse(raw);
  if (!r.success) throw new ProtocolError('to-host', `invalid ${kind} result: ${describeIssues(r.error)}`);
  return r.data as JobResults[K];
}

/** Validates a start message's params for the kind the child implements. */
export function parseJobParams<K extends JobKind>(kind: K, raw: unknown): z.output<(typeof PARAMS_BY_KIND)[K]> {
  const r = PARAMS_BY_KIND[kind].safeParse(raw);
  if (!r.success) throw new ProtocolError('to-child', `invalid ${kind} params: ${describeIssues(r.error)}`);
  return r.data as z.output<(typeof PARAMS_BY_KIND)[K]>;
}
