/**
 * The HTTP protocol of `btnb serve` (docs/api/openapi.yaml is generated from it): every request
 * and response body as a zod schema, shared by the server's routes and by clients. Bodies use
 * the catalog's snake_case names (the seed's BacktestRunnerPort fields), so the API cannot drift
 * from the engine: a run is the catalog's RunRow, costs are the engine's CostsInput.
 */
import { z } from 'zod';
import { CostsInput } from '../backtest/costs.ts';
import { RunInfo, SeriesWindow, TablePage } from '../views/protocol.ts';

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
  /** This process's event-loop delay since it started (handlers must never block it). */
  event_loop: z.object({ p50_ms: z.number(), p99_ms: z.number(), max_ms: z.number() }),
});

const metrics = z.record(z.string(), z.number().nullable());

/** A catalog run as the views see it (views/protocol.ts RunInfo), plus whether its files are on disk. */
export const Run = RunInfo.extend({ materialized: z.boolean() });
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

// ---- run artifacts, series and tables (routes/artifacts.ts) -----------------------------------

/** The files of a run directory the artifacts route serves (an allow-list: nothing else is reachable). */
export const ARTIFACT_NAMES = [
  'metrics.json',
  'run-manifest.json',
  'equity.parquet',
  'orders.parquet',
  'fills.parquet',
  'trades.parquet',
] as const;
export type ArtifactName = (typeof ARTIFACT_NAMES)[number];

/** An artifact's bytes (200 whole, 206 a range): Parquet or JSON, streamed as stored. */
export const ArtifactBytes = z.unknown().describe('the file bytes (application/vnd.apache.parquet or application/json)');

export const ArtifactParams = RunId.extend({ name: z.string() });

export const SeriesQuery = z.object({
  /** Window start, UTC epoch ms (inclusive); the run's first bar when absent. */
  from: z.coerce.number().int().nonnegative().optional(),
  /** Window end, UTC epoch ms (exclusive); after the run's last bar when absent. */
  to: z.coerce.number().int().positive().optional(),
  /** Buckets at most (candles and equity are decimated to them; fills never are). */
  points: z.coerce.number().int().min(10).max(10_000).default(1000),
});
export type SeriesQuery = z.infer<typeof SeriesQuery>;

export const TableQuery = z.object({
  limit: z.coerce.number().int().min(1).max(5000).default(500),
  /** Opaque: the `next_cursor` of the previous page. */
  cursor: z.string().min(1).optional(),
  /** A column to sort by (the table's `columns`); the engine's row order when absent. */
  sort: z.string().min(1).max(32).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});
export type TableQuery = z.infer<typeof TableQuery>;

/**
 * GET /backtests/{id}/series answers the run views' SeriesWindow (views/protocol.ts): its
 * `from`/`to` are the bar indices of the window, candles and equity decimated to ≤ points
 * buckets, every fill of the window.
 */
export const RunSeriesWindow = SeriesWindow;

/** A page of a run's fills, orders or trades: the views' TablePage (one array per column) and the next page's cursor. */
export const RunTablePage = TablePage.extend({ next_cursor: z.string().nullable() });

// ---- datasets (routes/datasets.ts) ------------------------------------------------------------

/** A raw source file of a dataset; nanosecond times are decimal strings (JSON has no 64-bit integers). */
export const DatasetSource = z.object({
  sha256: z.string(),
  path: z.string(),
  original_name: z.string().nullable(),
  schema: z.string(),
  dbn_version: z.number().int(),
  bytes: z.number().int(),
  records: z.number().int(),
  first_ts_recv: z.string().nullable(),
  last_ts_recv: z.string().nullable(),
  meta_start: z.string().nullable(),
  meta_end: z.string().nullable(),
});

/** The catalog's DatasetRow. */
export const Dataset = z.object({
  dataset_id: z.string(),
  symbol: z.string(),
  databento_dataset: z.string().nullable(),
  schemas: z.array(z.string()),
  start: z.string().nullable(),
  end: z.string().nullable(),
  bar_count: z.number().int().nullable(),
  bars_path: z.string().nullable(),
  manifest: z.record(z.string(), z.unknown()).nullable(),
  derive_version: z.number().int(),
  status: z.enum(['imported', 'deriving', 'ready', 'failed']),
  error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  sources: z.array(DatasetSource),
});
export type Dataset = z.infer<typeof Dataset>;

