/**
 * Distributed sweeps under faults, each with a real Redis, real `btnb worker` processes and a
 * real coordinator: a worker SIGKILLed mid-point, Redis restarted mid-sweep, the coordinator
 * SIGKILLed and restarted, corrupted and truncated uploads, a strategy that throws, a point for
 * another engine version, and a point completed twice (a frozen worker resumed after a stall).
 * The invariant every time: each point in the catalog exactly once, files byte-identical to a
 * local run of the same point, no job left behind.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { runQueuedSweep } from '../../../src/engine/distributed/queuedSweep.ts';
import { runSweep } from '../../../src/engine/sweep/sweep.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { ARTIFACT_FILES } from '../../../src/engine/backtest/artifacts.ts';
import { DEFAULT_QUEUE_NAME, QUEUE_PROTOCOL } from '../../../src/engine/distributed/protocol.ts';
import type { SweepRequest, SweepResult } from '../../../src/engine/sweep/sweep.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';
import { startRedis, type TestRedis } from '../../support/redisServer.ts';
import { freePort, MAIN, startWorkerProc, workerReady, type WorkerProc } from './support.ts';

type Server = Awaited<ReturnType<typeof buildServer>>;

/** Short locks so a dead worker's point is handed on in ~2 s (the defaults are 60 s / 15 s). */
const FAST_STALL = ['--lock-duration', '2000', '--stalled-interval', '1000'];

const STRATEGY = `
import { defineStrategy, z } from 'backtest-notebook';
import { spin } from './lib/spin.ts';
export default defineStrategy({
  id: 'slow-momentum',
  params: z.object({
    lookback: z.number().int().min(1),
    size: z.number().default(10),
    spinMs: z.number().default(0),
    throwAt: z.number().int().default(-1),
  }),
  onBar(ctx, _s, p) {
    if (ctx.index === p.throwAt) throw new Error('boom at bar ' + ctx.index);
    if (p.spinMs > 0 && ctx.index % 100 === 0) spin(p.spinMs);
    if (ctx.index < p.lookback || ctx.isLastBar) return;
    const target = ctx.close() > ctx.close(p.lookback) ? p.size : 0;
    if (target !== ctx.position) ctx.targetPosition(target);
  },
});
`;
const SPIN = `export function spin(ms: number): void { const end = Date.now() + ms; while (Date.now() < end) { /* busy */ } }\n`;

