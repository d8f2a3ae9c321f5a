// DuckDB as the independent Parquet reader for tests (dev dependency @duckdb/node-api).
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let conn: Promise<DuckDBConnection> | null = null;

export function duck(): Promise<DuckDBConnection> {
  conn ??= DuckDBInstance.create(':memory:', { threads: '1' }).then((i) => i.connect());
  return conn;
}

/** Rows as JSON-friendly objects (BIGINT → string, timestamps → string). */
export async function q(sql: string): Promise<Record<string, unknown>[]> {
  const r = await (await duck()).runAndReadAll(sql);
  return r.getRowObjectsJson();
}

export const lit = (path: string) => `'${path.replaceAll("'", "''")}'`;
