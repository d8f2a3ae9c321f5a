/** SQL for listing runs: filters, metric ranges, full-text search and ordering, all bound. */
import { EXTRACTED_METRICS, RUN_STATUSES, type RunFilter } from '../ports/catalog.ts';

const METRIC_KEY_RE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * User text → an FTS5 query: each whitespace-separated word becomes a quoted phrase with a
 * prefix star, all ANDed. Quoting makes every character literal ('sma-cross', 'a"b', 'OR'),
 * so no user input is ever an FTS syntax error. Returns null for blank text.
 */
export function ftsQuery(text: string): string | null {
  const words = text.split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replaceAll('"', '""')}"*`).join(' AND ');
}

function metricExpr(key: string): string {
  if (!METRIC_KEY_RE.test(key)) throw new Error(`runs filter: metric key '${key}' is not a metrics.json key (expected [a-z][a-z0-9_]*)`);
  return (EXTRACTED_METRICS as readonly string[]).includes(key) ? `r.${key}` : `json_extract(r.metrics, '$.${key}')`;
}

/** Sort keys that are run columns rather than metrics.json keys (RunFilter.sortBy). */
const COLUMN_SORTS: Record<string, string> = {
  strategy: 'r.strategy_id',
  symbol: 'r.symbol',
  status: 'r.status',
  params: 'r.params',
  duration: 'r.duration_ms',
};

function finite(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`runs filter: ${name} must be a number, got ${String(v)}`);
  return v;
}

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 0) throw new Error(`runs filter: ${name} must be a non-negative integer, got ${v}`);
  return v;
}

export interface BuiltQuery {
  where: string;
  params: unknown[];
  orderBy: string;
  limit: number;
  offset: number;
}

export function buildRunQuery(f: RunFilter = {}): BuiltQuery {
  const conds: string[] = [];
  const params: unknown[] = [];
  if (f.status !== undefined) {
    const list = Array.isArray(f.status) ? f.status : [f.status];
    for (const s of list) {
      if (!RUN_STATUSES.includes(s)) throw new Error(`runs filter: status '${s}' is not one of ${RUN_STATUSES.join(', ')}`);
    }
    if (list.length > 0) {
      conds.push(`r.status IN (${list.map(() => '?').join(', ')})`);
      params.push(...list);
    }
  }
  if (f.strategy !== undefined) {
    conds.push('r.strategy_id = ?');
    params.push(f.strategy);
  }
  if (f.datasetId !== undefined) {
    conds.push('r.dataset_id = ?');
    params.push(f.datasetId);
  }
  if (f.sweepId !== undefined) {
    // a run made by the sweep, or an identical earlier run the sweep reused (tagged sweep:<id> / walk-forward:<id>)
    conds.push(
      "(r.sweep_id = ? OR EXISTS (SELECT 1 FROM json_each(r.tags) WHERE json_each.value IN ('sweep:' || ?, 'walk-forward:' || ?)))",
    );
    params.push(f.sweepId, f.sweepId, f.sweepId);
  }
  if (f.search !== undefined) {
    const q = ftsQuery(f.search);
    if (q !== null) {
      conds.push('r.rowid IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)');
      params.push(q);
    }
  }
  for (const m of f.metrics ?? []) {
    const expr = metricExpr(m.key);
    const min = finite(`${m.key}.min`, m.min);
    const max = finite(`${m.key}.max`, m.max);
    // A range excludes runs whose metric is null (e.g. sharpe undefined, or not finished).
    if (min === undefined && max === undefined) conds.push(`${expr} IS NOT NULL`);
    if (min !== undefined) {
      conds.push(`${expr} >= ?`);
      params.push(min);
    }
    if (max !== undefined) {
      conds.push(`${expr} <= ?`);
      params.push(max);
    }
  }
  const dir = f.order === 'asc' ? 'ASC' : 'DESC';
  let orderBy: string;
  if (f.sortBy === undefined || f.sortBy === 'run_id' || f.sortBy === 'created') orderBy = `r.run_id ${dir}`;
  else {
    const expr = COLUMN_SORTS[f.sortBy] ?? metricExpr(f.sortBy);
    // Nulls last either way. Descending, SQLite already puts them last, and the plain form lets
    // an (expr, run_id) index answer by a backward scan; ascending needs the explicit null key.
    orderBy = dir === 'DESC' ? `${expr} DESC, r.run_id DESC` : `${expr} IS NULL, ${expr} ASC, r.run_id DESC`;
  }
  return {
    where: conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '',
    params,
    orderBy,
    limit: positiveInt('limit', f.limit, -1),
    offset: positiveInt('offset', f.offset, 0),
  };
}
