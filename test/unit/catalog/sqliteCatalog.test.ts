import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CreateRunInput, DatasetInput } from '../../../src/engine/ports/catalog.ts';
import { CATALOG_SCHEMA_VERSION } from '../../../src/engine/catalog/migrations.ts';
import { openCatalog, type SqliteCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { ulidFactory } from '../../../src/engine/catalog/ulid.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const DS = 'ds_0123456789abcdef';

function dataset(over: Partial<DatasetInput> = {}): DatasetInput {
  return { dataset_id: DS, symbol: 'ESH4', schemas: ['trades', 'tbbo'], derive_version: 1, databento_dataset: 'GLBX.MDP3', ...over };
}

function runInput(over: Partial<CreateRunInput> = {}): CreateRunInput {
  return {
    input_hash: sha('a'),
    dataset_id: DS,
    strategy_id: 'sma-cross',
    params: { fast: 10, slow: 30 },
    seed: 0,
    costs: { slippage_bps: 1 },
    session: 'all',
    code_hash: sha('code'),
    engine_version: '0.1.0',
    ...over,
  };
}

describe('catalog/sqliteCatalog', () => {
  let dir: string;
  let file: string;
  let cat: SqliteCatalog;
  let clock: number;
  const opts = () => ({
    now: () => new Date(Date.UTC(2024, 0, 2) + clock++ * 1000).toISOString(),
    newRunId: ulidFactory({ now: () => Date.UTC(2024, 0, 2) + clock * 1000, random: (n) => new Uint8Array(n).fill(clock & 0xff) }),
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-cat-'));
    file = join(dir, 'sub', 'catalog.sqlite');
    clock = 0;
    cat = openCatalog(file, opts());
  });
  afterEach(() => {
    cat.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('migrations', () => {
    it('creates the schema in an empty file: WAL, foreign keys, user_version, every table', () => {
      assert.equal(cat.schemaVersion, CATALOG_SCHEMA_VERSION);
      assert.equal(cat.db.pragma('user_version', { simple: true }), CATALOG_SCHEMA_VERSION);
      assert.equal(cat.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(cat.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(cat.db.pragma('busy_timeout', { simple: true }), 5000);
      const names = (
        cat.db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name").all() as { name: string }[]
      ).map((r) => r.name);
      for (const t of ['catalog_changes', 'dataset_sources', 'datasets', 'runs', 'runs_fts'])
        assert.ok(names.includes(t), `${t} in ${names}`);
      assert.equal(cat.changeCounter(), 0);
    });

    it('re-applying is idempotent and keeps the data; a newer schema is refused', () => {
      cat.upsertDataset(dataset());
      const before = cat.changeCounter();
      cat.close();
      cat = openCatalog(file, opts());
      assert.equal(cat.db.pragma('user_version', { simple: true }), CATALOG_SCHEMA_VERSION);
      assert.equal(cat.changeCounter(), before);
      assert.equal(cat.listDatasets().length, 1);
      cat.db.pragma('user_version = 99');
      cat.close();
      assert.throws(
        () => openCatalog(file),
        (e: Error) => e.message.includes(file) && /schema version 99 is newer .* \(4\)/.test(e.message),
      );
      const raw = new Database(file);
      raw.pragma(`user_version = ${CATALOG_SCHEMA_VERSION}`);
      raw.close();
      cat = openCatalog(file, opts());
    });

    it('opening an up-to-date catalog never waits for a writer holding the lock', () => {
      cat.upsertDataset(dataset());
      const writer = new Database(file);
      writer.exec('BEGIN IMMEDIATE');
      writer.prepare("UPDATE datasets SET symbol = 'LOCKED'").run();
      try {
        const reader = openCatalog(file, { busyTimeoutMs: 50 });
        assert.equal(reader.getDataset(DS)!.symbol, 'ESH4', 'reads the last committed state');
        assert.throws(() => reader.setNotes('x', 'y'), /SQLITE_BUSY|database is locked/);
        reader.close();
      } finally {
        writer.exec('COMMIT');
        writer.close();
      }
      assert.equal(cat.getDataset(DS)!.symbol, 'LOCKED');
    });

    it('names the file when it is not a database', () => {
      const bad = join(dir, 'bad.sqlite');
      writeFileSync(bad, 'this is not sqlite, just text padded to look like a file'.repeat(100));
      assert.throws(
        () => openCatalog(bad),
        (e: Error) => e.message.startsWith(bad) && /not a database/.test(e.message),
      );
    });
  });

  describe('datasets', () => {
    const source = {
      sha256: sha('f1'),
      path: `raw/databento/GLBX.MDP3/trades/${sha('f1')}.dbn.zst`,
      original_name: 'trades.dbn.zst',
      schema: 'trades',
      dbn_version: 3,
      bytes: 12345,
      records: 678,
      first_ts_recv: 1704205800000000001n,
      last_ts_recv: 1704229199999999999n,
      meta_start: 1704153600000000000n,
      meta_end: null,
    };

    it('upserts with sources (exact ns integers), keeps created_at and unspecified fields on update', () => {
      const a = cat.upsertDataset(dataset({ sources: [source], start: '2024-01-02T14:30:00.000Z' }));
      assert.equal(a.status, 'imported');
      assert.deepEqual(a.sources, [source]);
      assert.equal(a.start, '2024-01-02T14:30:00.000Z');
      const d = cat.setDatasetDerived(DS, {
        bar_count: 390,
        start: '2024-01-02T14:30:00Z',
        end: '2024-01-02T21:00:00Z',
        bars_path: `derived/bars/${DS}/bars-1m.parquet`,
        manifest: { rows: 390 },
      });
      assert.equal(d.status, 'ready');
      assert.equal(d.bar_count, 390);
      // Re-import: the same dataset again must not wipe what derive recorded.
      const b = cat.upsertDataset(dataset({ schemas: ['trades'] }));
      assert.equal(b.created_at, a.created_at);
      assert.notEqual(b.updated_at, a.updated_at);
      assert.equal(b.bar_count, 390);
      assert.deepEqual(b.manifest, { rows: 390 });
      assert.deepEqual(b.schemas, ['trades']);
      assert.deepEqual(b.sources, [source], 'sources untouched when not given');
      const c = cat.upsertDataset(dataset({ sources: [] }));
      assert.deepEqual(c.sources, []);
    });

    it('lists every dataset with its own sources, ordered by first_ts_recv then sha256, as getDataset does', () => {
      const other = 'ds_fedcba9876543210';
      const late = { ...source, sha256: sha('f2'), path: 'p-late', first_ts_recv: 1704229200000000000n };
      const early = { ...source, sha256: sha('f3'), path: 'p-early', first_ts_recv: 1704200000000000000n };
      cat.upsertDataset(dataset({ sources: [late, source, early] }));
      cat.upsertDataset(dataset({ dataset_id: other, symbol: 'AAPL', sources: [{ ...source, path: 'p2' }] }));
      cat.upsertDataset(dataset({ dataset_id: 'ds_1111111111111111', symbol: 'NQH4' }));
      const listed = cat.listDatasets();
      assert.deepEqual(
        listed.map((d) => [d.symbol, d.sources.map((x) => x.path)]),
        [
          ['AAPL', ['p2']],
          ['ESH4', ['p-early', source.path, 'p-late']],
          ['NQH4', []],
        ],
      );
      for (const d of listed) assert.deepEqual(d, cat.getDataset(d.dataset_id));
    });

    it('lists, finds by source, deletes (cascading sources), refuses bad ids and deletes used by runs', () => {
      const other = 'ds_fedcba9876543210';
      cat.upsertDataset(dataset({ sources: [source] }));
      cat.upsertDataset(dataset({ dataset_id: other, symbol: 'AAPL', sources: [{ ...source, path: 'p2' }] }));
      assert.deepEqual(
        cat.listDatasets().map((d) => d.symbol),
        ['AAPL', 'ESH4'],
      );
      assert.deepEqual(
        cat
          .findDatasetsBySource(source.sha256.toUpperCase())
          .map((d) => d.dataset_id)
          .sort(),
        [DS, other].sort(),
      );
      assert.equal(cat.getDataset('ds_0000000000000000'), null);
      cat.setDatasetStatus(other, 'failed', 'boom');
      assert.equal(cat.getDataset(other)!.error, 'boom');
      assert.equal(cat.deleteDataset(other), true);
      assert.equal(cat.deleteDataset(other), false);
      assert.equal((cat.db.prepare('SELECT count(*) n FROM dataset_sources').get() as { n: number }).n, 1);
      assert.throws(() => cat.upsertDataset(dataset({ dataset_id: 'ds_XYZ' })), /dataset_id 'ds_XYZ' is not ds_ \+ 16 lowercase hex/);
      assert.throws(() => cat.upsertDataset(dataset({ start: '2024-01-02 14:30' })), /start '2024-01-02 14:30' is not a UTC ISO-8601/);
      cat.createRun(runInput());
      assert.throws(
        () => cat.deleteDataset(DS),
        (e: Error) => e.message.includes(file) && /used by 1 run/.test(e.message),
      );
      assert.throws(() => cat.setDatasetStatus('ds_1111111111111111', 'ready'), /dataset ds_1111111111111111 not found/);
    });
  });

  describe('runs', () => {
    beforeEach(() => {
      cat.upsertDataset(dataset());
    });

    it('creates queued runs with defaults (symbol from the dataset, artifacts dir, ULID ids)', () => {
      const { run, created } = cat.createRun(runInput({ tags: ['  a ', 'b', 'a'] }));
      assert.equal(created, true);
      assert.equal(run.status, 'queued');
      assert.equal(run.symbol, 'ESH4');
      assert.match(run.run_id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
      assert.equal(run.artifacts_dir, `backtests/${run.run_id}`);
      assert.deepEqual(run.tags, ['a', 'b']);
      assert.deepEqual(run.params, { fast: 10, slow: 30 });
      assert.equal(run.metrics, null);
      assert.deepEqual(cat.getRun(run.run_id), run);
      assert.throws(() => cat.createRun(runInput({ input_hash: 'abc' })), /input_hash 'abc' is not 64 lowercase hex/);
      assert.throws(
        () => cat.createRun(runInput({ input_hash: sha('z'), dataset_id: 'ds_9999999999999999' })),
        /dataset ds_9999999999999999 is not in the catalog/,
      );
    });

    it('is idempotent on input_hash for queued/running/succeeded, not for failed/canceled, unless forced', () => {
      const first = cat.createRun(runInput()).run;
      const again = cat.createRun(runInput({ params: { different: true } }));
      assert.equal(again.created, false);
      assert.equal(again.run.run_id, first.run_id);
      cat.markRunning(first.run_id);
      assert.equal(cat.createRun(runInput()).run.run_id, first.run_id);
      cat.markSucceeded(first.run_id, { total_return: 0.1 });
      assert.equal(cat.createRun(runInput()).created, false);
      const forced = cat.createRun(runInput({ force: true }));
      assert.equal(forced.created, true);
      assert.notEqual(forced.run.run_id, first.run_id);
      // The newest live match is returned.
      assert.equal(cat.createRun(runInput()).run.run_id, forced.run.run_id);
      const other = cat.createRun(runInput({ input_hash: sha('b') })).run;
      cat.markFailed(other.run_id, 'boom');
      const retry = cat.createRun(runInput({ input_hash: sha('b') }));
      assert.equal(retry.created, true);
      cat.markCanceled(retry.run.run_id);
      assert.equal(cat.createRun(runInput({ input_hash: sha('b') })).created, true);
    });

    it('moves through legal status transitions and rejects illegal ones (adapter and trigger)', () => {
      const id = cat.createRun(runInput()).run.run_id;
      assert.throws(() => cat.markSucceeded(id, {}), new RegExp(`run ${id} is queued; it can become succeeded only from running`));
      const r1 = cat.markRunning(id, '2024-01-02T10:00:00.000Z');
      assert.equal(r1.started_at, '2024-01-02T10:00:00.000Z');
      assert.throws(() => cat.markRunning(id), /is running; it can become running only from queued/);
      const metrics = {
        final_equity: 101234.5,
        total_return: 0.012345,
        sharpe: 1.5,
        max_drawdown: 0.03,
        num_trades: 12,
        win_rate: 0.5,
        cagr: null,
      };
      const r2 = cat.markSucceeded(id, metrics, '2024-01-02T10:00:05.000Z');
      assert.equal(r2.status, 'succeeded');
      assert.deepEqual(r2.metrics, metrics);
      assert.deepEqual(
        cat.db.prepare('SELECT total_return, sharpe, max_drawdown, num_trades, final_equity FROM runs WHERE run_id = ?').get(id),
        { total_return: 0.012345, sharpe: 1.5, max_drawdown: 0.03, num_trades: 12, final_equity: 101234.5 },
      );
      assert.throws(() => cat.markRunning(id), /is succeeded; it can become running only from queued/);
      assert.throws(() => cat.markFailed(id, 'x'), /is succeeded; it can become failed only from queued or running/);
      assert.throws(() => cat.markCanceled(id), /is succeeded/);
      // A writer that bypasses the adapter is stopped by the trigger.
      assert.throws(() => cat.db.prepare("UPDATE runs SET status = 'running' WHERE run_id = ?").run(id), /illegal run status transition/);
      assert.throws(() => cat.markRunning('01ARYZ6S410000000000000000'), /run 01ARYZ6S410000000000000000 not found/);
      const f = cat.createRun(runInput({ input_hash: sha('f') })).run.run_id;
      assert.equal(cat.markFailed(f, 'strategy threw\n  at onBar').error, 'strategy threw\n  at onBar');
      const c = cat.createRun(runInput({ input_hash: sha('c') })).run.run_id;
      cat.markRunning(c);
      assert.ok(cat.markCanceled(c).finished_at);
      const n = cat.createRun(runInput({ input_hash: sha('n') })).run.run_id;
      cat.markRunning(n);
      assert.throws(() => cat.markSucceeded(n, { sharpe: Number.NaN }), /metric 'sharpe' is NaN; expected a finite number or null/);
      assert.equal(cat.getRun(n)!.status, 'running', 'a rejected write changes nothing');
    });

    it('lists by status/strategy/dataset newest first, with limit/offset, metric ranges and metric sorting', () => {
      const other = 'ds_fedcba9876543210';
      cat.upsertDataset(dataset({ dataset_id: other, symbol: 'AAPL' }));
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const id = cat.createRun(
          runInput({ input_hash: sha(`r${i}`), strategy_id: i % 2 ? 'donchian-breakout' : 'sma-cross', dataset_id: i < 5 ? DS : other }),
        ).run.run_id;
        ids.push(id);
        if (i < 8) {
          cat.markRunning(id);
          if (i < 6)
            cat.markSucceeded(id, {
              total_return: (i - 3) / 10,
              sharpe: i === 2 ? null : i * 0.5,
              max_drawdown: 0.01 * i,
              num_trades: i,
              final_equity: 1e5 * (1 + (i - 3) / 10),
              win_rate: i / 10,
            });
        }
      }
      const newestFirst = [...ids].reverse();
      assert.deepEqual(
        cat.listRuns().map((r) => r.run_id),
        newestFirst,
      );
      assert.deepEqual([...ids].sort(), ids, 'ULIDs sort in creation order');
      assert.deepEqual(
        cat.listRuns({ status: 'succeeded' }).map((r) => r.run_id),
        newestFirst.filter((_, k) => 9 - k < 6),
      );
      assert.deepEqual(
        cat.listRuns({ status: ['running', 'queued'] }).map((r) => r.run_id),
        [ids[9], ids[8], ids[7], ids[6]],
      );
      assert.deepEqual(
        cat.listRuns({ strategy: 'donchian-breakout', datasetId: other }).map((r) => r.run_id),
        [ids[9], ids[7], ids[5]],
      );
      assert.deepEqual(
        cat.listRuns({ limit: 3, offset: 2 }).map((r) => r.run_id),
        [ids[7], ids[6], ids[5]],
      );
      assert.equal(cat.countRuns({ datasetId: DS }), 5);
      // total_return = (i-3)/10 for i = 0..5: in [0, 0.15] → i = 3 (0.0) and 4 (0.1)
      assert.deepEqual(
        cat.listRuns({ metrics: [{ key: 'total_return', min: 0, max: 0.15 }] }).map((r) => r.run_id),
        [ids[4], ids[3]],
      );
      // sharpe null (i = 2) and unfinished runs are excluded by any range on sharpe
      assert.deepEqual(
        cat.listRuns({ metrics: [{ key: 'sharpe' }] }).map((r) => r.run_id),
        [ids[5], ids[4], ids[3], ids[1], ids[0]],
      );
      // a key that is not an extracted column filters through the JSON: win_rate ≥ 0.35 → i = 4, 5
      assert.deepEqual(
        cat.listRuns({ metrics: [{ key: 'win_rate', min: 0.35 }] }).map((r) => r.run_id),
        [ids[5], ids[4]],
      );
      assert.deepEqual(
        cat
          .listRuns({
            metrics: [
              { key: 'num_trades', min: 1, max: 4 },
              { key: 'max_drawdown', max: 0.025 },
            ],
          })
          .map((r) => r.run_id),
        [ids[2], ids[1]],
      );
      assert.deepEqual(
        cat.listRuns({ sortBy: 'sharpe', limit: 3 }).map((r) => r.run_id),
        [ids[5], ids[4], ids[3]],
      );
      assert.deepEqual(
        cat.listRuns({ sortBy: 'final_equity', order: 'asc', status: 'succeeded' }).map((r) => r.run_id),
        ids.slice(0, 6),
      );
      assert.throws(() => cat.listRuns({ metrics: [{ key: "x') OR 1=1 --" }] }), /metric key .* is not a metrics.json key/);
      assert.throws(() => cat.listRuns({ status: 'done' as never }), /status 'done' is not one of queued, running/);
      assert.throws(() => cat.listRuns({ limit: -1 }), /limit must be a non-negative integer/);
    });

    it('serves list by status/strategy/dataset from its indices', () => {
      const plan = (sql: string, ...p: unknown[]) =>
        (cat.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...p) as { detail: string }[]).map((r) => r.detail).join(' | ');
      assert.match(plan('SELECT * FROM runs r WHERE r.status IN (?) ORDER BY r.run_id DESC LIMIT 50', 'queued'), /runs_by_status/);
      assert.match(plan('SELECT * FROM runs r WHERE r.strategy_id = ? ORDER BY r.run_id DESC LIMIT 50', 's'), /runs_by_strategy/);
      assert.match(plan('SELECT * FROM runs r WHERE r.dataset_id = ? ORDER BY r.run_id DESC LIMIT 50', DS), /runs_by_dataset/);
      assert.match(
        plan("SELECT * FROM runs WHERE input_hash = ? AND status IN ('queued','running','succeeded')", 'h'),
        /runs_by_input_hash/,
      );
    });

    it('full-text search over strategy, symbol, tags and notes stays in sync with edits and deletes', () => {
      const a = cat.createRun(runInput({ input_hash: sha('1'), tags: ['baseline'], notes: 'Tuned on January volatility' })).run.run_id;
      const b = cat.createRun(runInput({ input_hash: sha('2'), strategy_id: 'bollinger-reversion', notes: 'café "quoted" note' })).run
        .run_id;
      cat.upsertDataset(dataset({ dataset_id: 'ds_fedcba9876543210', symbol: 'AAPL' }));
      const c = cat.createRun(runInput({ input_hash: sha('3'), dataset_id: 'ds_fedcba9876543210' })).run.run_id;
      const ids = (t: string) => cat.searchRuns(t).map((r) => r.run_id);
      assert.deepEqual(ids('sma-cross'), [c, a]);
      assert.deepEqual(ids('SMA'), [c, a]);
      assert.deepEqual(ids('aapl'), [c]);
      assert.deepEqual(ids('esh4 bollinger'), [b]);
      assert.deepEqual(ids('baseline'), [a]);
      assert.deepEqual(ids('volat'), [a], 'prefix match');
      assert.deepEqual(ids('cafe'), [b], 'diacritics folded');
      assert.deepEqual(ids('"quoted'), [b], 'quotes are literal, never an FTS syntax error');
      assert.deepEqual(ids('OR'), []);
      assert.deepEqual(ids('  '), [c, b, a], 'blank search = no filter');
      cat.addTag(c, 'winner');
      cat.addTag(c, 'winner');
      assert.deepEqual(cat.getRun(c)!.tags, ['winner']);
      assert.deepEqual(ids('winner'), [c]);
      cat.removeTag(c, 'winner');
      assert.deepEqual(ids('winner'), []);
      cat.setNotes(a, 'rewritten');
      assert.deepEqual(ids('january'), []);
      assert.deepEqual(ids('rewritten'), [a]);
      cat.setTags(b, ['x', 'y']);
      assert.deepEqual(ids('y'), [b]);
      assert.equal(cat.deleteRun(a), true);
      assert.equal(cat.deleteRun(a), false);
      assert.deepEqual(ids('rewritten'), []);
      assert.deepEqual(
        cat.listRuns({ search: 'sma', status: 'queued' }).map((r) => r.run_id),
        [c],
      );
      assert.equal(cat.db.prepare("INSERT INTO runs_fts(runs_fts) VALUES('integrity-check')").run().changes >= 0, true);
      assert.throws(() => cat.setNotes('01ARYZ6S410000000000000000', 'x'), /run 01ARYZ6S410000000000000000 not found/);
      assert.throws(() => cat.addTag(b, '   '), /empty tag/);
    });
  });

  describe('change counter', () => {
    it('bumps on every write, also from another connection; data_version sees other connections', () => {
      const seen: number[] = [cat.changeCounter()];
      cat.upsertDataset(dataset());
      seen.push(cat.changeCounter());
      const id = cat.createRun(runInput()).run.run_id;
      seen.push(cat.changeCounter());
      cat.createRun(runInput()); // idempotent hit: nothing written
      seen.push(cat.changeCounter());
      const dv = cat.dataVersion();
      const other = openCatalog(file);
      other.markRunning(id);
      other.close();
      seen.push(cat.changeCounter());
      assert.notEqual(cat.dataVersion(), dv);
      cat.setNotes(id, 'n');
      seen.push(cat.changeCounter());
      cat.deleteRun(id);
      seen.push(cat.changeCounter());
      for (let i = 1; i < seen.length; i++) {
        if (i === 3) assert.equal(seen[i], seen[i - 1], 'no write, no bump');
        else assert.ok(seen[i]! > seen[i - 1]!, `write ${i} bumped: ${seen}`);
      }
    });
  });

  describe('concurrent writers', () => {
    it('two processes creating/migrating the same fresh file and writing 200 runs each: all 400 present, integrity ok', async function () {
      this.timeout(60_000);
      const fresh = join(dir, 'shared', 'catalog.sqlite');
      const script = new URL('./support/concurrentWriter.ts', import.meta.url).pathname;
      // Barrier: both children load, report ready, and only then are told to go together.
      const child = (tag: string) => {
        const p = spawn(process.execPath, [script, fresh, tag, '200'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d) => {
          err += d;
        });
        const ready = new Promise<void>((resolve, reject) => {
          p.stdout.once('data', () => resolve());
          p.on('error', reject);
          p.on('exit', (code) => reject(new Error(`writer ${tag} exited ${code} before ready: ${err}`)));
        });
        const done = new Promise<void>((resolve, reject) => {
          p.on('error', reject);
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${tag} exited ${code}: ${err}`))));
        });
        return { p, ready, done };
      };
      const writers = [child('A'), child('B')];
      await Promise.all(writers.map((w) => w.ready));
      for (const w of writers) w.p.stdin.end('go\n');
      await Promise.all(writers.map((w) => w.done));
      const c = openCatalog(fresh);
      try {
        assert.equal(c.db.pragma('integrity_check', { simple: true }), 'ok');
        assert.equal(c.countRuns(), 400);
        const rows = c.db.prepare('SELECT notes FROM runs ORDER BY rowid').all() as { notes: string }[];
        for (const tag of ['A', 'B']) {
          const mine = rows.filter((r) => r.notes.startsWith(`writer ${tag} `)).map((r) => Number(r.notes.split(' ')[2]));
          assert.deepEqual(
            mine,
            Array.from({ length: 200 }, (_, i) => i),
            `writer ${tag}: every run, in its order`,
          );
        }
        // The writes really interleaved (otherwise this test proves nothing about concurrency).
        let switches = 0;
        for (let i = 1; i < rows.length; i++) if (rows[i]!.notes[7] !== rows[i - 1]!.notes[7]) switches++;
        assert.ok(switches >= 2, `writers interleaved ${switches} times`);
        if (process.env.BTNB_DEBUG) console.log(`interleavings: ${switches}`);
        assert.equal(c.countRuns({ status: 'succeeded' }), 200);
        assert.equal(c.searchRuns('writer A').length, 200);
        // 1 dataset insert + 1 upsert-update, plus per run: insert, running, succeeded (every other)
        assert.equal(c.changeCounter(), 2 + 400 + 200 * 2);
        assert.equal(c.listDatasets().length, 1);
        assert.equal(c.db.pragma('user_version', { simple: true }), CATALOG_SCHEMA_VERSION);
      } finally {
        c.close();
      }
    });
  });
});

describe('catalog migration 2: run view indices', () => {
  it('a version-1 catalog with runs migrates: duration_ms from the run times, metric and duration sorts served by indices', async () => {
    const { MIGRATIONS } = await import('../../../src/engine/catalog/migrations.ts');
    const dir = mkdtempSync(join(tmpdir(), 'btnb-mig2-'));
    const file = join(dir, 'catalog.sqlite');
    try {
      const raw = new Database(file);
      raw.pragma('journal_mode = WAL');
      raw.exec('BEGIN');
      MIGRATIONS[0]!.up(raw);
      raw.pragma('user_version = 1');
      raw.exec('COMMIT');
      raw
        .prepare(
          "INSERT INTO datasets (dataset_id, symbol, derive_version, created_at, updated_at) VALUES ('ds_0000000000000001', 'X', 1, 't', 't')",
        )
        .run();
      raw
        .prepare(
          `INSERT INTO runs (run_id, input_hash, status, dataset_id, strategy_id, params, seed, costs, session, code_hash, engine_version, created_at, started_at, finished_at, sharpe)
        VALUES ('01AAAAAAAAAAAAAAAAAAAAAAAA', ?, 'succeeded', 'ds_0000000000000001', 's', '{}', 0, '{}', 'all', 'c', '1', 't', '2024-03-04T14:30:00.000Z', '2024-03-04T14:30:01.250Z', 1.5)`,
        )
        .run('a'.repeat(64));
      raw.close();
      const cat = openCatalog(file);
      try {
        assert.equal(cat.schemaVersion, CATALOG_SCHEMA_VERSION);
        assert.equal((cat.db.prepare('SELECT duration_ms FROM runs').get() as { duration_ms: number }).duration_ms, 1250);
        const plan = (sql: string) =>
          (cat.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
        const { buildRunQuery } = await import('../../../src/engine/catalog/runQuery.ts');
        for (const [key, index] of [
          ['sharpe', 'runs_by_sharpe'],
          ['duration', 'runs_by_duration'],
          ['total_return', 'runs_by_total_return'],
        ] as const) {
          const q = buildRunQuery({ sortBy: key, limit: 100 });
          const p = plan(`SELECT r.* FROM runs r ${q.where} ORDER BY ${q.orderBy} LIMIT 100`);
          assert.match(p, new RegExp(index), `${key}: ${p}`);
          assert.doesNotMatch(p, /TEMP B-TREE/, `${key} needs no sort: ${p}`);
        }
        assert.deepEqual(
          cat.listRuns({ sortBy: 'duration' }).map((r) => r.run_id),
          ['01AAAAAAAAAAAAAAAAAAAAAAAA'],
        );
      } finally {
        cat.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
