/**
 * Row shapes and checks shared by the catalog's modules (sqliteCatalog.ts, lightRuns.ts,
 * queuedRuns.ts): SQLite rows to RunRow/DatasetSourceRow, and the checks every write applies
 * (timestamps, tags, metrics, status transitions).
 */
import type Database from 'better-sqlite3';
import type { DatasetSourceRow, Metrics, RunRow, RunStatus } from '../ports/catalog.ts';

/** Prepared statements by SQL text (the catalog's cache: a sweep writes thousands of rows). */
export type Stmt = (sql: string) => Database.Statement;

/** Which status each mark* may leave from (mirrors the runs_status_transition trigger). */
export const ALLOWED_FROM: Record<RunStatus, RunStatus[]> = {
  queued: [],
  running: ['queued'],
  succeeded: ['running'],
  failed: ['queued', 'running'],
  canceled: ['queued', 'running'],
};

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export type Raw = Record<string, unknown>;

/**
 * A refusal decided inside a write transaction (unknown id, transition not allowed, dataset in
 * use): #write reports it as "<file>: <operation>: <reason>", not as "<operation> failed".
 */
export class CatalogRefusal extends Error {}

export function json<T>(text: unknown, fallback: T): T {
  return typeof text === 'string' ? (JSON.parse(text) as T) : fallback;
}

export function nullableBig(v: unknown): bigint | null {
  return v === null || v === undefined ? null : BigInt(v as bigint);
}

export function toRun(r: Raw): RunRow {
  return {
    run_id: r.run_id as string,
    input_hash: r.input_hash as string,
    status: r.status as RunStatus,
    dataset_id: r.dataset_id as string,
    symbol: (r.symbol as string | null) ?? null,
    strategy_id: r.strategy_id as string,
    params: json(r.params, {}),
    seed: r.seed as number,
    costs: json(r.costs, {}),
    session: r.session as string,
    code_hash: r.code_hash as string,
    engine_version: r.engine_version as string,
    artifacts_dir: (r.artifacts_dir as string | null) ?? null,
    materialized: r.materialized !== 0,
    metrics: json<Metrics | null>(r.metrics, null),
    error: (r.error as string | null) ?? null,
    tags: json<string[]>(r.tags, []),
    notes: r.notes as string,
    created_at: r.created_at as string,
    started_at: (r.started_at as string | null) ?? null,
    finished_at: (r.finished_at as string | null) ?? null,
    sweep_id: (r.sweep_id as string | null) ?? null,
  };
}

export function toSource(r: Raw): DatasetSourceRow {
  return {
    sha256: r.sha256 as string,
    path: r.path as string,
    original_name: (r.original_name as string | null) ?? null,
    schema: r.schema as string,
    dbn_version: Number(r.dbn_version),
    bytes: Number(r.bytes),
    records: Number(r.records),
    first_ts_recv: nullableBig(r.first_ts_recv),
    last_ts_recv: nullableBig(r.last_ts_recv),
    meta_start: nullableBig(r.meta_start),
    meta_end: nullableBig(r.meta_end),
  };
}

export function checkIso(field: string, v: string | null | undefined): void {
  if (v !== null && v !== undefined && !ISO_RE.test(v))
    throw new Error(`catalog: ${field} '${v}' is not a UTC ISO-8601 timestamp (YYYY-MM-DDTHH:MM:SS[.fff]Z)`);
}

export function normalizeTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    if (typeof t !== 'string') throw new Error(`catalog: tag ${JSON.stringify(t)} is not a string`);
    const s = t.trim();
    if (s === '') throw new Error('catalog: empty tag');
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

export function checkMetrics(m: Metrics): void {
  for (const [k, v] of Object.entries(m)) {
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw new Error(`catalog: metric '${k}' is ${String(v)}; expected a finite number or null (docs/backtest.md: never NaN or Infinity)`);
    }
  }
}
