/**
 * Light sweep points (sweep/lightPoints.ts): finished points recorded many per transaction with
 * their metrics and manifest, identical inputs found by input_hash, and sweep tags added in bulk.
 */
import type { Metrics, RecordedRun, RecordRunInput, RunRow, RunStatus } from '../ports/catalog.ts';
import { json, normalizeTags, toRun, type Raw, type Stmt } from './rows.ts';

/** The transaction body of recordRuns (the caller checked the rows and holds the write lock). */
export function recordRuns(stmt: Stmt, now: string, rows: readonly RecordRunInput[]): RecordedRun[] {
  const existing = stmt(
    `SELECT run_id, status, metrics, error, tags FROM runs WHERE input_hash = ? AND status IN ('queued', 'running', 'succeeded')
    ORDER BY run_id DESC LIMIT 1`,
  );
  const insert = stmt(
    `INSERT INTO runs (run_id, input_hash, status, dataset_id, symbol, strategy_id, params, seed, costs, session,
    code_hash, engine_version, artifacts_dir, metrics, total_return, sharpe, max_drawdown, num_trades, final_equity,
    error, tags, created_at, started_at, finished_at, sweep_id, materialized, manifest)
    VALUES (?, ?, ?, ?, (SELECT symbol FROM datasets WHERE dataset_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
  );
  return rows.map((r): RecordedRun => {
    const tags = normalizeTags(r.tags);
    // Another process recorded or ran the same input meanwhile: that run is this point's.
    const hit = r.force ? undefined : (existing.get(r.input_hash) as Raw | undefined);
    if (hit) {
      const had = json<string[]>(hit.tags, []);
      const merged = normalizeTags([...had, ...tags]);
      if (merged.length !== had.length) stmt('UPDATE runs SET tags = ? WHERE run_id = ?').run(JSON.stringify(merged), hit.run_id);
      return {
        run_id: hit.run_id as string,
        status: hit.status as RunStatus,
        created: false,
        metrics: json<Metrics | null>(hit.metrics, null),
        error: (hit.error as string | null) ?? null,
      };
    }
    const m = r.metrics;
    const num = (k: string) => (m && typeof m[k] === 'number' ? m[k] : null);
    insert.run(
      r.run_id,
      r.input_hash,
      r.status,
      r.dataset_id,
      r.dataset_id,
      r.strategy_id,
      JSON.stringify(r.params),
      r.seed,
      JSON.stringify(r.costs),
      r.session,
      r.code_hash,
      r.engine_version,
      `backtests/${r.run_id}`,
      m ? JSON.stringify(m) : null,
      num('total_return'),
      num('sharpe'),
      num('max_drawdown'),
      num('num_trades') === null ? null : Math.round(num('num_trades')!),
      num('final_equity'),
      r.error,
      JSON.stringify(tags),
      now,
      r.started_at,
      r.finished_at,
      r.sweep_id,
      JSON.stringify(r.manifest),
    );
    return { run_id: r.run_id, status: r.status, created: true, metrics: m, error: r.error };
  });
}

/** The newest queued, running or succeeded run of each input hash that has one. */
export function findRunsByInputHash(stmt: Stmt, hashes: readonly string[]): Map<string, RunRow> {
  const out = new Map<string, RunRow>();
  const q = stmt(`SELECT * FROM runs WHERE input_hash = ? AND status IN ('queued', 'running', 'succeeded') ORDER BY run_id DESC LIMIT 1`);
  for (const h of new Set(hashes)) {
    const r = q.get(h) as Raw | undefined;
    if (r) out.set(h, toRun(r));
  }
  return out;
}
