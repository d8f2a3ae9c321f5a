import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JobQueue, type Job } from '../../../src/engine/jobs/jobQueue.ts';
import { parseToChild, parseToHost, parseJobParams, ProtocolError } from '../../../src/engine/jobs/protocol.ts';

const fixture = resolve('test/unit/jobs/fixtures/scriptedJob.ts');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function spec(mode: string, extra: Record<string, unknown> = {}) {
  return {
    kind: 'backtest' as const,
    title: mode,
    runId: `run-${mode}`,
    params: { dataDir: '/tmp/x', datasetId: 'ds_1', strategyId: 'sma-cross', runId: `run-${mode}`, params: { mode, ...extra } },
  };
}

describe('job protocol', () => {
  it('validates messages on arrival and names the bad field', () => {
    assert.deepEqual(parseToHost({ type: 'progress', phase: 'bars', done: 1, total: 2 }), {
      type: 'progress',
      phase: 'bars',
      done: 1,
      total: 2,
    });
    assert.throws(
      () => parseToHost({ type: 'progress', phase: 'bars', done: -1, total: 2 }),
      (e: Error) => e instanceof ProtocolError && /"progress".*done/.test(e.message),
    );
    assert.throws(() => parseToHost({ type: 'bogus' }), /to-host.*"bogus"/);
    assert.throws(() => parseToChild({ type: 'start', kind: 'nope', params: {} }), /to-child.*kind/);
    assert.deepEqual(parseToChild({ type: 'cancel' }), { type: 'cancel' });
  });

  it('applies defaults and rejects exclusive costs in backtest params', () => {
    const p = parseJobParams('backtest', { dataDir: 'd', datasetId: 'ds', strategyId: 's', params: {} });
    assert.equal(p.seed, 0);
    assert.equal(p.session, 'all');
    assert.deepEqual(p.costs, {});
    assert.throws(
      () =>
        parseJobParams('backtest', {
          dataDir: 'd',
          datasetId: 'ds',
          strategyId: 's',
          params: {},
          costs: { slippage_bps: 1, slippage: 'half-spread' },
        }),
      /costs.*exclusive/,
    );
    assert.throws(
      () => parseJobParams('fetch', { dataDir: 'd', apiKey: '', dataset: 'X', symbols: ['A'], schemas: ['trades'], start: 'a', end: 'b' }),
      /apiKey/,
    );
  });
});

describe('JobQueue with real child processes', function () {
  this.timeout(20000);
  let dir: string;
  let queue: JobQueue;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-jobs-'));
    // The queue forks <kind>Job.js; this one loads the TypeScript fixture (Node 24 strips types).
    writeFileSync(join(dir, 'backtestJob.js'), `import(${JSON.stringify(fixture)});\n`);
  });
  after(() => {
    queue?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a job through ready → start → progress → log → result', async () => {
    queue = new JobQueue({ jobsDir: dir, maxParallel: () => 2 });
    const job = queue.submit(spec('ok', { fast: 3 }));
    const progress: number[] = [];
    const logs: string[] = [];
    job.on('progress', (p) => progress.push(p.done));
    job.on('log', (_l, t) => logs.push(t));
    const out = await job.outcome;
    assert.deepEqual(out, {
      status: 'succeeded',
      result: { runId: 'run-ok', created: true, status: 'succeeded', inputHash: 'h', artifactsDir: 'fast=3', metrics: { fast: 3 } },
    });
    assert.equal(progress.at(-1), 3, 'the final progress message is never throttled away');
    assert.ok(logs.includes('running sma-cross'));
    assert.equal(job.state, 'succeeded');
  });

  it("refuses a result that breaks its kind's result schema: failed, naming the field", async () => {
    queue = new JobQueue({ jobsDir: dir, maxParallel: () => 1 });
    const out = await queue.submit(spec('bad-result')).outcome;
    assert.ok(out.status === 'failed' && !out.crashed, JSON.stringify(out));
    assert.match((out as { message: string }).message, /invalid backtest result: runId: .*string/);
  });

  it('reports a thrown error as failed with the message, not a crash', async () => {
    queue = new JobQueue({ jobsDir: dir, maxParallel: () => 1 });
    const out = await queue.submit(spec('throw')).outcome;
    assert.equal(out.status, 'failed');
    assert.ok(out.status === 'failed' && out.message === 'strategy blew up at bar 7' && !out.crashed);
  });

  it('detects a crashed child and quotes its stderr', async () => {
    queue = new JobQueue({ jobsDir: dir, maxParallel: () => 1 });
    const out = await queue.submit(spec('crash')).outcome;
    assert.ok(out.status === 'failed' && out.crashed, JSON.stringify(out));
    assert.match((out as { message: string }).message, /exited with code 3.*simulated native crash/s);
  });

  it('cancel of a cooperative child ends canceled and the process is gone', async () => {
    queue = new JobQueue({ jobsDir: dir, maxParallel: () => 1 });
    const job = queue.submit(spec('cooperative'));
    await waitFor(() => job.state === 'running' && job.pid !== undefined);
    await new Promise((r) => setTimeout(r, 300));
    job.cancel();
    assert.deepEqual(await job.outcome, { status: 'canceled' });
    await waitFor(() => !alive(job.pid!));
  });

  it('cancel kills a child that ignores it (SIGKILL after the grace period)', async () => {
    queue = new JobQueue({ jobsDir: dir, maxParallel: () => 1, cancelGraceMs: 200 });
    const job = queue.submit(spec('stubborn'));
    await new Promise<void>((r) => job.once('progress', () => r()));
    const pid = job.pid!;
    const t0 = Date.now();
    job.cancel();
    assert.deepEqual(await job.outcome, { status: 'canceled' });
    assert.equal(job.child!.signalCode, 'SIGKILL');
    assert.ok(!alive(pid));
    assert.ok(Date.now() - t0 >= 150);
  });

  it('honours maxParallel: the rest wait in FIFO order', async () => {
    queue = new JobQueue({ jobsDir: dir, maxParallel: () => 1 });
    const order: number[] = [];
    const a = queue.submit(spec('cooperative'));
    const b = queue.submit(spec('ok'));
    const c = queue.submit(spec('ok'));
    for (const j of [a, b, c] as Job[]) j.on('state', (s) => s === 'running' && order.push(j.id));
    await waitFor(() => a.state === 'running');
    assert.equal(queue.running, 1);
    assert.equal(queue.queued, 2);
    assert.equal(b.state, 'queued');
    c.cancel(); // a queued job is simply dropped
    assert.equal(c.state, 'canceled');
    a.cancel();
    await b.outcome;
    assert.equal((await c.outcome).status, 'canceled');
    assert.equal(c.pid, undefined, 'a canceled queued job never forks');
    assert.deepEqual(order, [b.id]);
    assert.equal(queue.running + queue.queued, 0);
  });
});

async function waitFor(cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
