/**
 * Runs whose liveness is a job queue's, not a process's: the points of a distributed sweep
 * (distributed/coordinator.ts). They are rows like any run, but unowned (owner NULL), so
 * recovery never settles them for a dead pid — the coordinator reconciles them with the queue
 * instead. Every write here is idempotent by run status: settling a run that is no longer
 * queued or running (a point delivered twice, a result after a cancel) changes nothing.
 */
import type { Stmt } from './rows.ts';
import { writePoint } from '../io/crashPoints.ts';
import type { OpenQueuedRun, QueuedRun, QueueRunInput, RunStatus, SettleQueuedRun } from '../ports/catalog.ts';

type Json = (v: unknown) => string;
const json: Json = (v) => JSON.stringify(v);

/** Inserts queued, unowned rows; an input whose hash has a queued, running or succeeded run reuses it. */
export function queueRuns(
  stmt: Stmt,
  now: string,
  rows: readonly QueueRunInput[],
  mergeTags: (had: string[], add: string[]) => string[],
): QueuedRun[] {
  writePoint(`catalog queue ${rows.length} run(s)`);
  const existing = stmt(
    `SELECT run_id, status, tags FROM runs WHERE input_hash = ? AND status IN ('queued', 'running', 'succeeded') ORDER BY run_id DESC LIMIT 1`,
  );
  const setTags = stmt('UPDATE runs SET tags = ? WHERE run_id = ?');
  const insert = stmt(
    `INSERT INTO runs (run_id, input_hash, status, dataset_id, symbol, strategy_id, params, seed, costs, session,
    code_hash, engine_version, artifacts_dir, tags, notes, created_at, sweep_id, owner)
    VALUES (?, ?, 'queued', ?, (SELECT symbol FROM datasets WHERE dataset_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, NULL)`,
  );
  return rows.map((r) => {
    const hit = existing.get(r.input_hash) as { run_id: string; status: RunStatus; tags: string } | undefined;
    if (hit) {
      const had = JSON.parse(hit.tags) as string[];
      const merged = mergeTags(had, r.tags);
      if (merged.length !== had.length) setTags.run(json(merged), hit.run_id);
      return { run_id: hit.run_id, status: hit.status, created: false };
    }
    insert.run(
      r.run_id,
      r.input_hash,
      r.dataset_id,
      r.dataset_id,
      r.strategy_id,
      json(r.params),
      r.seed,
      json(r.costs),
      r.session,
      r.code_hash,
      r.engine_version,
      `backtests/${r.run_id}`,
      json(mergeTags([], r.tags)),
      now,
      r.sweep_id,
    );
    return { run_id: r.run_id, status: 'queued', created: true };
  });
}

/** queued → running (owner stays NULL); runs no longer queued are left alone. Returns how many moved. */
export function startQueuedRuns(stmt: Stmt, ids: readonly string[], startedAt: string): number {
  const up = stmt(`UPDATE runs SET status = 'running', started_at = ? WHERE run_id = ? AND status = 'queued' AND owner IS NULL`);
  let n = 0;
  for (const id of ids) n += up.run(startedAt, id).changes;
  return n;
}

/** Settles queued/running unowned runs; one already settled is left as it is (false in the result). */
export function settleQueuedRuns(stmt: Stmt, rows: readonly SettleQueuedRun[]): boolean[] {
  writePoint(`catalog settle ${rows.length} queued run(s)`);
  const cur = stmt('SELECT status, owner FROM runs WHERE run_id = ?');
  // the status trigger allows succeeded only from running: a queued point finishes through running
  const toRunning = stmt(`UPDATE runs SET status = 'running', started_at = COALESCE(?, started_at) WHERE run_id = ?`);
  const finish = stmt(
    `UPDATE runs SET status = ?, metrics = ?, total_return = ?, sharpe = ?, max_drawdown = ?, num_trades = ?, final_equity = ?,
    error = ?, started_at = COALESCE(?, started_at), finished_at = ?, manifest = ?, materialized = ? WHERE run_id = ?`,
  );
  return rows.map((r) => {
    const c = cur.get(r.run_id) as { status: RunStatus; owner: string | null } | undefined;
    if (!c || c.owner !== null || (c.status !== 'queued' && c.status !== 'running')) return false;
    if (c.status === 'queued' && r.status === 'succeeded') toRunning.run(r.started_at, r.run_id);
    const m = r.metrics;
    const num = (k: string) => (m && typeof m[k] === 'number' ? m[k] : null);
    finish.run(
      r.status,
      m ? json(m) : null,
      num('total_return'),
      num('sharpe'),
      num('max_drawdown'),
      num('num_trades') === null ? null : Math.round(num('num_trades')!),
      num('final_equity'),
      r.error,
      r.started_at,
      r.finished_at,
      r.manifest ? json(r.manifest) : null,
      r.materialized ? 1 : 0,
      r.run_id,
    );
    return true;
  });
}

/** Queued or running unowned runs (a distributed sweep's open points), optionally of one sweep. */
export function openQueuedRuns(stmt: Stmt, sweepId?: string): OpenQueuedRun[] {
  return (
    sweepId === undefined
      ? stmt(`SELECT run_id, input_hash, status, sweep_id FROM runs WHERE status IN ('queued', 'running') AND owner IS NULL`).all()
      : stmt(
          `SELECT run_id, input_hash, status, sweep_id FROM runs WHERE status IN ('queued', 'running') AND owner IS NULL AND sweep_id = ?`,
        ).all(sweepId)
  ) as OpenQueuedRun[];
}
