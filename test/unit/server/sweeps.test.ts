/**
 * POST/GET/DELETE /sweeps and GET /jobs/{id}(/events) against a real `btnb serve` app on
 * 127.0.0.1 with a real catalog and real sweep job children (run from the sources).
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { buildServer } from '../../../src/engine/server/app.ts';
import { sseSettings } from '../../../src/engine/server/routes/jobs.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';
import { walkForward } from '../../../src/engine/sweep/walkForward.ts';
import { gridPoints } from '../../../src/engine/sweep/grid.ts';
import { smaCross } from '../../../src/engine/strategies/smaCross.ts';

type Server = Awaited<ReturnType<typeof buildServer>>;
type Json = Record<string, unknown>;

const jobsDir = jobsDirFor(new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname);

async function start(dataDir: string, maxJobs = 2, maxQueued = 8): Promise<{ s: Server; base: string }> {
  const s = await buildServer({ dataDir, jobsDir, token: null, maxJobs, maxQueued });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = s.app.server.address();
  assert.ok(addr && typeof addr === 'object');
  return { s, base: `http://127.0.0.1:${addr.port}` };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: Json }> {
  const res = await fetch(base + path, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Json) : {} };
}

async function until(base: string, path: string, done: (j: Json) => boolean, ms = 90_000): Promise<Json> {
  const t0 = Date.now();
  for (;;) {
    const r = await call(base, 'GET', path);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    if (done(r.json)) return r.json;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting on ${path}: ${JSON.stringify(r.json)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads an SSE stream to its end (or until `stopAfter` says so), with fetch's body reader. */
async function readEvents(
  url: string,
  stopAfter?: (e: SseEvent) => boolean,
  signal?: AbortSignal,
): Promise<{ headers: Headers; events: SseEvent[]; comments: string[] }> {
  const res = await fetch(url, signal ? { signal } : {});
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const events: SseEvent[] = [];
  const comments: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          comments.push(line.slice(1).trim());
          if (stopAfter?.({ event: ':', data: line.slice(1).trim() })) {
            await reader.cancel();
            return { headers: res.headers, events, comments };
          }
        } else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) {
        const e = { event, data: JSON.parse(data) as unknown };
        events.push(e);
        if (stopAfter?.(e)) {
          await reader.cancel();
          return { headers: res.headers, events, comments };
        }
      }
    }
  }
  return { headers: res.headers, events, comments };
}

