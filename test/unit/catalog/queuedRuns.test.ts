/**
 * catalog/queuedRuns.ts: a distributed sweep's points as unowned rows — reuse by input_hash,
 * queued → running → settled, settling idempotent (a second delivery changes nothing), and never
 * touched by recovery (their liveness is the queue's, not a pid's).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueRunInput } from '../../../src/engine/ports/catalog.ts';
import { openCatalog, type SqliteCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const DS = 'ds_0123456789abcdef';
const point = (k: number, over: Partial<QueueRunInput> = {}): QueueRunInput => ({
  run_id: `01HZZZZZZZZZZZZZZZZZZZZZ${String(k).padStart(2, '0')}`,
  input_hash: sha(`p${k}`),
  dataset_id: DS,
  strategy_id: 'sma-cross',
  params: { fast: k, slow: 30 },
  seed: 0,
  costs: {},
  session: 'all',
  code_hash: sha('code'),
  engine_version: '1',
  sweep_id: 'S1',
  tags: ['sweep:S1'],
  ...over,
});
const metrics = { total_return: 0.1, sharpe: 1.5, max_drawdown: 0.05, num_trades: 4, final_equity: 110000 };

describe('catalog/queuedRuns', () => {
  let dir: string;
  let cat: SqliteCatalog;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-qcat-'));
    cat = openCatalog(join(dir, 'catalog.sqlite'));
    cat.upsertDataset({ dataset_id: DS, symbol: 'ESH4', schemas: ['trades'], derive_version: 1, databento_dataset: 'GLBX.MDP3' });
  });
  afterEach(() => {
    cat.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues unowned rows once per input; identical inputs (this call or later) reuse the run and gain its tags', () => {
    const a = cat.queueRuns([point(1), point(2), point(1, { run_id: '01HZZZZZZZZZZZZZZZZZZZZZ99' })]);
    assert.deepEqual(
      a.map((r) => [r.run_id, r.created, r.status]),
      [
        [point(1).run_id, true, 'queued'],
        [point(2).run_id, true, 'queued'],
        [point(1).run_id, false, 'queued'],
      ],
    );
    const again = cat.queueRuns([point(2, { run_id: '01HZZZZZZZZZZZZZZZZZZZZZ98', sweep_id: 'S2', tags: ['sweep:S2'] })]);
    assert.deepEqual([again[0]!.run_id, again[0]!.created], [point(2).run_id, false]);
    assert.deepEqual(cat.getRun(point(2).run_id)!.tags, ['sweep:S1', 'sweep:S2']);
    assert.equal(cat.getRun(point(1).run_id)!.symbol, 'ESH4');
    const owner = cat.db.prepare('SELECT owner FROM runs WHERE run_id = ?').get(point(1).run_id) as { owner: string | null };
    assert.equal(owner.owner, null, 'unowned');
    assert.deepEqual(
      cat
        .openQueuedRuns('S1')
        .map((r) => r.run_id)
        .sort(),
      [point(1).run_id, point(2).run_id],
    );
  });

  it('start and settle are idempotent by status: a second completion, or one after a cancel, changes nothing', () => {
    cat.queueRuns([point(1), point(2), point(3)]);
    assert.equal(cat.startQueuedRuns([point(1).run_id, point(1).run_id]), 1);
    const ok = {
      status: 'succeeded' as const,
      metrics,
      error: null,
      started_at: '2024-01-02T00:00:00.000Z',
      finished_at: '2024-01-02T00:00:01.000Z',
      manifest: { run_id: point(1).run_id },
      materialized: false,
    };
    // point 2 goes from queued straight to succeeded (its 'active' event was missed)
    assert.deepEqual(
      cat.settleQueuedRuns([
        { ...ok, run_id: point(1).run_id },
        { ...ok, run_id: point(2).run_id },
      ]),
      [true, true],
    );
    const r1 = cat.getRun(point(1).run_id)!;
    assert.equal(r1.status, 'succeeded');
    assert.equal(r1.materialized, false);
    assert.deepEqual(r1.metrics, metrics);
    assert.deepEqual(cat.getRunManifest(point(1).run_id), { run_id: point(1).run_id });
    // the same point delivered again, with other numbers: recorded once, the first stays
    assert.deepEqual(cat.settleQueuedRuns([{ ...ok, run_id: point(1).run_id, metrics: { ...metrics, sharpe: 9 } }]), [false]);
    assert.equal(cat.getRun(point(1).run_id)!.metrics!.sharpe, 1.5);
    // canceled, then a late success: stays canceled
    const cancel = {
      run_id: point(3).run_id,
      status: 'canceled' as const,
      metrics: null,
      error: null,
      started_at: null,
      finished_at: '2024-01-02T00:00:02.000Z',
      manifest: null,
      materialized: false,
    };
    assert.deepEqual(cat.settleQueuedRuns([cancel, { ...ok, run_id: point(3).run_id }]), [true, false]);
    assert.equal(cat.getRun(point(3).run_id)!.status, 'canceled');
    assert.equal(cat.startQueuedRuns([point(3).run_id]), 0);
    assert.deepEqual(cat.openQueuedRuns(), []);
  });

  it('recovery leaves them alone (no pid owns them); a process-owned run is not settled through them', () => {
    cat.queueRuns([point(1)]);
    assert.deepEqual(cat.recoverAbandoned().runs, []);
    assert.equal(cat.getRun(point(1).run_id)!.status, 'queued');
    const owned = cat.createRun({
      input_hash: sha('own'),
      dataset_id: DS,
      strategy_id: 'sma-cross',
      params: {},
      seed: 0,
      costs: {},
      session: 'all',
      code_hash: sha('c'),
      engine_version: '1',
    });
    assert.deepEqual(
      cat.settleQueuedRuns([
        {
          run_id: owned.run.run_id,
          status: 'failed',
          metrics: null,
          error: 'x',
          started_at: null,
          finished_at: '2024-01-02T00:00:00.000Z',
          manifest: null,
          materialized: false,
        },
      ]),
      [false],
    );
    assert.equal(cat.getRun(owned.run.run_id)!.status, 'queued');
  });
});