export const DatasetsList = z.object({ datasets: z.array(Dataset) });

export const DatasetId = z.object({ id: z.string().min(1).max(64) });

/** The seed's ensure_dataset: a dataset of `symbol` covering the dates start … end (inclusive, like a backtest's date_range). */
export const DatasetBody = z
  .strictObject({
    symbol: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,32}$/, 'expected a ticker (letters, digits, . _ -)'),
    start: z.iso.date(),
    end: z.iso.date(),
    source: z.enum(['synth', 'databento']).default('synth'),
    /** Databento dataset code (e.g. XNAS.ITCH); required with source databento. */
    databento_dataset: z.string().min(1).max(64).optional(),
    /** Seed of the synthetic data (source synth). */
    seed: z.number().int().min(0).default(1),
  })
  .refine((b) => b.start <= b.end, { message: 'end must not be before start', path: ['end'] });
export type DatasetBody = z.infer<typeof DatasetBody>;

/** POST /datasets started a job (its progress: GET /jobs/{job_id}/events). */
export const DatasetJobAccepted = z.object({ job_id: z.string() });

// ── sweeps (POST /sweeps, GET/DELETE /sweeps/{id}) ──────────────────────────────────────────
const GridValue = z.union([z.number(), z.string(), z.boolean()]);

/** The POST /backtests body with `grid` instead of `params` (the one grid grammar: sweep/grid.ts). */
export const SweepBody = BacktestBody.omit({ params: true }).extend({
  /** Each key maps to the values to try or 'a:b:step' (inclusive); the sweep is their cartesian product. */
  grid: z.record(z.string(), z.union([z.array(GridValue), z.string()])),
  /** Parameters held fixed at every point. */
  fixed: z.record(z.string(), z.unknown()).default({}),
  /** The metrics key that ranks points (and picks each walk-forward fold's best). */
  sort: z.string().min(1).default('sharpe'),
  /** Which points get artifacts as they run: 'all', 'none' or 'top:N' by `sort`. */
  artifacts: z.string().min(1).default('top:10'),
  /** Walk-forward instead of a plain sweep: rolling folds in New York trading days. */
  walk_forward: z.strictObject({ train_days: z.number().int().positive(), test_days: z.number().int().positive() }).optional(),
  /** Run the points on `btnb worker`s through the server's queue (`btnb serve --redis`) instead of a local job. */
  queue: z.boolean().default(false),
});
export type SweepBody = z.infer<typeof SweepBody>;

const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;

export const SweepAccepted = z.object({
  /** Known once the sweep job has started (null while queued); at once for a queued sweep. */
  sweep_id: z.string().nullable(),
  /** The local sweep's job; null for a sweep on the queue (follow it by sweep_id). */
  job_id: z.string().nullable(),
  status: z.enum(JOB_STATES),
});

/** One point of a sweep, as `btnb sweep --json` reports it. */
export const SweepPoint = z.object({
  params: z.record(z.string(), z.unknown()),
  run_id: z.string().nullable(),
  status: z.string(),
  created: z.boolean(),
  metrics: metrics.nullable(),
  error: z.string().nullable(),
});

export const SweepStatus = z.object({
  sweep_id: z.string().nullable(),
  /** The job that runs (ran) it; null for a sweep rebuilt from the catalog after a restart. */
  job_id: z.string().nullable(),
  status: z.enum(JOB_STATES),
  progress: z.object({ done: z.number(), total: z.number() }),
  dataset_id: z.string().nullable(),
  strategy_id: z.string().nullable(),
  sort: z.string(),
  /** Grid points (combinations), runs made or reused, runs not succeeded. */
  points: z.number().int().nullable(),
  runs: z.number().int().nullable(),
  failed: z.number().int().nullable(),
  /** Points the strategy's schema refused (e.g. slow ≤ fast), with the reason. */
  skipped: z.array(z.object({ params: z.record(z.string(), z.unknown()), error: z.string() })),
  /** When finished: every run, best first by `sort` (as `btnb sweep --json`); null before. */
  results: z.array(SweepPoint).nullable(),
  walk_forward: z
    .object({
      folds: z.array(
        z.object({
          fold: z.number().int(),
          train_start: z.string(),
          train_end: z.string(),
          test_start: z.string(),
          test_end: z.string(),
          params: z.record(z.string(), z.unknown()),
          train_score: z.number().nullable(),
          test_return: z.number(),
          run_id: z.string(),
        }),
      ),
      metrics,
    })
    .nullable(),
  /** Why the sweep failed. */
  error: z.string().nullable(),
});
export type SweepStatus = z.infer<typeof SweepStatus>;

