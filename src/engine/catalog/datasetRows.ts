/**
 * Dataset rows: the upsert of a dataset and its sources, and reading datasets back with their
 * sources (one query for the sources of a whole list).
 */
import type { DatasetInput, DatasetRow, DatasetSourceRow, DatasetStatus } from '../ports/catalog.ts';
import { json, toSource, type Raw, type Stmt } from './rows.ts';

function sourcesOf(stmt: Stmt, id: string): DatasetSourceRow[] {
  const rows = stmt('SELECT * FROM dataset_sources WHERE dataset_id = ? ORDER BY first_ts_recv, sha256')
    .safeIntegers(true)
    .all(id) as Raw[];
  return rows.map(toSource);
}

export function toDataset(stmt: Stmt, r: Raw, sources = sourcesOf(stmt, r.dataset_id as string)): DatasetRow {
  return {
    dataset_id: r.dataset_id as string,
    symbol: r.symbol as string,
    databento_dataset: (r.databento_dataset as string | null) ?? null,
    schemas: json<string[]>(r.schemas, []),
    start: (r.range_start as string | null) ?? null,
    end: (r.range_end as string | null) ?? null,
    bar_count: (r.bar_count as number | null) ?? null,
    bars_path: (r.bars_path as string | null) ?? null,
    manifest: json<Record<string, unknown> | null>(r.manifest, null),
    derive_version: r.derive_version as number,
    status: r.status as DatasetStatus,
    error: (r.error as string | null) ?? null,
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
    sources,
  };
}

/** The transaction body of upsertDataset (checked by the caller, inside its write lock). */
export function upsertDatasetRow(stmt: Stmt, now: string, row: DatasetInput): void {
  const cols: Record<string, unknown> = {
    symbol: row.symbol,
    schemas: JSON.stringify(row.schemas),
    derive_version: row.derive_version,
  };
  const optional: [string, unknown][] = [
    ['databento_dataset', row.databento_dataset],
    ['range_start', row.start],
    ['range_end', row.end],
    ['bar_count', row.bar_count],
    ['bars_path', row.bars_path],
    ['manifest', row.manifest === undefined ? undefined : row.manifest === null ? null : JSON.stringify(row.manifest)],
    ['status', row.status],
    ['error', row.error],
  ];
  for (const [k, v] of optional) if (v !== undefined) cols[k] = v;
  const names = Object.keys(cols);
  stmt(
    `INSERT INTO datasets (dataset_id, ${names.join(', ')}, created_at, updated_at)
    VALUES (?, ${names.map(() => '?').join(', ')}, ?, ?)
    ON CONFLICT (dataset_id) DO UPDATE SET ${names.map((n) => `${n} = excluded.${n}`).join(', ')}, updated_at = excluded.updated_at`,
  ).run(row.dataset_id, ...Object.values(cols), now, now);
  if (row.sources !== undefined) {
    stmt('DELETE FROM dataset_sources WHERE dataset_id = ?').run(row.dataset_id);
    const ins = stmt(`INSERT INTO dataset_sources (dataset_id, sha256, path, original_name, schema, dbn_version,
      bytes, records, first_ts_recv, last_ts_recv, meta_start, meta_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const s of row.sources) {
      ins.run(
        row.dataset_id,
        s.sha256,
        s.path,
        s.original_name ?? null,
        s.schema,
        s.dbn_version,
        s.bytes,
        s.records,
        s.first_ts_recv,
        s.last_ts_recv,
        s.meta_start,
        s.meta_end,
      );
    }
  }
}

export function getDatasetRow(stmt: Stmt, id: string): DatasetRow | null {
  const r = stmt('SELECT * FROM datasets WHERE dataset_id = ?').get(id) as Raw | undefined;
  return r ? toDataset(stmt, r) : null;
}

export function listDatasetRows(stmt: Stmt): DatasetRow[] {
  // Two queries for the whole list (not one sources query per dataset): the Runs tree lists
  // datasets on every catalog change.
  const bySet = new Map<string, DatasetSourceRow[]>();
  for (const r of stmt('SELECT * FROM dataset_sources ORDER BY dataset_id, first_ts_recv, sha256').safeIntegers(true).all() as Raw[]) {
    const id = r.dataset_id as string;
    let list = bySet.get(id);
    if (!list) bySet.set(id, (list = []));
    list.push(toSource(r));
  }
  return (stmt('SELECT * FROM datasets ORDER BY symbol, range_start, dataset_id').all() as Raw[]).map((r) =>
    toDataset(stmt, r, bySet.get(r.dataset_id as string) ?? []),
  );
}

export function findDatasetRows(stmt: Stmt, sha256: string): DatasetRow[] {
  return (
    stmt(
      `SELECT d.* FROM datasets d WHERE d.dataset_id IN
    (SELECT dataset_id FROM dataset_sources WHERE sha256 = ?) ORDER BY d.symbol, d.dataset_id`,
    ).all(sha256.toLowerCase()) as Raw[]
  ).map((r) => toDataset(stmt, r));
}
