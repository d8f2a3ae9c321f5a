/**
 * The run views' protocol (RunsList, RunDetail, Compare, SweepResults ↔ their backend): every
 * request and notification with its schemas. Shared by the extension host, the webviews and
 * (later) `btnb serve`. Series are columns; times are UTC epoch ms (`*_ms`) or ISO UTC strings.
 */
import { z } from 'zod';
import { notification, request } from './ipc.ts';
import { FrameFills, ServerMsg, SeekTarget, Speed } from '../replay/protocol.ts';

export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']);
export const ViewKind = z.enum(['runs', 'run', 'compare', 'sweep']);
export type ViewKind = z.infer<typeof ViewKind>;
const runId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a run id (26-character ULID)');
const nums = z.array(z.number());
const nullableNums = z.array(z.number().nullable());
const metrics = z.record(z.string(), z.number().nullable());

/** What a view was opened on (also the state a restored panel starts from). */
export const ViewArgs = z.discriminatedUnion('view', [
  z.strictObject({ view: z.literal('runs') }),
  z.strictObject({ view: z.literal('run'), runId }),
  z.strictObject({ view: z.literal('compare'), runIds: z.array(runId).min(2).max(8) }),
  z.strictObject({ view: z.literal('sweep'), sweepId: z.string().min(1).max(64) }),
]);
export type ViewArgs = z.infer<typeof ViewArgs>;

// ---- runs list ----------------------------------------------------------------------------

export const SORT_KEYS = [
  'created',
  'strategy',
  'symbol',
  'status',
  'params',
  'duration',
  'total_return',
  'sharpe',
  'max_drawdown',
  'num_trades',
  'final_equity',
] as const;
export const SortKey = z.enum(SORT_KEYS);
export type SortKey = z.infer<typeof SortKey>;

export const RunsQuery = z.strictObject({
  status: z.array(RunStatus).optional(),
  strategy: z.string().max(200).optional(),
  datasetId: z.string().max(64).optional(),
  sweepId: z.string().max(64).optional(),
  search: z.string().max(500).optional(),
  metrics: z
    .array(z.strictObject({ key: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), min: z.number().optional(), max: z.number().optional() }))
    .max(16)
    .optional(),
  sort: z.strictObject({ key: SortKey, dir: z.enum(['asc', 'desc']) }),
  offset: z.number().int().nonnegative(),
  limit: z.number().int().min(1).max(1000),
});
export type RunsQuery = z.infer<typeof RunsQuery>;

export const RunListRow = z.strictObject({
  run_id: z.string(),
  status: RunStatus,
  strategy_id: z.string(),
  symbol: z.string().nullable(),
  dataset_id: z.string(),
  /** The params that differ from the strategy's defaults (all of them when unknown). */
  key_params: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
  sweep_id: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  metrics: metrics.nullable(),
  error: z.string().nullable(),
});
export type RunListRow = z.infer<typeof RunListRow>;

export const RunsPage = z.strictObject({
  total: z.number().int(),
  offset: z.number().int(),
  rows: z.array(RunListRow),
  counter: z.number().int(),
});
export type RunsPage = z.infer<typeof RunsPage>;

export const RunsFacets = z.strictObject({
  strategies: z.array(z.string()),
  datasets: z.array(z.strictObject({ id: z.string(), symbol: z.string() })),
  total: z.number().int(),
});
export type RunsFacets = z.infer<typeof RunsFacets>;

export const RunAction = z.enum(['open', 'rerun', 'delete', 'copyId', 'reveal', 'compare', 'openSweep']);
export type RunAction = z.infer<typeof RunAction>;

// ---- one run ------------------------------------------------------------------------------