/** A sweep by its job id (this server's lifetime) or its sweep id (a ULID; also from the catalog). */
export const SweepId = z.object({ id: z.string().regex(/^(?:\d+|[0-9A-HJKMNP-TV-Z]{26})$/, 'expected a job id or a sweep id (a ULID)') });

// ── jobs (GET /jobs/{id}, GET /jobs/{id}/events) ────────────────────────────────────────────
export const JobId = z.object({ id: z.string().regex(/^\d+$/, 'expected a job id (an integer)') });

export const JobProgress = z.object({
  phase: z.string(),
  done: z.number(),
  total: z.number(),
  message: z.string().optional(),
});

export const JobInfo = z.object({
  job_id: z.string(),
  kind: z.string(),
  title: z.string(),
  state: z.enum(JOB_STATES),
  progress: JobProgress.nullable(),
  /** The catalog run it writes (backtests). */
  run_id: z.string().nullable(),
  /** Why it failed. */
  error: z.string().nullable(),
});
export type JobInfo = z.infer<typeof JobInfo>;

// ---- replay over WebSocket / SSE, tickets (routes/replay.ts) ----------------------------------

/** `?from=`/`?to=`: digits up to 15 are a bar index, anything else a UTC time (ISO-8601 or decimal nanoseconds), as `btnb replay`. */
const ReplayTarget = z
  .string()
  .min(1)
  .max(64)
  .transform((s) => (/^\d{1,15}$/.test(s) ? Number(s) : s));

/** The open options of a replay (the StreamerPort's ReplayOpenOptions) as query parameters. */
export const ReplayQuery = z.object({
  /** Bars per second, or `max`. */
  speed: z.union([z.literal('max'), z.coerce.number().positive().max(1e9)]).optional(),
  from: ReplayTarget.optional(),
  to: ReplayTarget.optional(),
  /** Start playing at once (default: paused at `from`). */
  play: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .optional(),
  /** The view's width in points: how finely a reset frame's history is decimated. */
  points: z.coerce.number().int().min(10).max(20_000).optional(),
  /** IANA display zone for the view (default America/New_York). */
  tz: z
    .string()
    .min(1)
    .max(64)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'unknown time zone (expected an IANA name such as America/New_York)')
    .default('America/New_York'),
  /** A one-time ticket from POST /tickets, for clients that cannot send `Authorization` (browsers' WebSocket, EventSource). */
  ticket: z.string().min(1).max(128).optional(),
});
export type ReplayQuery = z.infer<typeof ReplayQuery>;

/** POST /tickets: a one-time credential for one WebSocket or SSE replay open, instead of the token in a URL. */
export const Ticket = z.object({ ticket: z.string(), expires_in: z.number().int() });

export const ReplaySessionParams = RunId.extend({ session: z.string().regex(/^[0-9a-f-]{36}$/, 'expected a replay session id (a UUID)') });

/** POST /backtests/{id}/events/{session}/ctrl: the command was handed to the session (answers arrive on the stream). */
export const ReplayCtrlAccepted = z.object({ session_id: z.string() });

/** A Server-Sent Events stream (documented as text; the route writes the stream itself). */
export const SseStream = z.string();

/** PUT /backtests/{id}/artifacts (a `btnb worker`'s upload): stored, or already there (a second delivery). */
export const UploadAccepted = z.object({ run_id: z.string(), stored: z.boolean(), bytes: z.number().int() });
