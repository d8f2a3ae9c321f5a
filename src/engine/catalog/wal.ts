/** The catalog connection's journal mode. */
import type Database from 'better-sqlite3';

/**
 * Switching a fresh file to WAL needs an exclusive lock and SQLite does not run the busy
 * handler for it, so two processes creating the catalog at once can get SQLITE_BUSY here:
 * retry with short sleeps up to the busy timeout. (WAL is persistent: later opens skip this.)
 */
export function enableWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
      if (db.pragma('journal_mode = WAL', { simple: true }) === 'wal') return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
    }
    if (Date.now() >= deadline) throw new Error('cannot switch the catalog to WAL mode (locked by another process)');
    Atomics.wait(sleeper, 0, 0, wait);
  }
}
