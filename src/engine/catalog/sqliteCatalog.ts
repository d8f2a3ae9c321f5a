/**
 * The SQLite adapter of CatalogPort (better-sqlite3): WAL, busy_timeout 5000 ms, foreign keys
 * on, schema by versioned migrations, and every write in an IMMEDIATE transaction — it takes
 * the write lock up front, so concurrent writers (CLI + extension + sweep workers) wait on the
 * busy timeout instead of failing with SQLITE_BUSY on a read→write upgrade.
 */
import { currentOwner, ownerAlive, parseOwner, type Owner } from './owner.ts';
import { writePoint } from '../io/crashPoints.ts';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  CatalogPort,
  CreateRunInput,
  DatasetDerived,
  DatasetInput,
  DatasetRow,
  DatasetStatus,
  Metrics,
  OpenQueuedRun,
  QueuedRun,
  QueueRunInput,
  RecordedRun,
  SettleQueuedRun,
  RecordRunInput,
  RunFilter,
  RunRow,
  RunStatus,
} from '../ports/catalog.ts';
import { migrate } from './migrations.ts';
import { ALLOWED_FROM, CatalogRefusal, checkIso, checkMetrics, json, normalizeTags, toRun, type Raw } from './rows.ts';
import { enableWal } from './wal.ts';
import { findDatasetRows, getDatasetRow, listDatasetRows, upsertDatasetRow } from './datasetRows.ts';
import { findRunsByInputHash as findLightRuns, recordRuns as recordLightRuns } from './lightRuns.ts';
import { buildRunQuery } from './runQuery.ts';
import { newUlid } from './ulid.ts';
import { openQueuedRuns, queueRuns, settleQueuedRuns, startQueuedRuns } from './queuedRuns.ts';

