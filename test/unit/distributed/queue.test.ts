/**
 * Distributed sweeps through BullMQ on a real Redis with real `btnb worker` processes and a real
 * coordinator (the `btnb serve --redis` app): results equal a local sweep's, files byte for byte.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { runQueuedSweep } from '../../../src/engine/distributed/queuedSweep.ts';
import { runSweep } from '../../../src/engine/sweep/sweep.ts';
import { gridPoints } from '../../../src/engine/sweep/grid.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { ARTIFACT_FILES } from '../../../src/engine/backtest/artifacts.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';
import { startRedis, type TestRedis } from '../../support/redisServer.ts';
import { MAIN, startWorkerProc, workerReady, type WorkerProc } from './support.ts';

type Server = Awaited<ReturnType<typeof buildServer>>;

const GRID = gridPoints([
  ['fast', [3, 5, 8]],
  ['slow', [12, 20, 30]],
]);

describe('distributed sweeps: BullMQ on Redis, btnb worker processes', function () {
  this.timeout(180_000);
  let redis: TestRedis;
  let dataDir = '';
  let datasetId = '';
  let s: Server;
  let url = '';
  const workers: WorkerProc[] = [];

  before(async () => {
    redis = await startRedis();
    ({ dataDir, datasetId } = await makeDataDir(3000, 5));
    s = await buildServer({ dataDir, jobsDir: jobsDirFor(MAIN), token: null, maxJobs: 1, maxQueued: 8, redisUrl: redis.url });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
    for (let i = 0; i < 2; i++) workers.push(startWorkerProc(redis.url, url));
    await Promise.all(workers.map((w) => workerReady(w)));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await s?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a sweep through the queue equals the local sweep: every point once, same metrics, uploaded files byte-identical', async () => {
    const progress: number[] = [];
    const queued = await runQueuedSweep(
      s.ctx.coordinator!,
      s.ctx.catalog,
      {
        dataDir,
        datasetId,
        strategy: 'sma-cross',
        points: GRID,
        seed: 0,
        costs: {},
        session: 'all',
        force: false,
        workers: 1,
        artifacts: { kind: 'all' },
        onProgress: (d) => progress.push(d),
      },
      (id) => s.ctx.materialize(dataDir, id),
    );
    assert.equal(queued.results.length, 9);
    assert.ok(
      queued.results.every((r) => r.status === 'succeeded' && r.created),
      JSON.stringify(queued.results),
    );
    assert.equal(progress.at(-1), 9);
    const rows = s.ctx.catalog.listRuns({ sweepId: queued.sweep_id });
    assert.equal(rows.length, 9, 'every point in the catalog exactly once');
    assert.equal(new Set(rows.map((r) => r.input_hash)).size, 9);
    assert.ok(rows.every((r) => r.materialized && r.status === 'succeeded'));
    // both workers took points
    const byWorker = workers.map((w) => (w.log().match(/ succeeded/g) ?? []).length);
    assert.equal(
      byWorker.reduce((a, b) => a + b, 0),
      9,
      workers.map((w) => w.log()).join('\n'),
    );

    // the same grid locally, in a second data dir over the same bars: same metrics, same bytes
    const local = await makeDataDir(3000, 5);
    try {
      const l = await runSweep({
        dataDir: local.dataDir,
        datasetId: local.datasetId,
        strategy: 'sma-cross',
        points: GRID,
        seed: 0,
        costs: {},
        session: 'all',
        force: false,
        workers: 1,
        artifacts: { kind: 'all' },
      });
      const key = (p: Record<string, unknown>) => JSON.stringify(p);
      const localBy = new Map(l.results.map((r) => [key(r.params), r]));
      for (const q of queued.results) {
        const lr = localBy.get(key(q.params))!;
        assert.deepEqual(q.metrics, lr.metrics, `metrics of ${key(q.params)}`);
        for (const f of ARTIFACT_FILES)
          assert.ok(
            readFileSync(join(dataPaths(dataDir).runDir(q.run_id!), f)).equals(
              readFileSync(join(dataPaths(local.dataDir).runDir(lr.run_id!), f)),
            ),
            `${f} of ${key(q.params)} byte-identical`,
          );
      }
    } finally {
      rmSync(local.dataDir, { recursive: true, force: true });
    }
    // the queue is empty again: each job was removed once its outcome was recorded
    const counts = await s.ctx.coordinator!.queueCounts();
    assert.ok(
      Object.values(counts).every((n) => n === 0),
      JSON.stringify(counts),
    );
  });
});
