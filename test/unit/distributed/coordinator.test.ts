/**
 * The coordinator's bookkeeping against a real Redis, with no worker running until a test starts
 * one (points stay waiting): the reconcile pass fails a point whose job Redis lost, a cancel of
 * one sweep leaves the points another sweep shares, and a canceled sweep's grid queued again
 * runs once workers come.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { Queue } from 'bullmq';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { gridPoints } from '../../../src/engine/sweep/grid.ts';
import { DEFAULT_QUEUE_NAME } from '../../../src/engine/distributed/protocol.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';
import { startRedis, type TestRedis } from '../../support/redisServer.ts';
import { MAIN, startWorkerProc, workerReady } from './support.ts';

type Server = Awaited<ReturnType<typeof buildServer>>;

describe('distributed sweeps: the coordinator (real Redis, workers started late)', function () {
  this.timeout(120_000);
  let redis: TestRedis;
  let dataDir = '';
  let datasetId = '';
  let s: Server;
  let url = '';
  const base = { seed: 0, costs: {}, session: 'all' as const, uploadAll: false, tags: [] };

  before(async () => {
    redis = await startRedis();
    ({ dataDir, datasetId } = await makeDataDir(2000, 17));
    s = await buildServer({
      dataDir,
      jobsDir: jobsDirFor(MAIN),
      token: null,
      maxJobs: 1,
      maxQueued: 8,
      redisUrl: redis.url,
      reconcileMs: 200,
    });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await s?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('the reconcile pass fails a point whose job Redis lost, naming why', async () => {
    const c = s.ctx.coordinator!;
    const sub = await c.submit({
      ...base,
      sweepId: 'SWEEPLOST000000000000000000',
      datasetId,
      strategy: 'sma-cross',
      points: [{ fast: 3, slow: 40 }],
    });
    const run = sub.runs[0]!.run;
    assert.equal(run.status, 'queued');
    // the job vanishes behind the coordinator's back (a FLUSHALL, a Redis without persistence)
    const q = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    assert.equal(await q.remove(run.input_hash), 1);
    await q.close();
    await c.waitFor('SWEEPLOST000000000000000000');
    const after = s.ctx.catalog.getRun(run.run_id)!;
    assert.equal(after.status, 'failed');
    assert.match(after.error ?? '', /gone from Redis/);
  });

  it('canceling one sweep leaves the points another sweep shares; those run when a worker comes', async () => {
    const c = s.ctx.coordinator!;
    const A = 'SWEEPA00000000000000000000';
    const B = 'SWEEPB00000000000000000000';
    const pointsA = gridPoints([
      ['fast', [4, 5]],
      ['slow', [30]],
    ]);
    const pointsB = gridPoints([
      ['fast', [5, 6]],
      ['slow', [30]],
    ]); // fast=5 is shared
    const a = await c.submit({ ...base, sweepId: A, datasetId, strategy: 'sma-cross', points: pointsA });
    const b = await c.submit({ ...base, sweepId: B, datasetId, strategy: 'sma-cross', points: pointsB });
    const shared = a.runs[1]!.run.run_id;
    assert.equal(b.runs[0]!.run.run_id, shared, 'B reuses A’s open run of fast=5');
    assert.equal(b.runs[0]!.created, false);
    assert.equal(await c.cancel(B), 1, 'only B’s own point is canceled');
    await c.waitFor(B);
    assert.equal(s.ctx.catalog.getRun(b.runs[1]!.run.run_id)!.status, 'canceled');
    assert.equal(s.ctx.catalog.getRun(shared)!.status, 'queued', 'the shared point stays for A');
    assert.equal(c.openCount(A), 2);
    const w = startWorkerProc(redis.url, url);
    try {
      await workerReady(w);
      await c.waitFor(A);
      for (const r of a.runs) assert.equal(s.ctx.catalog.getRun(r.run.run_id)!.status, 'succeeded', r.run.run_id);
      assert.equal((w.log().match(/… succeeded/g) ?? []).length, 2, 'A’s two points ran; B’s canceled one did not');
    } finally {
      await w.stop();
    }
  });
});
