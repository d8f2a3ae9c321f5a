/**
 * The catalog port (docs/catalog.md): datasets and backtest runs. The SQLite adapter
 * (sqliteCatalog.ts) implements it; everything else depends only on this file.
 *
 * Rows use the column names of schema.sql (snake_case), so `--json` output and SQL agree.
 * Timestamps are UTC: ISO-8601 strings with 'Z', or bigint nanoseconds for *_ts_recv / meta_*.
 * JSON columns arrive parsed.
 */

export type DatasetStatus = 'imported' | 'deriving' | 'ready' | 'failed';
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'canceled'];

export interface DatasetSourceRow {
  sha256: string;
  /** Raw cache path, relative to the data dir. */
  path: string;
  original_name: string | null;
  schema: string;
  dbn_version: number;
  bytes: number;
  /** Records of this dataset's symbol in the file. */
  records: number;
  first_ts_recv: bigint | null;
  last_ts_recv: bigint | null;
  meta_start: bigint | null;
  meta_end: bigint | null;
}

export interface DatasetRow {
  dataset_id: string;
  symbol: string;
  databento_dataset: string | null;
  schemas: string[];
  /** ISO UTC; the first bar ts once derived. */
  start: string | null;
  /** ISO UTC, exclusive. */
  end: string | null;
  bar_count: number | null;
  /** bars-1m.parquet, relative to the data dir. */
  bars_path: string | null;
  manifest: Record<string, unknown> | null;
  derive_version: number;
  status: DatasetStatus;
  error: string | null;
  created_at: string;
  updated_at: string;
  sources: DatasetSourceRow[];
}

/** upsertDataset input: created_at/updated_at are set by the catalog. */
export type DatasetInput = Omit<
  DatasetRow,
  | 'created_at'
  | 'updated_at'
  | 'sources'
  | 'start'
  | 'end'
  | 'bar_count'
  | 'bars_path'
  | 'manifest'
  | 'status'
  | 'error'
  | 'databento_dataset'
> & {
  databento_dataset?: string | null;
  start?: string | null;
  end?: string | null;
  bar_count?: number | null;
  bars_path?: string | null;
  manifest?: Record<string, unknown> | null;
  status?: DatasetStatus;
  error?: string | null;
  /** When given, replaces the dataset's sources in the same transaction. */
  sources?: DatasetSourceRow[];
};

/** What derive records on the dataset row. */
export interface DatasetDerived {
  bar_count: number;
  start: string | null;
  end: string | null;
  bars_path: string;
  manifest: Record<string, unknown>;
}

export type Metrics = Record<string, number | null>;

export interface RunRow {
  run_id: string;
  input_hash: string;
  status: RunStatus;
  dataset_id: string;
  symbol: string | null;
  strategy_id: string;
  params: Record<string, unknown>;
  seed: number;
  costs: Record<string, unknown>;
  session: string;
  code_hash: string;
  engine_version: string;
  /** Relative to the data dir (e.g. backtests/<run_id>). */
  artifacts_dir: string | null;
  /**
   * False for a light sweep point: recorded (metrics, manifest) without artifacts, which
   * materialize.ts re-creates on demand by re-running it (same bytes as a direct run).
   */
  materialized: boolean;
  metrics: Metrics | null;
  error: string | null;
  tags: string[];
  notes: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  sweep_id: string | null;
}

export interface CreateRunInput {
  /** Defaults to a fresh ULID. */
  run_id?: string;
  input_hash: string;
  dataset_id: string;
  /** Defaults to the dataset's symbol. */
  symbol?: string | null;
  strategy_id: string;
  params: Record<string, unknown>;
  seed: number;
  costs: Record<string, unknown>;
  session: string;
  code_hash: string;
  engine_version: string;
  /** Defaults to `backtests/<run_id>`. */
  artifacts_dir?: string | null;
  tags?: string[];
  notes?: string;
  sweep_id?: string | null;
  /** Make a new run even when one with this input_hash is queued, running or succeeded. */
  force?: boolean;
}

/** A finished sweep point recorded without artifacts (recordRuns: many per transaction). */
export interface RecordRunInput {
  run_id: string;
  input_hash: string;
  dataset_id: string;
  strategy_id: string;
  params: Record<string, unknown>;
  seed: number;
  costs: Record<string, unknown>;
  session: string;
  code_hash: string;
  engine_version: string;
  sweep_id: string | null;
  tags: string[];
  status: 'succeeded' | 'failed';
  metrics: Metrics | null;
  error: string | null;
  started_at: string;
  finished_at: string;
  /** The run-manifest.json its artifacts get when materialized. */
  manifest: Record<string, unknown>;
  /** Record it even when a run with this input_hash is queued, running or succeeded. */
  force?: boolean;
}

/** What recordRuns did with one input: recorded it, or found an identical run (tagged with the input's tags). */
export interface RecordedRun {
  run_id: string;
  status: RunStatus;
  created: boolean;
  metrics: Metrics | null;
  error: string | null;
}

/** Metric columns that are indexed-friendly real columns; other keys filter through JSON. */
export const EXTRACTED_METRICS = ['total_return', 'sharpe', 'max_drawdown', 'num_trades', 'final_equity'] as const;

export interface MetricRange {
  /** A metrics.json key (docs/backtest.md), e.g. 'sharpe'. */
  key: string;
  min?: number;
  max?: number;
}

