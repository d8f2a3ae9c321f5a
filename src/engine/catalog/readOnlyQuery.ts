/**
 * A read-only SQL query over the catalog (notebook `sql` cells, `btnb db query`). The database
 * is opened read-only with `query_only` on, so SQLite itself refuses any write — the SQL is
 * never parsed or filtered here. The first `maxRows` rows are returned; the rest are counted.
 */
import { existsSync } from 'node:fs';

export type QueryCell = number | string | boolean | null;

export interface QueryOutcome {
  columns: string[];
  rows: QueryCell[][];
  /** Rows the statement produced in all. */
  total: number;
}

export class QueryError extends Error {
  override name = 'QueryError';
}

function cell(v: unknown): QueryCell {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return `<blob ${v.byteLength} bytes>`;
  return JSON.stringify(v) ?? typeof v;
}

export async function queryCatalog(catalogPath: string, sql: string, maxRows = 1000): Promise<QueryOutcome> {
  if (!existsSync(catalogPath)) throw new QueryError(`${catalogPath}: no catalog yet (import or synthesize a dataset first)`);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('query_only = ON');
    let stmt;
    try {
      stmt = db.prepare(sql);
    } catch (err) {
      throw new QueryError(`SQL: ${(err as Error).message}`);
    }
    try {
      if (!stmt.reader) {
        stmt.run();
        return { columns: [], rows: [], total: 0 };
      }
      const columns = stmt.columns().map((c) => c.name);
      const rows: QueryCell[][] = [];
      let total = 0;
      for (const raw of stmt.raw(true).iterate() as Iterable<unknown[]>) {
        if (total++ < maxRows) rows.push(raw.map(cell));
      }
      return { columns, rows, total };
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'SQLITE_READONLY' || /readonly|query_only|read-only/i.test(e.message))
        throw new QueryError(
          `the catalog is read-only here: ${e.message}. Notebook queries can read runs and datasets; change runs with the Backtest commands or \`btnb runs\`.`,
        );
      throw new QueryError(`SQL: ${e.message}`);
    }
  } finally {
    db.close();
  }
}
