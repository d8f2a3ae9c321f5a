/**
 * `btnb serve`: GET /datasets, GET /datasets/{id}, and POST /datasets (the seed's
 * ensure_dataset) against a real server on 127.0.0.1 with a real catalog and a real synth job.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { Dataset, DatasetJobAccepted, DatasetsList, Problem } from '../../../src/engine/server/api.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';
import { startFakeDatabento } from '../../support/fakeDatabento.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

type Server = Awaited<ReturnType<typeof buildServer>>;

async function problemOf(res: Response, status: number): Promise<Problem> {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  return Problem.parse(await res.json());
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/datasets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('btnb serve: datasets', function () {
  this.timeout(120_000);
  let dataDir = '';
  let datasetId = '';
  let s: Server;
  let url = '';
  const savedKey = process.env.DATABENTO_API_KEY;
  const savedBase = process.env.DATABENTO_BASE_URL;

  before(async () => {
    ({ dataDir, datasetId } = await makeDataDir(2000, 3));
    delete process.env.DATABENTO_API_KEY;
    s = await buildServer({ dataDir, jobsDir: jobsDirFor(MAIN), token: null, maxJobs: 1, maxQueued: 8 });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    if (savedKey !== undefined) process.env.DATABENTO_API_KEY = savedKey;
    else delete process.env.DATABENTO_API_KEY;
    if (savedBase !== undefined) process.env.DATABENTO_BASE_URL = savedBase;
    else delete process.env.DATABENTO_BASE_URL;
    await s?.close();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('GET /datasets lists the catalog’s datasets; GET /datasets/{id} one; unknown → 404', async () => {
    const res = await fetch(`${url}/datasets`);
    assert.equal(res.status, 200);
    const list = DatasetsList.parse(await res.json());
    assert.equal(list.datasets.length, 1);
    const d = list.datasets[0]!;
    assert.equal(d.dataset_id, datasetId);
    assert.equal(d.symbol, 'SYN');
    assert.equal(d.status, 'ready');
    assert.equal(d.bar_count, 2000);

    const one = Dataset.parse(await (await fetch(`${url}/datasets/${datasetId}`)).json());
    assert.deepEqual(one, d);
    const p = await problemOf(await fetch(`${url}/datasets/ds_ffffffffffffffff`), 404);
    assert.equal(p.field, 'params.id');
  });

  it('POST /datasets: a ready dataset covering the dates is answered with 200', async () => {
    const res = await post(url, { symbol: 'SYN', start: '2024-03-04', end: '2024-03-05', source: 'synth' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('location'), `/datasets/${datasetId}`);
    assert.equal(Dataset.parse(await res.json()).dataset_id, datasetId);
  });

  it('POST /datasets: bad bodies → 400, databento without a key or dataset → 422, no trading day → 422', async () => {
    await problemOf(await post(url, { symbol: 'SYN', start: '2024-13-04', end: '2024-03-05' }), 400);
    const order = await problemOf(await post(url, { symbol: 'SYN', start: '2024-03-06', end: '2024-03-05' }), 400);
    assert.equal(order.field, 'body.end');
    await problemOf(await post(url, { symbol: 'SYN', start: '2024-03-04', end: '2024-03-05', source: 'yahoo' }), 400);
    await problemOf(await post(url, { symbol: 'SYN', start: '2024-03-04', end: '2024-03-05', extra: 1 }), 400);
    await problemOf(await post(url, { symbol: '../x', start: '2024-03-04', end: '2024-03-05' }), 400);
    const noDs = await problemOf(await post(url, { symbol: 'AAPL', start: '2024-03-04', end: '2024-03-05', source: 'databento' }), 422);
    assert.equal(noDs.field, 'body.databento_dataset');
    const noKey = await problemOf(
      await post(url, { symbol: 'AAPL', start: '2024-03-04', end: '2024-03-05', source: 'databento', databento_dataset: 'XNAS.ITCH' }),
      422,
    );
    assert.match(noKey.detail, /DATABENTO_API_KEY/);
    // a weekend has no session to synthesise
    await problemOf(await post(url, { symbol: 'WKND', start: '2024-03-09', end: '2024-03-10' }), 422);
  });

  it('POST /datasets: a missing dataset is synthesised by a job (202 + Location), then answered with 200', async () => {
    const body = { symbol: 'demo', start: '2024-03-04', end: '2024-03-04', source: 'synth', seed: 5 };
    const res = await post(url, body);
    assert.equal(res.status, 202);
    const { job_id } = DatasetJobAccepted.parse(await res.json());
    assert.equal(res.headers.get('location'), `/jobs/${job_id}`);
    // the same request while the job runs shares it
    const again = await post(url, body);
    assert.equal(again.status, 202);
    assert.equal(DatasetJobAccepted.parse(await again.json()).job_id, job_id);

    const job = s.ctx.jobs.list().find((j) => String(j.id) === job_id);
    assert.ok(job, 'the job is in the queue');
    const outcome = await job.outcome;
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));

    const list = DatasetsList.parse(await (await fetch(`${url}/datasets`)).json());
    const demo = list.datasets.find((d) => d.symbol === 'DEMO');
    assert.ok(demo, 'the synthesised dataset is in the catalog');
    assert.equal(demo.status, 'ready');
    assert.ok((demo.bar_count ?? 0) > 0);
    assert.ok(demo.sources.length > 0);
    assert.ok(demo.sources.every((src) => src.first_ts_recv === null || /^\d+$/.test(src.first_ts_recv)));

    const done = await post(url, body);
    assert.equal(done.status, 200);
    assert.equal(Dataset.parse(await done.json()).dataset_id, demo.dataset_id);
  });

  it('POST /datasets source databento: fetched by a job with the server’s key (never echoed), imported, then answered with 200', async () => {
    const KEY = 'db-SERVEserveSERVEserveSERVEserv';
    const fake = await startFakeDatabento({
      key: KEY,
      files: { trades: 'test/fixtures/dbn/test_data.trades.v3.dbn.zst', tbbo: 'test/fixtures/dbn/test_data.tbbo.v3.dbn.zst' },
    });
    process.env.DATABENTO_API_KEY = KEY;
    process.env.DATABENTO_BASE_URL = fake.url;
    try {
      const body = { symbol: 'ESH1', start: '2020-12-28', end: '2020-12-28', source: 'databento', databento_dataset: 'GLBX.MDP3' };
      const res = await post(url, body);
      const text = await res.text();
      assert.equal(res.status, 202, text);
      const { job_id } = DatasetJobAccepted.parse(JSON.parse(text));
      const events = fetch(`${url}/jobs/${job_id}/events`).then((r) => r.text());
      const job = s.ctx.jobs.list().find((j) => String(j.id) === job_id);
      assert.ok(job, 'the fetch job is in the queue');
      assert.equal(job.spec.kind, 'fetch');
      const outcome = await job.outcome;
      assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
      // the API was asked with the server's key, for the day asked (Databento's end is exclusive)
      const ranges = fake.requests.filter((r) => r.endpoint === 'timeseries.get_range');
      assert.deepEqual(ranges.map((r) => r.form.schema).sort(), ['tbbo', 'trades']);
      assert.ok(ranges.every((r) => r.authOk && r.form.start === '2020-12-28' && r.form.end === '2020-12-29'));

      const info = await (await fetch(`${url}/jobs/${job_id}`)).text();
      const stream = await events;
      for (const [what, t] of [
        ['job', info],
        ['events', stream],
        ['accepted', text],
      ] as const)
        assert.ok(!t.includes(KEY), `${what} must not carry the API key`);
      assert.match(stream, /event: end/);

      const list = DatasetsList.parse(await (await fetch(`${url}/datasets`)).json());
      const es = list.datasets.find((d) => d.symbol === 'ESH1');
      assert.ok(es, 'the fetched dataset is in the catalog');
      assert.deepEqual(es.sources.map((x) => x.schema).sort(), ['tbbo', 'trades']);
      const again = await post(url, body);
      assert.equal(again.status, 200);
      assert.equal(Dataset.parse(await again.json()).dataset_id, es.dataset_id);
    } finally {
      await fake.close();
    }
  });
});
