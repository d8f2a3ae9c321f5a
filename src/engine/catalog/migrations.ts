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

export const MIGRATIONS: readonly MigrationStep[] = [
  { version: 1, name: 'schema', up: (db) => db.exec(loadSchemaSql()) },
];

export const CATALOG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every pending step; returns the resulting user_version. */
export function migrate(db: Database.Database, file: string): number {
  const current = userVersion(db);
  if (current > CATALOG_SCHEMA_VERSION) {
    throw new Error(`${file}: catalog schema version ${current} is newer than this btnb supports (${CATALOG_SCHEMA_VERSION}); upgrade btnb`);
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