export const RunInfo = z.strictObject({
  run_id: z.string(),
  status: RunStatus,
  input_hash: z.string(),
  dataset_id: z.string(),
  symbol: z.string().nullable(),
  strategy_id: z.string(),
  params: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  costs: z.record(z.string(), z.unknown()),
  session: z.string(),
  code_hash: z.string(),
  engine_version: z.string(),
  metrics: metrics.nullable(),
  error: z.string().nullable(),
  tags: z.array(z.string()),
  notes: z.string(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  sweep_id: z.string().nullable(),
});
export type RunInfo = z.infer<typeof RunInfo>;

export const RunDetail = z.strictObject({
  run: RunInfo,
  manifest: z.record(z.string(), z.unknown()).nullable(),
  /** null when the run has no artifacts to show (not succeeded, or deleted files). */
  series: z
    .strictObject({
      bar_count: z.number().int(),
      start_ms: z.number(),
      end_ms: z.number(),
      has_quotes: z.boolean(),
      bars_source: z.enum(['dataset', 'equity']),
      cancel_times_known: z.boolean(),
      fill_count: z.number().int(),
      order_count: z.number().int(),
      trade_count: z.number().int(),
      initial_cash: z.number(),
    })
    .nullable(),
  /** Why there is no series (e.g. "run … is running"), else null. */
  unavailable: z.string().nullable(),
  walk_forward_id: z.string().nullable(),
});
export type RunDetail = z.infer<typeof RunDetail>;

/** A window of the run for charts: ≤ points buckets of [from, to), every fill in it. */
export const SeriesWindow = z.strictObject({
  from: z.number().int(),
  to: z.number().int(),
  bucket: z.number().int(),
  candles: z.strictObject({
    i: nums,
    n: nums,
    ts_ms: nums,
    open: nums,
    high: nums,
    low: nums,
    close: nums,
    volume: nums,
    spread: nullableNums,
  }),
  equity: z.strictObject({ i: nums, ts_ms: nums, equity: nums, drawdown: nums }),
  fills: FrameFills,
  /** Resting limit/stop order levels per bucket (the last one resting in it), null where none. */
  levels: z.strictObject({ i: nums, buy_limit: nullableNums, sell_limit: nullableNums, buy_stop: nullableNums, sell_stop: nullableNums }),
});
export type SeriesWindow = z.infer<typeof SeriesWindow>;

export const TableName = z.enum(['orders', 'fills', 'trades']);
export type TableName = z.infer<typeof TableName>;
export const TablePage = z.strictObject({
  total: z.number().int(),
  offset: z.number().int(),
  columns: z.array(z.string()),
  /** One array per column; `bar` is the bar index a row points the chart at. */
  rows: z.record(z.string(), z.array(z.union([z.number(), z.string(), z.null()]))),
});
export type TablePage = z.infer<typeof TablePage>;

// ---- compare and sweeps -------------------------------------------------------------------

export const CompareData = z.strictObject({
  runs: z.array(z.strictObject({ run: RunInfo, label: z.string() })),
  /** Equity / equity at the common start, from the latest first bar of the runs on. */
  common_start_ms: z.number().nullable(),
  curves: z.array(z.strictObject({ run_id: z.string(), ts_ms: nums, norm: nums, drawdown: nums })),
  /** Manifest fields whose values differ between the runs (dotted paths), values as JSON text. */
  diff: z.array(z.strictObject({ field: z.string(), values: z.array(z.string().nullable()) })),
  missing: z.array(z.strictObject({ run_id: z.string(), reason: z.string() })),
});
export type CompareData = z.infer<typeof CompareData>;

export const SweepData = z.strictObject({
  sweep_id: z.string(),
  kind: z.enum(['grid', 'walk-forward']),
  strategy_id: z.string(),
  symbol: z.string().nullable(),
  dataset_id: z.string(),
  runs: z.array(
    z.strictObject({
      run_id: z.string(),
      status: RunStatus,
      params: z.record(z.string(), z.unknown()),
      metrics: metrics.nullable(),
      tags: z.array(z.string()),
    }),
  ),
  /** Parameters that vary across the runs, with their distinct values (sorted). */
  params: z.array(z.strictObject({ key: z.string(), values: z.array(z.union([z.number(), z.string(), z.boolean()])) })),
  walk_forward: z
    .strictObject({
      folds: z.array(
        z.strictObject({
          fold: z.number().int(),
          run_id: z.string(),
          start_ms: z.number(),
          end_ms: z.number(),
          params: z.record(z.string(), z.unknown()),
          total_return: z.number().nullable(),
        }),
      ),
      equity: z.strictObject({ ts_ms: nums, equity: nums }),
      initial_cash: z.number(),
    })
    .nullable(),
});
export type SweepData = z.infer<typeof SweepData>;

// ---- requests (view → backend) ------------------------------------------------------------

export const Ok = z.strictObject({ ok: z.boolean(), message: z.string().optional() });

export const Requests = {
  runsList: request('runs/list', RunsQuery, RunsPage),
  runsFacets: request('runs/facets', z.strictObject({}), RunsFacets),
  runsAct: request('runs/act', z.strictObject({ action: RunAction, runIds: z.array(runId).min(1).max(1000) }), Ok),
  runGet: request('run/get', z.strictObject({ runId }), RunDetail),
  runSeries: request(
    'run/series',
    z.strictObject({
      runId,
      from: z.number().int().nonnegative(),
      to: z.number().int().positive(),
      points: z.number().int().min(10).max(20_000),
    }),
    SeriesWindow,
  ),
  runTable: request(
    'run/table',
    z.strictObject({
      runId,
      table: TableName,
      offset: z.number().int().nonnegative(),
      limit: z.number().int().min(1).max(2000),
      sort: z.strictObject({ column: z.string().max(32), dir: z.enum(['asc', 'desc']) }).optional(),
    }),
    TablePage,
  ),
  /** Row index (in the table's current order) of the first row at or after a bar. */
  runTableLocate: request(
    'run/table-locate',
    z.strictObject({
      runId,
      table: TableName,
      bar: z.number().int().nonnegative(),
      sort: z.strictObject({ column: z.string().max(32), dir: z.enum(['asc', 'desc']) }).optional(),
    }),
    z.strictObject({ row: z.number().int() }),
  ),
  compareGet: request(
    'compare/get',
    z.strictObject({ runIds: z.array(runId).min(2).max(8), points: z.number().int().min(10).max(20_000) }),
    CompareData,
  ),
  sweepGet: request(
    'sweep/get',
    z.strictObject({ sweepId: z.string().min(1).max(64), points: z.number().int().min(10).max(20_000) }),
    SweepData,
  ),
  /** The view names the session (its messages may arrive before this reply). */
  replayOpen: request(
    'replay/open',
    z.strictObject({
      sessionId: z.string().min(1).max(64),
      runId,
      speed: Speed.optional(),
      from: SeekTarget.optional(),
      historyPoints: z.number().int().min(10).max(20_000).optional(),
    }),
    z.strictObject({ sessionId: z.string() }),
  ),
  replayClose: request('replay/close', z.strictObject({ sessionId: z.string() }), Ok),
  clipboardWrite: request('clipboard/write', z.strictObject({ text: z.string().max(1_000_000) }), Ok),
} as const;

// ---- notifications ------------------------------------------------------------------------

export const Notifications = {
  /** view → backend, first: the view is listening (messages for it were queued until now). */
  ready: notification('ready', z.strictObject({ args: ViewArgs })),
  /** view → backend: a replay control message (checked by the streamer: invalid → `err`). */
  replayCtrl: notification('replay/ctrl', z.strictObject({ sessionId: z.string(), msg: z.unknown() })),
  /** backend → view: a replay message for one of the view's sessions. */
  replayMsg: notification('replay/msg', z.strictObject({ sessionId: z.string(), msg: ServerMsg })),
  /** backend → view: the catalog changed (any process); lists refetch what they show. */
  catalogChanged: notification('catalog/changed', z.strictObject({ counter: z.number().int() })),
  /** backend → view: progress of a running run (its job). */
  runProgress: notification('runs/progress', z.strictObject({ runId: z.string(), phase: z.string(), done: z.number(), total: z.number() })),
  /** backend → view: display settings. */
  settings: notification('settings', z.strictObject({ displayTz: z.string() })),
  /**
   * backend → view: show another view in this page (a browser on `btnb serve`, where opening a
   * run or a comparison replaces the page; VS Code opens panels instead and never sends it).
   */
  navigate: notification('view/navigate', ViewArgs),
} as const;
