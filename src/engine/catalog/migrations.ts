/**
 * Versioned migrations by `PRAGMA user_version`: step n brings a catalog from version n−1 to n.
 * Step 1 is the whole schema (schema.sql). Steps run in IMMEDIATE transactions and re-read the
 * version inside them, so two processes opening a fresh file at once migrate it exactly once.
 */
import type Database from 'better-sqlite3';
import { loadSchemaSql } from './schemaSql.ts';

export interface MigrationStep {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/**
 * Version 2 (run views): the runs list sorts by metrics and duration over 100 k runs in a few ms
 * instead of ~30–50 ms of sorting per page. duration_ms is a virtual generated column (computed
 * on read, nothing to backfill); (metric, run_id) indices serve ORDER BY metric DESC, run_id DESC
 * by a backward scan, nulls last as SQLite orders them.
 */
const VIEW_INDICES = `
ALTER TABLE runs ADD COLUMN duration_ms INTEGER
  GENERATED ALWAYS AS (CAST(round((julianday(finished_at) - julianday(started_at)) * 86400000.0) AS INTEGER)) VIRTUAL;
CREATE INDEX runs_by_total_return ON runs (total_return, run_id);
CREATE INDEX runs_by_sharpe ON runs (sharpe, run_id);
CREATE INDEX runs_by_max_drawdown ON runs (max_drawdown, run_id);
CREATE INDEX runs_by_num_trades ON runs (num_trades, run_id);
CREATE INDEX runs_by_final_equity ON runs (final_equity, run_id);
CREATE INDEX runs_by_duration ON runs (duration_ms, run_id);
`;

/**
 * Version 3 (reliability): the process that owns a queued/running run or a deriving dataset
 * (owner.ts: pid, host, start token), so a process killed outright leaves rows the next one can
 * recognise as abandoned and settle. NULL once the row reached a final status.
 */
const OWNERS = `
ALTER TABLE runs ADD COLUMN owner TEXT CHECK (owner IS NULL OR json_valid(owner));
ALTER TABLE datasets ADD COLUMN owner TEXT CHECK (owner IS NULL OR json_valid(owner));
`;

/**
 * Version 4 (light sweep points): a sweep point is recorded with its metrics and manifest but
 * without artifacts (`materialized` 0) until someone opens it; materialize.ts then re-runs it
 * deterministically into backtests/<run_id> and sets 1. Every run made before is materialized.
 */
const LAZY_POINTS = `
ALTER TABLE runs ADD COLUMN materialized INTEGER NOT NULL DEFAULT 1 CHECK (materialized IN (0, 1));
ALTER TABLE runs ADD COLUMN manifest TEXT CHECK (manifest IS NULL OR json_valid(manifest));
`;

export const MIGRATIONS: readonly MigrationStep[] = [
  { version: 1, name: 'schema', up: (db) => db.exec(loadSchemaSql()) },
  { version: 2, name: 'run view indices', up: (db) => db.exec(VIEW_INDICES) },
  { version: 3, name: 'row owners', up: (db) => db.exec(OWNERS) },
  { version: 4, name: 'light sweep points', up: (db) => db.exec(LAZY_POINTS) },
];

export const CATALOG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every pending step; returns the resulting user_version. */
export function migrate(db: Database.Database, file: string): number {
  const current = userVersion(db);
  if (current > CATALOG_SCHEMA_VERSION) {
    throw new Error(
      `${file}: catalog schema version ${current} is newer than this btnb supports (${CATALOG_SCHEMA_VERSION}); upgrade btnb`,
    );
  }
  for (const step of MIGRATIONS) {
    // Up-to-date catalogs (the common case) never take the write lock just to open.
    if (userVersion(db) >= step.version) continue;
    db.transaction(() => {
      const v = userVersion(db);
      if (v >= step.version) return;
      if (v !== step.version - 1) throw new Error(`${file}: catalog at version ${v} cannot take migration ${step.version} (${step.name})`);
      try {
        step.up(db);
      } catch (err) {
        throw new Error(`${file}: migration ${step.version} (${step.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      db.pragma(`user_version = ${step.version}`);
    }).immediate();
  }
  return userVersion(db);
}
