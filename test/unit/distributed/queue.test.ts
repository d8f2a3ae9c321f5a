/**
 * Distributed sweeps through BullMQ on a real Redis with real `btnb worker` processes and a real
 * coordinator (the `btnb serve --redis` app): results equal a local sweep's, files byte for byte.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { JobQueue } from '../../../src/engine/jobs/jobQueue.ts';
import { runQueuedSweep } from '../../../src/engine/distributed/queuedSweep.ts';
import { runSweep } from '../../../src/engine/sweep/sweep.ts';
import { gridPoints } from '../../../src/engine/sweep/grid.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { ARTIFACT_FILES } from '../../../src/engine/backtest/artifacts.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';
import { startRedis, type TestRedis } from '../../support/redisServer.ts';
import { freePort, MAIN, startWorkerProc, workerReady, type WorkerProc } from './support.ts';

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
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
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
    // nothing waits, runs or failed: finished jobs stay (a day) for a restarted coordinator
    const counts = await s.ctx.coordinator!.queueCounts();
    assert.ok(
      Object.entries(counts).every(([state, n]) => state === 'completed' || n === 0),
      JSON.stringify(counts),
    );
  });

  it('POST /sweeps {queue: true} → GET by sweep id; DELETE cancels it (waiting points removed, runs end canceled); the grid queued again completes', async () => {
    const body = {
      dataset_id: datasetId,
      strategy_id: 'sma-cross',
      grid: { fast: '2:20:1', slow: [40, 50, 60] },
      artifacts: 'all',
      queue: true,
    };
    const post = async () => {
      const r = await fetch(`${url}/sweeps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 202, await r.clone().text());
      const j = (await r.json()) as { sweep_id: string; job_id: string | null };
      assert.equal(j.job_id, null);
      assert.equal(r.headers.get('location'), `/sweeps/${j.sweep_id}`);
      return j.sweep_id;
    };
    type St = { status: string; progress: { done: number; total: number }; results: { status: string; run_id: string }[] | null };
    const get = async (id: string) => (await (await fetch(`${url}/sweeps/${id}`)).json()) as St;
    const sweepId = await post();
    for (let st = await get(sweepId); st.progress.done < 3; st = await get(sweepId)) await new Promise((r) => setTimeout(r, 10));
    const del = await fetch(`${url}/sweeps/${sweepId}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    let st = await get(sweepId);
    for (const t0 = Date.now(); st.status === 'running'; st = await get(sweepId)) {
      assert.ok(Date.now() - t0 < 30_000, JSON.stringify(st));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(st.status, 'canceled');
    const rows = s.ctx.catalog.listRuns({ sweepId });
    assert.equal(rows.length, 57);
    const by = (k: string) => rows.filter((r) => r.status === k).length;
    assert.equal(by('queued') + by('running'), 0, 'no run left open');
    assert.ok(by('canceled') > 0 && by('succeeded') >= 3, `succeeded ${by('succeeded')}, canceled ${by('canceled')}`);
    assert.equal(by('succeeded') + by('canceled'), 57);
    assert.equal((await fetch(`${url}/sweeps/${sweepId}`, { method: 'DELETE' })).status, 409, 'finished: a conflict');
    // the points in flight at the cancel complete (canceled); nothing stays waiting or active
    for (const t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
      const counts = await s.ctx.coordinator!.queueCounts();
      if (Object.entries(counts).every(([state, n]) => state === 'completed' || n === 0)) break;
      assert.ok(Date.now() - t0 < 20_000, JSON.stringify(counts));
    }
    // again: the succeeded points are reused, the canceled ones run
    const again = await post();
    for (st = await get(again); st.status === 'running'; st = await get(again)) await new Promise((r) => setTimeout(r, 50));
    assert.equal(st.status, 'succeeded');
    assert.equal(st.results!.length, 57);
    assert.ok(st.results!.every((r) => r.status === 'succeeded'));
    const reused = new Set(rows.filter((r) => r.status === 'succeeded').map((r) => r.run_id));
    assert.equal(st.results!.filter((r) => reused.has(r.run_id)).length, reused.size, 'succeeded points reused, not rerun');
  });

  it('POST /sweeps {queue: true} on a server without --redis is refused (422 naming body.queue)', async () => {
    const plain = await buildServer({ dataDir, jobsDir: jobsDirFor(MAIN), token: null, maxJobs: 1, maxQueued: 8 });
    try {
      const u = await plain.app.listen({ host: '127.0.0.1', port: 0 });
      const r = await fetch(`${u}/sweeps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataset_id: datasetId, strategy_id: 'sma-cross', grid: { fast: [3], slow: [20] }, queue: true }),
      });
      assert.equal(r.status, 422);
      const p = (await r.json()) as { field: string; detail: string };
      assert.equal(p.field, 'body.queue');
      assert.match(p.detail, /--redis/);
    } finally {
      await plain.close();
    }
  });

  it('btnb sweep --queue: the CLI coordinates on --listen for its own worker and prints what a local sweep prints', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const port = await freePort();
    const w = startWorkerProc(redis.url, `http://127.0.0.1:${port}`);
    workers.push(w);
    const args = [
      'sweep',
      '--data-dir',
      dataDir,
      '--dataset',
      datasetId,
      '--strategy',
      'sma-cross',
      '--grid',
      'fast=4,6',
      '--grid',
      'slow=25,35',
      '--json',
    ];
    const cli = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, [MAIN, ...args, '--queue', redis.url, '--listen', `127.0.0.1:${port}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (code) => resolve({ code, out, err }));
    });
    assert.equal(cli.code, 0, cli.err + w.log());
    const q = JSON.parse(cli.out) as { results: { params: unknown; metrics: unknown; status: string }[]; runs: number };
    assert.equal(q.runs, 4);
    assert.equal((w.log().match(/… succeeded/g) ?? []).length, 4, 'the points ran on the worker');
    // the same sweep locally answers the same results, in the same order, from the catalog (reused)
    const local = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    assert.equal(local.status, 0, local.stderr);
    const l = JSON.parse(local.stdout) as typeof q;
    assert.deepEqual(
      l.results.map((r) => [r.params, r.metrics, r.status]),
      q.results.map((r) => [r.params, r.metrics, r.status]),
    );
  });

  it('a sweep job with queue (the extension and notebook sweeps): its child coordinates, with the job progress and result', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const port = await freePort();
    const w = startWorkerProc(redis.url, `http://127.0.0.1:${port}`);
    workers.push(w);
    const jobs = new JobQueue({ jobsDir: jobsDirFor(MAIN), maxParallel: () => 1 });
    try {
      const job = jobs.submit({
        kind: 'sweep',
        title: 'queued sweep',
        params: {
          dataDir,
          datasetId,
          strategyId: 'sma-cross',
          grid: { fast: [7, 9], slow: [45, 55] },
          artifacts: 'top:1',
          queue: { redisUrl: redis.url, listen: `127.0.0.1:${port}` },
        },
      });
      const progress: number[] = [];
      job.on('progress', (p) => progress.push(p.done));
      const o = await job.outcome;
      assert.equal(o.status, 'succeeded', JSON.stringify(o));
      if (o.status !== 'succeeded') return;
      assert.equal(o.result.runs.length, 4);
      assert.ok(
        o.result.runs.every((r) => r.status === 'succeeded' && r.metrics !== null),
        JSON.stringify(o.result.runs),
      );
      assert.equal(progress.at(-1), 4);
      assert.equal((w.log().match(/… succeeded/g) ?? []).length, 4, 'run by the worker');
      // top:1 — the best point has its files, the rest are light
      const rows = s.ctx.catalog.listRuns({ sweepId: o.result.sweepId });
      assert.equal(rows.length, 4);
      assert.equal(rows.filter((r) => r.materialized).length, 1);
    } finally {
      jobs.dispose();
    }
  });
});