export interface OpenCatalogOptions {
  /** Clock for created_at/updated_at/started_at/finished_at (default: wall clock, ISO UTC). */
  now?: () => string;
  /** run_id generator (default: ULID). */
  newRunId?: () => string;
  /** Busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
}

export class SqliteCatalog implements CatalogPort {
  readonly path: string;
  readonly db: Database.Database;
  readonly schemaVersion: number;
  #now: () => string;
  #newRunId: () => string;
  #stmts = new Map<string, Database.Statement>();

  constructor(path: string, opts: OpenCatalogOptions = {}) {
    this.path = path;
    this.#now = opts.now ?? (() => new Date().toISOString());
    this.#newRunId = opts.newRunId ?? newUlid;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (err) {
      throw new Error(`${path}: cannot open the catalog: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
      enableWal(this.db, opts.busyTimeoutMs ?? 5000);
      this.db.pragma('synchronous = NORMAL'); // durable at checkpoints; WAL keeps it consistent
      this.db.pragma('foreign_keys = ON');
      this.schemaVersion = migrate(this.db, path);
    } catch (err) {
      this.db.close();
      const msg = (err as Error).message;
      throw new Error(msg.startsWith(path) ? msg : `${path}: ${msg}`, { cause: err });
    }
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Runs fn in an IMMEDIATE transaction; errors name the catalog file and the operation. */
  #write<T>(what: string, fn: () => T): T {
    writePoint(`catalog ${what}`);
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e instanceof CatalogRefusal) throw new Error(`${this.path}: ${what}: ${e.message}`, { cause: err });
      const wrapped = new Error(`${this.path}: ${what} failed: ${e.message}`, { cause: err }) as Error & { code?: string };
      if (e.code) wrapped.code = e.code;
      throw wrapped;
    }
  }

  // ---- datasets -------------------------------------------------------------------------

  upsertDataset(row: DatasetInput): DatasetRow {
    if (!/^ds_[0-9a-f]{16}$/.test(row.dataset_id))
      throw new Error(`catalog: dataset_id '${row.dataset_id}' is not ds_ + 16 lowercase hex digits (docs/bars.md)`);
    checkIso('start', row.start);
    checkIso('end', row.end);
    const now = this.#now();
    return this.#write(`upsert dataset ${row.dataset_id}`, () => {
      upsertDatasetRow((q) => this.#stmt(q), now, row);
      return this.getDataset(row.dataset_id)!;
    });
  }

  setDatasetStatus(id: string, status: DatasetStatus, error: string | null = null): void {
    this.#write(`set status of dataset ${id}`, () => {
      const r = this.#stmt('UPDATE datasets SET status = ?, error = ?, owner = ?, updated_at = ? WHERE dataset_id = ?').run(
        status,
        error,
        status === 'deriving' ? JSON.stringify(currentOwner()) : null,
        this.#now(),
        id,
      );
      if (r.changes === 0) throw new CatalogRefusal(`dataset ${id} not found`);
    });
  }

  setDatasetDerived(id: string, d: DatasetDerived): DatasetRow {
    checkIso('start', d.start);
    checkIso('end', d.end);
    if (!Number.isInteger(d.bar_count) || d.bar_count < 0)
      throw new Error(`catalog: bar_count ${d.bar_count} is not a non-negative integer`);
    return this.#write(`record derived bars of dataset ${id}`, () => {
      const r = this.#stmt(
        `UPDATE datasets SET bar_count = ?, range_start = ?, range_end = ?, bars_path = ?, manifest = ?,
        status = 'ready', error = NULL, updated_at = ? WHERE dataset_id = ?`,
      ).run(d.bar_count, d.start, d.end, d.bars_path, JSON.stringify(d.manifest), this.#now(), id);
      if (r.changes === 0) throw new CatalogRefusal(`dataset ${id} not found`);
      return this.getDataset(id)!;
    });
  }

  getDataset(id: string): DatasetRow | null {
    return getDatasetRow((q) => this.#stmt(q), id);
  }

  listDatasets(): DatasetRow[] {
    // Two queries for the whole list (not one sources query per dataset): the Runs tree lists
    // datasets on every catalog change.
    return listDatasetRows((q) => this.#stmt(q));
  }

  findDatasetsBySource(sha256: string): DatasetRow[] {
    return findDatasetRows((q) => this.#stmt(q), sha256);
  }

  deleteDataset(id: string): boolean {
    return this.#write(`delete dataset ${id}`, () => {
      const { n } = this.#stmt('SELECT count(*) AS n FROM runs WHERE dataset_id = ?').get(id) as { n: number };
      if (n > 0) throw new CatalogRefusal(`dataset ${id} is used by ${n} run(s); delete those runs first`);
      return this.#stmt('DELETE FROM datasets WHERE dataset_id = ?').run(id).changes > 0;
    });
  }

  // ---- runs -----------------------------------------------------------------------------

  createRun(input: CreateRunInput): { run: RunRow; created: boolean } {
    if (!/^[0-9a-f]{64}$/.test(input.input_hash))
      throw new Error(`catalog: input_hash '${input.input_hash}' is not 64 lowercase hex digits (SHA-256)`);
    if (!Number.isSafeInteger(input.seed)) throw new Error(`catalog: seed ${input.seed} is not a safe integer`);
    const tags = normalizeTags(input.tags ?? []);
    return this.#write(`create run for ${input.strategy_id} on ${input.dataset_id}`, () => {
      if (!input.force) {
        const existing = this.#stmt(
          `SELECT * FROM runs WHERE input_hash = ? AND status IN ('queued', 'running', 'succeeded')
          ORDER BY run_id DESC LIMIT 1`,
        ).get(input.input_hash) as Raw | undefined;
        // an identical run whose process died is not this request's run: it is settled, and a new one made
        const owner = existing && existing.status !== 'succeeded' ? parseOwner(existing.owner as string | null) : null;
        if (existing && owner && !ownerAlive(owner)) this.#abandonRun(existing.run_id as string, existing.status as RunStatus, owner);
        else if (existing) return { run: toRun(existing), created: false };
      }
      const ds = this.#stmt('SELECT symbol FROM datasets WHERE dataset_id = ?').get(input.dataset_id) as { symbol: string } | undefined;
      if (!ds) throw new CatalogRefusal(`dataset ${input.dataset_id} is not in the catalog`);
      const runId = input.run_id ?? this.#newRunId();
      this.#stmt(
        `INSERT INTO runs (run_id, input_hash, status, dataset_id, symbol, strategy_id, params, seed, costs, session,
        code_hash, engine_version, artifacts_dir, tags, notes, created_at, sweep_id, owner)
        VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        runId,
        input.input_hash,
        input.dataset_id,
        input.symbol ?? ds.symbol,
        input.strategy_id,
        JSON.stringify(input.params),
        input.seed,
        JSON.stringify(input.costs),
        input.session,
        input.code_hash,
        input.engine_version,
        input.artifacts_dir === undefined ? `backtests/${runId}` : input.artifacts_dir,
        JSON.stringify(tags),
        input.notes ?? '',
        this.#now(),
        input.sweep_id ?? null,
        JSON.stringify(currentOwner()),
      );
      return { run: this.getRun(runId)!, created: true };
    });
  }

  #transition(id: string, to: RunStatus, sets: string, params: unknown[]): RunRow {
    return this.#write(`mark run ${id} ${to}`, () => {
      const cur = this.#stmt('SELECT status FROM runs WHERE run_id = ?').get(id) as { status: RunStatus } | undefined;
      if (!cur) throw new CatalogRefusal(`run ${id} not found`);
      const allowed = ALLOWED_FROM[to];
      if (!allowed.includes(cur.status)) {
        throw new CatalogRefusal(`run ${id} is ${cur.status}; it can become ${to} only from ${allowed.join(' or ')}`);
      }
      this.#stmt(`UPDATE runs SET status = ?, ${sets} WHERE run_id = ?`).run(to, ...params, id);
      return this.getRun(id)!;
    });
  }

  markRunning(id: string, startedAt?: string): RunRow {
    checkIso('started_at', startedAt);
    return this.#transition(id, 'running', 'started_at = ?, owner = ?', [startedAt ?? this.#now(), JSON.stringify(currentOwner())]);
  }

  markSucceeded(id: string, metrics: Metrics, finishedAt?: string): RunRow {
    checkIso('finished_at', finishedAt);
    checkMetrics(metrics);
    const num = (k: string) => (typeof metrics[k] === 'number' ? metrics[k] : null);
    return this.#transition(
      id,
      'succeeded',
      'metrics = ?, total_return = ?, sharpe = ?, max_drawdown = ?, num_trades = ?, final_equity = ?, error = NULL, finished_at = ?, owner = NULL',
      [
        JSON.stringify(metrics),
        num('total_return'),
        num('sharpe'),
        num('max_drawdown'),
        num('num_trades') === null ? null : Math.round(num('num_trades')!),
        num('final_equity'),
        finishedAt ?? this.#now(),
      ],
    );
  }

  markFailed(id: string, error: string, finishedAt?: string): RunRow {
    checkIso('finished_at', finishedAt);
    return this.#transition(id, 'failed', 'error = ?, finished_at = ?, owner = NULL', [error, finishedAt ?? this.#now()]);
  }

  markCanceled(id: string, finishedAt?: string): RunRow {
    checkIso('finished_at', finishedAt);
    return this.#transition(id, 'canceled', 'finished_at = ?, owner = NULL', [finishedAt ?? this.#now()]);
  }

  recordRuns(rows: readonly RecordRunInput[]): RecordedRun[] {
    for (const r of rows) {
      if (!/^[0-9a-f]{64}$/.test(r.input_hash))
        throw new Error(`catalog: input_hash '${r.input_hash}' is not 64 lowercase hex digits (SHA-256)`);
      checkIso('started_at', r.started_at);
      checkIso('finished_at', r.finished_at);
      if (r.metrics) checkMetrics(r.metrics);
    }
    if (rows.length === 0) return [];
    return this.#write(`record ${rows.length} sweep point(s)`, () => recordLightRuns((q) => this.#stmt(q), this.#now(), rows));
  }

  findRunsByInputHash(hashes: readonly string[]): Map<string, RunRow> {
    return findLightRuns((q) => this.#stmt(q), hashes);
  }

  tagRuns(ids: readonly string[], tag: string): void {
    const [t] = normalizeTags([tag]);
    if (ids.length === 0) return;
    this.#write(`tag ${ids.length} run(s) ${t!}`, () => {
      const get = this.#stmt('SELECT tags FROM runs WHERE run_id = ?');
      const set = this.#stmt('UPDATE runs SET tags = ? WHERE run_id = ?');
      for (const id of ids) {
        const r = get.get(id) as { tags: string } | undefined;
        if (!r) continue;
        const tags = json<string[]>(r.tags, []);
        if (!tags.includes(t!)) set.run(JSON.stringify([...tags, t!]), id);
      }
    });
  }

  markMaterialized(id: string): RunRow {
    return this.#write(`mark run ${id} materialized`, () => {
      const cur = this.#stmt('SELECT status FROM runs WHERE run_id = ?').get(id) as { status: RunStatus } | undefined;
      if (!cur) throw new CatalogRefusal(`run ${id} not found`);
      if (cur.status !== 'succeeded') throw new CatalogRefusal(`run ${id} is ${cur.status}; only a succeeded run has artifacts`);
      this.#stmt('UPDATE runs SET materialized = 1 WHERE run_id = ?').run(id);
      return this.getRun(id)!;
    });
  }

  getRunManifest(id: string): Record<string, unknown> | null {
    const r = this.#stmt('SELECT manifest FROM runs WHERE run_id = ?').get(id) as { manifest: string | null } | undefined;
    return r ? json<Record<string, unknown> | null>(r.manifest, null) : null;
  }

  queueRuns(rows: readonly QueueRunInput[]): QueuedRun[] {
    for (const r of rows)
      if (!/^[0-9a-f]{64}$/.test(r.input_hash))
        throw new Error(`catalog: input_hash '${r.input_hash}' is not 64 lowercase hex digits (SHA-256)`);
    if (rows.length === 0) return [];
    return this.#write(`queue ${rows.length} run(s)`, () =>
      queueRuns(
        (q) => this.#stmt(q),
        this.#now(),
        rows,
        (had, add) => normalizeTags([...had, ...add]),
      ),
    );
  }

  startQueuedRuns(ids: readonly string[], startedAt?: string): number {
    checkIso('started_at', startedAt);
    if (ids.length === 0) return 0;
    return this.#write(`start ${ids.length} queued run(s)`, () => startQueuedRuns((q) => this.#stmt(q), ids, startedAt ?? this.#now()));
  }

  settleQueuedRuns(rows: readonly SettleQueuedRun[]): boolean[] {
    for (const r of rows) {
      checkIso('started_at', r.started_at);
      checkIso('finished_at', r.finished_at);
      if (r.metrics) checkMetrics(r.metrics);
    }
    if (rows.length === 0) return [];
    return this.#write(`settle ${rows.length} queued run(s)`, () => settleQueuedRuns((q) => this.#stmt(q), rows));
  }

  openQueuedRuns(sweepId?: string): OpenQueuedRun[] {
    return openQueuedRuns((q) => this.#stmt(q), sweepId);
  }

  #abandonRun(id: string, was: RunStatus, o: Owner): void {
    this.#stmt(`UPDATE runs SET status = 'failed', error = ?, finished_at = ?, owner = NULL WHERE run_id = ?`).run(
      `abandoned: the process that ${was === 'queued' ? 'queued' : 'ran'} it (pid ${o.pid} on ${o.host}) ended before it finished`,
      this.#now(),
      id,
    );
  }

  /**
   * Settles the rows whose owning process is gone (killed, crashed): queued/running runs become
   * failed saying so; a deriving dataset goes back to ready (its previous bars are intact: bars
   * are written whole or not at all) or becomes failed. Returns what it settled.
   */
  recoverAbandoned(): { runs: string[]; datasets: string[] } {
    const runs = this.#stmt(`SELECT run_id, status, owner FROM runs WHERE status IN ('queued', 'running') AND owner IS NOT NULL`).all() as {
      run_id: string;
      status: RunStatus;
      owner: string;
    }[];
    const deadRuns = runs.filter((r) => {
      const o = parseOwner(r.owner);
      return o !== null && !ownerAlive(o);
    });
    const ds = this.#stmt(`SELECT dataset_id, bars_path, owner FROM datasets WHERE status = 'deriving' AND owner IS NOT NULL`).all() as {
      dataset_id: string;
      bars_path: string | null;
      owner: string;
    }[];
    const deadDs = ds.filter((d) => {
      const o = parseOwner(d.owner);
      return o !== null && !ownerAlive(o);
    });
    if (deadRuns.length === 0 && deadDs.length === 0) return { runs: [], datasets: [] };
    return this.#write('settle abandoned runs and derives', () => {
      const settledRuns: string[] = [];
      for (const r of deadRuns) {
        // re-read inside the write lock: another process may have settled it meanwhile
        const cur = this.#stmt('SELECT status, owner FROM runs WHERE run_id = ?').get(r.run_id) as
          { status: RunStatus; owner: string | null } | undefined;
        if (!cur || (cur.status !== 'queued' && cur.status !== 'running') || cur.owner !== r.owner) continue;
        this.#abandonRun(r.run_id, cur.status, parseOwner(r.owner)!);
        settledRuns.push(r.run_id);
      }
      const settledDs: string[] = [];
      for (const d of deadDs) {
        const o = parseOwner(d.owner)!;
        const r = this.#stmt(
          `UPDATE datasets SET status = ?, error = ?, owner = NULL, updated_at = ? WHERE dataset_id = ? AND status = 'deriving' AND owner = ?`,
        ).run(
          d.bars_path ? 'ready' : 'failed',
          `abandoned: the derive process (pid ${o.pid} on ${o.host}) ended before it finished${d.bars_path ? '; the previous bars are kept' : ''}`,
          this.#now(),
          d.dataset_id,
          d.owner,
        );
        if (r.changes > 0) settledDs.push(d.dataset_id);
      }
      return { runs: settledRuns, datasets: settledDs };
    });
  }

  getRun(id: string): RunRow | null {
    const r = this.#stmt('SELECT * FROM runs WHERE run_id = ?').get(id) as Raw | undefined;
    return r ? toRun(r) : null;
  }

  listRuns(filter: RunFilter = {}): RunRow[] {
    const q = buildRunQuery(filter);
    const rows = this.#stmt(`SELECT r.* FROM runs r ${q.where} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?`).all(
      ...q.params,
      q.limit,
      q.offset,
    ) as Raw[];
    return rows.map(toRun);
  }

  countRuns(filter: RunFilter = {}): number {
    const q = buildRunQuery(filter);
    return (this.#stmt(`SELECT count(*) AS n FROM runs r ${q.where}`).get(...q.params) as { n: number }).n;
  }

  runFacets(): { strategies: string[]; total: number } {
    const strategies = (this.#stmt('SELECT DISTINCT strategy_id FROM runs ORDER BY strategy_id').all() as { strategy_id: string }[]).map(
      (r) => r.strategy_id,
    );
    const { n } = this.#stmt('SELECT count(*) AS n FROM runs').get() as { n: number };
    return { strategies, total: n };
  }

  searchRuns(text: string, limit?: number): RunRow[] {
    return this.listRuns({ search: text, limit });
  }

  #updateRun(id: string, what: string, sql: string, ...params: unknown[]): RunRow {
    return this.#write(what, () => {
      if (this.#stmt(`UPDATE runs SET ${sql} WHERE run_id = ?`).run(...params, id).changes === 0)
        throw new CatalogRefusal(`run ${id} not found`);
      return this.getRun(id)!;
    });
  }

  setTags(id: string, tags: string[]): RunRow {
    return this.#updateRun(id, `set tags of run ${id}`, 'tags = ?', JSON.stringify(normalizeTags(tags)));
  }

  addTag(id: string, tag: string): RunRow {
    const [t] = normalizeTags([tag]);
    return this.#write(`tag run ${id}`, () => {
      const run = this.getRun(id);
      if (!run) throw new CatalogRefusal(`run ${id} not found`);
      return run.tags.includes(t!) ? run : this.setTags(id, [...run.tags, t!]);
    });
  }

  removeTag(id: string, tag: string): RunRow {
    return this.#write(`untag run ${id}`, () => {
      const run = this.getRun(id);
      if (!run) throw new CatalogRefusal(`run ${id} not found`);
      return this.setTags(
        id,
        run.tags.filter((t) => t !== tag.trim()),
      );
    });
  }

  setNotes(id: string, notes: string): RunRow {
    return this.#updateRun(id, `set notes of run ${id}`, 'notes = ?', notes);
  }

  deleteRun(id: string): boolean {
    return this.#write(`delete run ${id}`, () => this.#stmt('DELETE FROM runs WHERE run_id = ?').run(id).changes > 0);
  }

  // ---- watching -------------------------------------------------------------------------

  changeCounter(): number {
    return (this.#stmt('SELECT counter FROM catalog_changes WHERE id = 1').get() as { counter: number }).counter;
  }

  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Opens (creating and migrating as needed) the catalog at `path`. */
export function openCatalog(path: string, opts?: OpenCatalogOptions): SqliteCatalog {
  return new SqliteCatalog(path, opts);
}