export interface RunFilter {
  status?: RunStatus | RunStatus[];
  strategy?: string;
  datasetId?: string;
  /** Runs of a sweep or walk-forward: its own (sweep_id) and the earlier identical runs it reused (tagged `sweep:<id>`). */
  sweepId?: string;
  /** Full-text over strategy, symbol, tags and notes; every word must match (prefixes match). */
  search?: string;
  metrics?: MetricRange[];
  /**
   * Default newest first (run_id DESC). Or a column — 'created' (= run_id), 'strategy',
   * 'symbol', 'status', 'params' (their JSON text), 'duration' (finished − started) — or a
   * metrics.json key; descending unless `order: 'asc'`, nulls last either way.
   */
  sortBy?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** A distributed sweep's point as queued (catalog/queuedRuns.ts): unowned, its liveness the queue's. */
export type QueueRunInput = Omit<RecordRunInput, 'status' | 'metrics' | 'error' | 'started_at' | 'finished_at' | 'manifest' | 'force'>;

/** What queueRuns did with one input: a new queued row, or the identical run that already was (tagged). */
export interface QueuedRun {
  run_id: string;
  status: RunStatus;
  created: boolean;
}

export interface SettleQueuedRun {
  run_id: string;
  status: 'succeeded' | 'failed' | 'canceled';
  metrics: Metrics | null;
  error: string | null;
  started_at: string | null;
  finished_at: string;
  /** The run-manifest.json of a light point (its files are made on demand); null when its files were uploaded. */
  manifest: Record<string, unknown> | null;
  materialized: boolean;
}

export interface OpenQueuedRun {
  run_id: string;
  input_hash: string;
  status: 'queued' | 'running';
  sweep_id: string | null;
}

export interface CatalogPort {
  readonly path: string;
  // datasets
  upsertDataset(row: DatasetInput): DatasetRow;
  setDatasetStatus(id: string, status: DatasetStatus, error?: string | null): void;
  setDatasetDerived(id: string, derived: DatasetDerived): DatasetRow;
  getDataset(id: string): DatasetRow | null;
  listDatasets(): DatasetRow[];
  /** Datasets having a source with this SHA-256 (import idempotency). */
  findDatasetsBySource(sha256: string): DatasetRow[];
  /** Refuses (with the run count) while runs reference the dataset. Returns false if absent. */
  deleteDataset(id: string): boolean;
  // runs
  createRun(row: CreateRunInput): { run: RunRow; created: boolean };
  markRunning(id: string, startedAt?: string): RunRow;
  markSucceeded(id: string, metrics: Metrics, finishedAt?: string): RunRow;
  markFailed(id: string, error: string, finishedAt?: string): RunRow;
  markCanceled(id: string, finishedAt?: string): RunRow;
  /** Finished sweep points, unmaterialized, in one transaction (one fsync for the batch). */
  recordRuns(rows: readonly RecordRunInput[]): RecordedRun[];
  /** The newest queued, running or succeeded run of each input hash that has one. */
  findRunsByInputHash(hashes: readonly string[]): Map<string, RunRow>;
  /** Adds a tag to many runs in one transaction. */
  tagRuns(ids: readonly string[], tag: string): void;
  /** Records that a succeeded run's artifacts are now on disk. */
  markMaterialized(id: string): RunRow;
  /** The run-manifest.json recorded with a light sweep point (null for other runs). */
  getRunManifest(id: string): Record<string, unknown> | null;
  /** A distributed sweep's points: queued, unowned rows (catalog/queuedRuns.ts), identical inputs reused. */
  queueRuns(rows: readonly QueueRunInput[]): QueuedRun[];
  /** Queued → running for unowned runs; others are left alone. */
  startQueuedRuns(ids: readonly string[], startedAt?: string): number;
  /** Settles unowned queued/running runs in one transaction; already settled ones are left (false). */
  settleQueuedRuns(rows: readonly SettleQueuedRun[]): boolean[];
  /** Unowned queued/running runs (open distributed points), optionally of one sweep. */
  openQueuedRuns(sweepId?: string): OpenQueuedRun[];
  /** Settles queued/running runs and deriving datasets whose owning process is gone (killed). */
  recoverAbandoned(): { runs: string[]; datasets: string[] };
  getRun(id: string): RunRow | null;
  listRuns(filter?: RunFilter): RunRow[];
  countRuns(filter?: RunFilter): number;
  searchRuns(text: string, limit?: number): RunRow[];
  /** Distinct strategy ids of all runs (sorted) and the number of runs. */
  runFacets(): { strategies: string[]; total: number };
  setTags(id: string, tags: string[]): RunRow;
  addTag(id: string, tag: string): RunRow;
  removeTag(id: string, tag: string): RunRow;
  setNotes(id: string, notes: string): RunRow;
  deleteRun(id: string): boolean;
  // watching
  /**
   * Monotonic counter bumped (by triggers, inside the writing transaction) on every insert,
   * update and delete of datasets, dataset_sources and runs, from any process or connection.
   * Reading it is one indexed single-row SELECT: a view can poll it every ~250 ms and refresh
   * only when it moved. It also moves for this connection's own writes.
   */
  changeCounter(): number;
  /**
   * SQLite's `PRAGMA data_version` for this connection: changes whenever *another* connection
   * (any process) commits to the file, never for this connection's own writes; no table read.
   * Cheapest "did anyone else write?" check; use changeCounter() when own writes matter too.
   * (A file watcher on catalog.sqlite-wal also works, but fires on checkpoints and misses nothing
   * only with WAL kept on — which openCatalog ensures.)
   */
  dataVersion(): number;
  close(): void;
}