describe('btnb serve: sweeps and jobs', function () {
  this.timeout(180_000);
  let dataDir: string;
  let datasetId: string;
  let bars: Awaited<ReturnType<typeof makeDataDir>>['bars'];
  let srv: { s: Server; base: string };

  before(async () => {
    ({ dataDir, datasetId, bars } = await makeDataDir(2000, 7));
    srv = await start(dataDir);
  });
  after(async () => {
    await srv?.s.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('POST /sweeps runs the grid as a job; GET /sweeps/{id} answers the catalog runs best first, refusals apart', async () => {
    const { base, s } = srv;
    const post = await call(base, 'POST', '/sweeps', {
      dataset_id: datasetId,
      strategy_id: 'sma-cross',
      grid: { fast: [5, 10], slow: '8:28:20' },
      artifacts: 'top:1',
    });
    assert.equal(post.status, 202, JSON.stringify(post.json));
    const jobId = post.json.job_id as string;
    assert.match(jobId, /^\d+$/);
    assert.equal(post.headers.get('location'), `/sweeps/${jobId}`);
    assert.ok(['queued', 'running'].includes(post.json.status as string));

    const st = await until(base, `/sweeps/${jobId}`, (j) => j.status !== 'queued' && j.status !== 'running');
    assert.equal(st.status, 'succeeded', JSON.stringify(st));
    assert.equal(st.points, 4);
    assert.deepEqual(st.progress, { done: 4, total: 4 });
    // fast=10, slow=8 is refused by the schema (slow must be greater than fast)
    const skipped = st.skipped as { params: Json; error: string }[];
    assert.equal(skipped.length, 1);
    assert.deepEqual(skipped[0]!.params, { fast: 10, slow: 8 });
    assert.match(skipped[0]!.error, /slow must be greater than fast/);
    const results = st.results as { params: Json; run_id: string; status: string; metrics: Record<string, number | null> }[];
    assert.equal(results.length, 3);
    assert.equal(st.runs, 3);
    assert.equal(st.failed, 0);
    const sharpe = results.map((r) => r.metrics.sharpe ?? -Infinity);
    assert.deepEqual(
      sharpe,
      [...sharpe].sort((a, b) => b - a),
      'best first by sharpe',
    );

    const sweepId = st.sweep_id as string;
    assert.match(sweepId, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    const rows = s.ctx.catalog.listRuns({ sweepId });
    assert.equal(rows.length, 3);
    const byId = new Map(rows.map((r) => [r.run_id, r]));
    for (const r of results) {
      const row = byId.get(r.run_id);
      assert.ok(row, `run ${r.run_id} of the sweep is in the catalog`);
      assert.equal(r.status, 'succeeded');
      for (const [k, v] of Object.entries(r.params)) assert.deepEqual(row.params[k], v, `${k} of ${r.run_id}`);
      assert.deepEqual(r.metrics, row.metrics);
    }

    // the same sweep by its sweep id
    const bySweep = await call(base, 'GET', `/sweeps/${sweepId}`);
    assert.equal(bySweep.status, 200);
    assert.deepEqual(bySweep.json, st);

    // the job
    const job = await call(base, 'GET', `/jobs/${jobId}`);
    assert.equal(job.status, 200);
    assert.equal(job.json.kind, 'sweep');
    assert.equal(job.json.state, 'succeeded');
    assert.match(job.json.title as string, /^sweep sma-cross/);

    // finished: DELETE is a conflict
    const del = await call(base, 'DELETE', `/sweeps/${jobId}`);
    assert.equal(del.status, 409);

    // another server (a restart) rebuilds the results from the catalog by sweep id
    const other = await start(dataDir);
    try {
      const rebuilt = await call(other.base, 'GET', `/sweeps/${sweepId}`);
      assert.equal(rebuilt.status, 200, JSON.stringify(rebuilt.json));
      assert.equal(rebuilt.json.status, 'succeeded');
      assert.equal(rebuilt.json.job_id, null);
      const again = rebuilt.json.results as { run_id: string; metrics: unknown; params: Json }[];
      assert.deepEqual(
        again.map((r) => r.run_id),
        results.map((r) => r.run_id),
      );
      assert.deepEqual(
        again.map((r) => r.metrics),
        results.map((r) => r.metrics),
      );
      assert.equal((await call(other.base, 'GET', `/sweeps/${jobId}`)).status, 404);
      assert.equal((await call(other.base, 'GET', '/sweeps/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status, 404);
    } finally {
      await other.s.close();
    }
  });

  it('POST /sweeps with walk_forward: the folds, their out-of-sample catalog runs and the stitched metrics equal an in-memory walk-forward', async () => {
    const { base, s } = srv;
    const grid = { fast: [3, 5], slow: [10, 20] };
    const post = await call(base, 'POST', '/sweeps', {
      dataset_id: datasetId,
      strategy_id: 'sma-cross',
      grid,
      walk_forward: { train_days: 2, test_days: 1 },
      sort: 'total_return',
    });
    assert.equal(post.status, 202, JSON.stringify(post.json));
    const st = await until(base, `/sweeps/${post.json.job_id as string}`, (j) => j.status !== 'queued' && j.status !== 'running');
    assert.equal(st.status, 'succeeded', JSON.stringify(st));
    const mem = walkForward({
      bars,
      strategy: smaCross,
      points: gridPoints([
        ['fast', grid.fast],
        ['slow', grid.slow],
      ]),
      trainDays: 2,
      testDays: 1,
      sortKey: 'total_return',
      seed: 0,
      costs: {},
      session: 'all',
    });
    assert.ok(mem.folds.length >= 2, `several folds (${mem.folds.length})`);
    const wf = st.walk_forward as {
      folds: {
        fold: number;
        train_start: string;
        test_end: string;
        params: Json;
        train_score: number;
        test_return: number;
        run_id: string;
      }[];
      metrics: Json;
    };
    assert.equal(wf.folds.length, mem.folds.length);
    wf.folds.forEach((f, i) => {
      const m = mem.folds[i]!;
      assert.equal(f.fold, i + 1);
      assert.deepEqual([f.train_start, f.test_end], [m.train_start, m.test_end], `fold ${i + 1} dates`);
      assert.deepEqual(f.params, m.best_params, `fold ${i + 1} params`);
      assert.equal(f.train_score, m.train_score);
      assert.equal(f.test_return, m.test_return);
      const run = s.ctx.catalog.getRun(f.run_id)!;
      assert.equal(run.status, 'succeeded');
      assert.ok(run.tags.includes(`fold:${i + 1}`), JSON.stringify(run.tags));
    });
    assert.deepEqual(wf.metrics, JSON.parse(JSON.stringify(mem.metrics)));
    // results: one out-of-sample run per fold, in fold order (not re-sorted)
    assert.deepEqual(
      (st.results as { run_id: string }[]).map((r) => r.run_id),
      wf.folds.map((f) => f.run_id),
    );
  });

  it('GET /jobs/{id}/events streams progress, then end with the outcome, and closes', async () => {
    const { base } = srv;
    const post = await call(base, 'POST', '/sweeps', {
      dataset_id: datasetId,
      strategy_id: 'sma-cross',
      grid: { fast: '2:6:2', slow: [20, 40] },
      seed: 3,
      artifacts: 'none',
    });
    assert.equal(post.status, 202, JSON.stringify(post.json));
    const { headers, events } = await readEvents(`${base}/jobs/${post.json.job_id as string}/events`);
    assert.match(headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(headers.get('cache-control'), 'no-cache');
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data as { phase: string; done: number; total: number });
    assert.ok(progress.length > 0, JSON.stringify(events));
    assert.ok(progress.every((p) => p.phase === 'sweep' && p.total === 6));
    assert.deepEqual(progress.at(-1), { phase: 'sweep', done: 6, total: 6 });
    const end = events.at(-1)!;
    assert.equal(end.event, 'end');
    const outcome = end.data as { status: string; result: { sweepId: string; total: number } };
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.result.total, 6);
    // a finished job answers its end at once
    const late = await readEvents(`${base}/jobs/${post.json.job_id as string}/events`);
    assert.equal(late.events.at(-1)!.event, 'end');
    assert.equal((await call(base, 'GET', '/jobs/9999')).status, 404);
    assert.equal((await call(base, 'GET', '/jobs/9999/events')).status, 404);
  });

  it('refuses bad grids (422 naming the key), unknown datasets (404), bad bodies (400)', async () => {
    const { base } = srv;
    const body = { dataset_id: datasetId, strategy_id: 'sma-cross' };
    let r = await call(base, 'POST', '/sweeps', { ...body, grid: { fast: [5], slow: '30:10:5' } });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'body.grid.slow');
    assert.match(r.json.detail as string, /slow/);
    r = await call(base, 'POST', '/sweeps', { ...body, grid: { fast: [] } });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'body.grid.fast');
    r = await call(base, 'POST', '/sweeps', { ...body, grid: { fast: [20], slow: [10] } });
    assert.equal(r.status, 422, 'no valid point');
    assert.match(r.json.detail as string, /slow must be greater than fast/);
    r = await call(base, 'POST', '/sweeps', { ...body, grid: { fast: [5], slow: [30], bogus: [1] } });
    assert.equal(r.status, 422);
    assert.match(r.json.detail as string, /bogus: unknown parameter/);
    r = await call(base, 'POST', '/sweeps', { ...body, grid: { fast: [5] }, fixed: { fast: 3 } });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'body.fixed.fast');
    r = await call(base, 'POST', '/sweeps', { ...body, grid: { fast: [5] }, sort: 'luck' });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'body.sort');
    r = await call(base, 'POST', '/sweeps', { ...body, grid: { fast: [5] }, artifacts: 'some' });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'body.artifacts');
    r = await call(base, 'POST', '/sweeps', { ...body, strategy_id: './evil.ts', grid: { fast: [5] } });
    assert.equal(r.status, 422);
    r = await call(base, 'POST', '/sweeps', { ...body, dataset_id: 'ds_0000000000000000', grid: { fast: [5], slow: [30] } });
    assert.equal(r.status, 404, JSON.stringify(r.json));
    r = await call(base, 'POST', '/sweeps', { ...body, params: { fast: 5 }, grid: { fast: [5] } });
    assert.equal(r.status, 400);
    r = await call(base, 'GET', '/sweeps/nope');
    assert.equal(r.status, 400);
  });

  it('answers 429 with Retry-After on a full queue; DELETE cancels queued and running sweeps; SSE clients leave no listeners', async () => {
    const small = await start(dataDir, 1, 1);
    try {
      const { base, s } = small;
      const body = { dataset_id: datasetId, strategy_id: 'sma-cross', grid: { fast: '1:40:1', slow: '41:140:1' }, artifacts: 'none' };
      const a = await call(base, 'POST', '/sweeps', { ...body, seed: 11 });
      assert.equal(a.status, 202);
      const b = await call(base, 'POST', '/sweeps', { ...body, seed: 12 });
      assert.equal(b.status, 202);
      assert.equal(b.json.status, 'queued');
      const c = await call(base, 'POST', '/sweeps', { ...body, seed: 13 });
      assert.equal(c.status, 429);
      assert.equal(c.headers.get('retry-after'), '5');

      // a client that goes away takes its listeners with it
      const job = s.ctx.jobs.list().find((j) => String(j.id) === a.json.job_id)!;
      const before = job.listenerCount('progress');
      const ac = new AbortController();
      sseSettings.heartbeatMs = 30;
      let beat;
      try {
        beat = await readEvents(`${base}/jobs/${a.json.job_id as string}/events`, (e) => e.event === ':' && e.data === 'hb', ac.signal);
      } finally {
        sseSettings.heartbeatMs = 15_000;
      }
      ac.abort();
      assert.ok(beat.comments.includes('hb'), 'a heartbeat comment');
      assert.equal(beat.events[0]?.event, 'state');
      for (let i = 0; i < 50 && job.listenerCount('progress') > before; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(job.listenerCount('progress'), before);

      const delB = await call(base, 'DELETE', `/sweeps/${b.json.job_id as string}`);
      assert.equal(delB.status, 202);
      assert.equal(delB.json.status, 'canceled');
      const delA = await call(base, 'DELETE', `/sweeps/${a.json.job_id as string}`);
      assert.equal(delA.status, 202, JSON.stringify(delA.json));
      const stA = await until(base, `/sweeps/${a.json.job_id as string}`, (j) => j.status !== 'queued' && j.status !== 'running');
      assert.equal(stA.status, 'canceled');
      assert.equal(stA.results, null);
      assert.equal((await call(base, 'DELETE', `/sweeps/${a.json.job_id as string}`)).status, 409);
      assert.equal((await call(base, 'GET', `/jobs/${b.json.job_id as string}`)).json.state, 'canceled');
      assert.equal((await call(base, 'DELETE', '/sweeps/77')).status, 404);
    } finally {
      await small.s.close();
    }
  });

  it('a server that stops ends its open event streams with end: stopped', async () => {
    const one = await start(dataDir, 1, 1);
    const post = await call(one.base, 'POST', '/sweeps', {
      dataset_id: datasetId,
      strategy_id: 'sma-cross',
      grid: { fast: '1:40:1', slow: '41:140:1' },
      seed: 21,
      artifacts: 'none',
    });
    assert.equal(post.status, 202);
    let opened!: () => void;
    const isOpen = new Promise<void>((r) => (opened = r));
    const reading = readEvents(`${one.base}/jobs/${post.json.job_id as string}/events`, (e) => {
      if (e.event === 'state') opened();
      return false;
    });
    await isOpen;
    await one.s.close();
    const { events } = await reading;
    assert.deepEqual(events.at(-1), { event: 'end', data: { status: 'stopped' } });
  });
});