describe('distributed sweeps under faults (real Redis, real worker processes)', function () {
  this.timeout(240_000);
  let redis: TestRedis;
  let dataDir = '';
  let datasetId = '';
  let localDir = '';
  let localDs = '';
  let stratDir = '';
  let strategy = '';
  let s: Server | null = null;
  let url = '';
  const workers: WorkerProc[] = [];

  const worker = async (extra: { args?: string[]; env?: NodeJS.ProcessEnv; concurrency?: number } = {}) => {
    const w = startWorkerProc(redis.url, url, { ...extra, extraArgs: extra.args ?? [] });
    workers.push(w);
    await workerReady(w);
    return w;
  };
  const stopWorkers = async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
  };
  const request = (points: Record<string, unknown>[], extra: Partial<SweepRequest> = {}): SweepRequest => ({
    dataDir,
    datasetId,
    strategy,
    points,
    seed: 0,
    costs: {},
    session: 'all',
    force: false,
    workers: 1,
    artifacts: { kind: 'all' },
    ...extra,
  });
  const queuedSweep = (req: SweepRequest) =>
    runQueuedSweep(s!.ctx.coordinator!, s!.ctx.catalog, req, (id) => s!.ctx.materialize(dataDir, id));

  /** Every point once in the catalog, succeeded, its files equal to a local run's; no job left. */
  const assertLikeLocal = async (res: SweepResult, points: Record<string, unknown>[]) => {
    assert.equal(res.results.length, points.length);
    const rows = s!.ctx.catalog.listRuns({ sweepId: res.sweep_id });
    assert.equal(rows.length, points.length, 'each point once in the catalog');
    assert.equal(new Set(rows.map((r) => r.input_hash)).size, points.length);
    assert.ok(
      rows.every((r) => r.status === 'succeeded' && r.materialized),
      JSON.stringify(rows.map((r) => [r.status, r.error])),
    );
    const local = await runSweep({ ...request(points), dataDir: localDir, datasetId: localDs });
    const key = (p: Record<string, unknown>) => JSON.stringify(p);
    const byParams = new Map(local.results.map((r) => [key(r.params), r]));
    for (const q of res.results) {
      const l = byParams.get(key(q.params))!;
      assert.deepEqual(q.metrics, l.metrics);
      for (const f of ARTIFACT_FILES)
        assert.ok(
          readFileSync(join(dataPaths(dataDir).runDir(q.run_id!), f)).equals(readFileSync(join(dataPaths(localDir).runDir(l.run_id!), f))),
          `${f} of ${key(q.params)} byte-identical to the local run`,
        );
    }
    const counts = await s!.ctx.coordinator!.queueCounts();
    assert.ok(
      Object.entries(counts).every(([state, n]) => state === 'completed' || n === 0),
      `no job open or failed: ${JSON.stringify(counts)}`,
    );
  };

  const succeededLines = () => workers.reduce((n, w) => n + (w.log().match(/… succeeded/g) ?? []).length, 0);

  before(async () => {
    redis = await startRedis();
    ({ dataDir, datasetId } = await makeDataDir(3000, 11));
    ({ dataDir: localDir, datasetId: localDs } = await makeDataDir(3000, 11));
    stratDir = mkdtempSync(join(tmpdir(), 'btnb-dstrat-'));
    mkdirSync(join(stratDir, 'lib'));
    writeFileSync(join(stratDir, 'lib', 'spin.ts'), SPIN);
    strategy = join(stratDir, 'slow.ts');
    writeFileSync(strategy, STRATEGY);
    s = await buildServer({
      dataDir,
      jobsDir: jobsDirFor(MAIN),
      token: null,
      maxJobs: 1,
      maxQueued: 8,
      redisUrl: redis.url,
      reconcileMs: 500,
    });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterEach(stopWorkers);

  after(async () => {
    await stopWorkers();
    await s?.close();
    await redis?.stop();
    for (const d of [dataDir, localDir, stratDir]) rmSync(d, { recursive: true, force: true });
  });

  it('a worker SIGKILLed mid-point: the stalled point goes to another worker; every point once, files as a local run', async () => {
    const points = [2, 3, 4, 5, 6, 7].map((lookback) => ({ lookback, spinMs: 15 }));
    const a = await worker({ args: FAST_STALL });
    const sweep = queuedSweep(request(points));
    // wait until A is in the middle of a point, then kill it outright
    const t0 = Date.now();
    while (!s!.ctx.catalog.listRuns({ status: 'running' }).length) {
      assert.ok(Date.now() - t0 < 30_000, 'a point started');
      await new Promise((r) => setTimeout(r, 20));
    }
    await a.stop('SIGKILL');
    const killedDone = (a.log().match(/… succeeded/g) ?? []).length;
    assert.ok(killedDone < points.length, 'killed before the sweep ended');
    await worker({ args: FAST_STALL });
    const res = await sweep;
    await assertLikeLocal(res, points);
  });

  it('Redis restarted mid-sweep: coordinator and workers reconnect; no point lost or doubled', async () => {
    const points = [8, 9, 10, 11, 12, 13, 14, 15].map((lookback) => ({ lookback, spinMs: 10 }));
    await worker({ args: FAST_STALL });
    await worker({ args: FAST_STALL });
    const before = succeededLines();
    const sweep = queuedSweep(request(points));
    while (succeededLines() - before < 2) await new Promise((r) => setTimeout(r, 20));
    await redis.restart();
    const res = await sweep;
    await assertLikeLocal(res, points);
  });

  it('a corrupted and a truncated upload are refused (422, nothing published) and the point retried', async () => {
    await worker({ env: { BTNB_FAULT_UPLOAD: 'corrupt:1' } });
    await worker({ env: { BTNB_FAULT_UPLOAD: 'truncate:1' } });
    const points = [16, 17, 18, 19].map((lookback) => ({ lookback }));
    const res = await queuedSweep(request(points));
    await assertLikeLocal(res, points);
    const logs = workers.map((w) => w.log()).join('\n');
    assert.match(logs, /attempt 1 failed: PUT .*HTTP 422 .*hash to/, logs);
    assert.equal((logs.match(/HTTP 422/g) ?? []).length, 2, 'one refused upload per worker');
  });

  it('a point whose strategy throws fails that run with the stack; the sweep completes', async () => {
    await worker();
    const points = [{ lookback: 20 }, { lookback: 21, throwAt: 50 }, { lookback: 22 }];
    const res = await queuedSweep(request(points, { artifacts: { kind: 'none' } }));
    const byLookback = new Map(res.results.map((r) => [r.params.lookback, r]));
    assert.equal(byLookback.get(20)!.status, 'succeeded');
    assert.equal(byLookback.get(22)!.status, 'succeeded');
    const bad = byLookback.get(21)!;
    assert.equal(bad.status, 'failed');
    assert.match(bad.error ?? '', /boom at bar 50/);
    assert.match(bad.error ?? '', /slow\.ts:\d+/, 'the stack names the strategy file');
    // light points: their manifests recorded, files made on demand
    assert.equal(s!.ctx.catalog.getRun(byLookback.get(20)!.run_id!)!.materialized, false);
  });

  it('a worker refuses a point queued for another engine version, with a clear error', async () => {
    await worker();
    const connection = { host: '127.0.0.1', port: redis.port };
    const q = new Queue(DEFAULT_QUEUE_NAME, { connection });
    const ev = new QueueEvents(DEFAULT_QUEUE_NAME, { connection });
    try {
      await ev.waitUntilReady();
      const job = await q.add(
        'point',
        {
          protocol: QUEUE_PROTOCOL,
          engine_version: '0-older',
          sweep_id: 'x',
          run_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
          input_hash: 'e'.repeat(64),
          dataset_id: datasetId,
          symbol: 'SYN',
          bars_sha256: 'f'.repeat(64),
          strategy_id: 'sma-cross',
          code_hash: 'a'.repeat(64),
          strategy: null,
          params: {},
          seed: 0,
          costs: {},
          session: 'all',
          date_range: null,
          artifacts: false,
        },
        { jobId: 'e'.repeat(64), attempts: 3 },
      );
      await assert.rejects(
        job.waitUntilFinished(ev, 30_000),
        /runs engine version 1; point eeeeeeeeeeee… was queued for engine 0-older: refused/,
      );
      assert.equal(await job.getState(), 'failed');
      assert.equal((await q.getJob(job.id!))!.attemptsMade, 1, 'not retried: another try cannot succeed');
      await job.remove();
    } finally {
      await ev.close();
      await q.close();
    }
  });

  it('a cancel stops a point in flight: its worker sees the run canceled and abandons the engine run', async () => {
    const w = await worker();
    const ac = new AbortController();
    const points = [{ lookback: 40, spinMs: 60 }]; // ~1.8 s of strategy time
    const sweep = queuedSweep(request(points, { artifacts: { kind: 'none' }, signal: ac.signal }));
    while (!s!.ctx.catalog.listRuns({ status: 'running' }).length) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    ac.abort();
    await assert.rejects(sweep, /canceled/);
    const run = s!.ctx.catalog.listRuns({}).find((r) => r.params.lookback === 40)!;
    assert.equal(run.status, 'canceled');
    // the worker gives the point up at its next poll
    while (!/… canceled/.test(w.log()) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.match(w.log(), /… canceled/);
    // run to its end it would have completed `succeeded` (a light point checks no key after the engine)
    assert.doesNotMatch(w.log(), /… succeeded/);
  });

  it('a point completed twice (a frozen worker resumed after its point was handed on) is recorded once', async () => {
    const points = [{ lookback: 30, spinMs: 20 }];
    const a = await worker({ args: FAST_STALL });
    const sweep = queuedSweep(request(points));
    while (!s!.ctx.catalog.listRuns({ status: 'running' }).length) await new Promise((r) => setTimeout(r, 10));
    a.proc.kill('SIGSTOP'); // frozen: its lock lapses, the stalled check hands the point on
    const b = await worker({ args: FAST_STALL });
    const res = await sweep;
    a.proc.kill('SIGCONT'); // A finishes the same point and tries to complete it
    const t0 = Date.now();
    while (!/… succeeded/.test(a.log()) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    assert.match(a.log(), /… succeeded/, 'the frozen worker finished the point too');
    assert.match(b.log(), /… succeeded/);
    await new Promise((r) => setTimeout(r, 1000)); // a late completion event would arrive by now
    await assertLikeLocal(res, points);
  });
});

describe('distributed sweeps: the coordinator SIGKILLed and restarted (btnb serve --redis)', function () {
  this.timeout(240_000);
  it('resumes following the sweep from Redis; finished points are not rerun', async () => {
    const redis = await startRedis();
    const { dataDir } = await makeDataDir(3000, 13);
    const { spawn } = await import('node:child_process');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serve = () => {
      const p = spawn(process.execPath, [MAIN, 'serve', '--data-dir', dataDir, '--port', String(port), '--redis', redis.url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return { p, log: () => out };
    };
    const up = async () => {
      for (let t0 = Date.now(); Date.now() - t0 < 30_000; await new Promise((r) => setTimeout(r, 50)))
        if ((await fetch(`${url}/healthz`).catch(() => null))?.ok) return;
      throw new Error('serve did not come up');
    };
    let coord = serve();
    const w = startWorkerProc(redis.url, url);
    try {
      await up();
      await workerReady(w);
      const grid = { fast: [2, 3, 4, 5, 6, 7, 8, 9], slow: [20, 30, 40, 50, 60] };
      const post = await fetch(`${url}/sweeps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          dataset_id: ((await (await fetch(`${url}/datasets`)).json()) as { datasets: { dataset_id: string }[] }).datasets[0]!.dataset_id,
          strategy_id: 'sma-cross',
          grid,
          artifacts: 'all',
          queue: true,
        }),
      });
      assert.equal(post.status, 202, await post.clone().text());
      const { sweep_id: sweepId } = (await post.json()) as { sweep_id: string };
      while ((w.log().match(/… succeeded/g) ?? []).length < 5) await new Promise((r) => setTimeout(r, 10));
      coord.p.kill('SIGKILL');
      await new Promise((r) => coord.p.once('exit', r));
      await new Promise((r) => setTimeout(r, 800)); // the worker keeps going (uploads wait for the coordinator)
      coord = serve();
      await up();
      let st: { status: string; runs: number | null; results: { status: string }[] | null } = {
        status: 'running',
        runs: null,
        results: null,
      };
      for (let t0 = Date.now(); st.status === 'running'; await new Promise((r) => setTimeout(r, 200))) {
        assert.ok(Date.now() - t0 < 120_000, `sweep did not finish: ${JSON.stringify(st)}\n${coord.log()}\n${w.log()}`);
        st = (await (await fetch(`${url}/sweeps/${sweepId}`)).json()) as typeof st;
      }
      assert.equal(st.status, 'succeeded', JSON.stringify(st));
      assert.equal(st.runs, 40);
      assert.ok(
        st.results!.every((r) => r.status === 'succeeded'),
        JSON.stringify(st.results),
      );
      // each of the 40 points ran exactly once: none was rerun after the restart
      assert.equal((w.log().match(/… succeeded/g) ?? []).length, 40, w.log());
      const { openCatalog } = await import('../../../src/engine/catalog/sqliteCatalog.ts');
      const cat = openCatalog(dataPaths(dataDir).catalog);
      try {
        const rows = cat.listRuns({ sweepId });
        assert.equal(rows.length, 40);
        assert.ok(rows.every((r) => r.materialized));
      } finally {
        cat.close();
      }
    } finally {
      await w.stop('SIGKILL');
      coord.p.kill('SIGTERM');
      await new Promise((r) => (coord.p.exitCode !== null ? r(null) : coord.p.once('exit', r)));
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  });
});
