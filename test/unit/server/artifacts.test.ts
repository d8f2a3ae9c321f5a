/**
 * `btnb serve`: a run's artifacts (allow-list, ETag/304, byte ranges/206/416, traversal → 404,
 * a light sweep point materialised on demand), its series window and its paged tables, against
 * a real server on 127.0.0.1 with a real catalog.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Job } from '../../../src/engine/jobs/jobQueue.ts';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { runSweep } from '../../../src/engine/sweep/sweep.ts';
import { gridPoints } from '../../../src/engine/sweep/grid.ts';
import { readArtifactColumns } from '../../../src/engine/backtest/artifactReader.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { Problem, RunSeriesWindow, RunTablePage } from '../../../src/engine/server/api.ts';
import { parseRange } from '../../../src/engine/server/routes/artifacts.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

type Server = Awaited<ReturnType<typeof buildServer>>;

async function problemOf(res: Response, status: number): Promise<Problem> {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  return Problem.parse(await res.json());
}

describe('btnb serve: artifacts, series and tables of a run', function () {
  this.timeout(120_000);
  let dataDir = '';
  let s: Server;
  let url = '';
  let runId = '';
  let fillCount = 0;
  let lightId = '';
  let queuedId = '';

  before(async () => {
    const made = await makeDataDir(4000, 7);
    dataDir = made.dataDir;
    const out = await runBacktestToCatalog({ dataDir, datasetId: made.datasetId, strategy: 'sma-cross', params: { fast: 3, slow: 12 } });
    runId = out.run.run_id;
    const sweep = await runSweep({
      dataDir,
      datasetId: made.datasetId,
      strategy: 'sma-cross',
      points: gridPoints([
        ['fast', [4]],
        ['slow', [25, 40]],
      ]),
      seed: 0,
      costs: {},
      session: 'all',
      force: false,
      workers: 1,
      artifacts: { kind: 'none' },
    });
    const cat = openCatalog(dataPaths(dataDir).catalog);
    try {
      const points = cat.listRuns({ sweepId: sweep.sweep_id });
      assert.equal(points.length, 2);
      assert.ok(points.every((p) => p.status === 'succeeded' && !p.materialized));
      lightId = points[0]!.run_id;
      queuedId = cat.createRun({
        input_hash: 'f'.repeat(64),
        dataset_id: made.datasetId,
        symbol: 'SYN',
        strategy_id: 'sma-cross',
        params: { fast: 2, slow: 9 },
        seed: 0,
        costs: {},
        session: 'all',
        code_hash: 'x',
        engine_version: 'x',
        sweep_id: null,
        tags: [],
      }).run.run_id;
    } finally {
      cat.close();
    }
    s = await buildServer({ dataDir, jobsDir: jobsDirFor(MAIN), token: null, maxJobs: 1, maxQueued: 8 });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
    // the run's fill count, from its fills.parquet
    fillCount = (await readArtifactColumns(dataPaths(dataDir).runFills(runId), { price: { kind: 'f64' } })).rows;
    assert.ok(fillCount > 10, `the run has fills (${fillCount})`);
  });

  after(async () => {
    await s?.close();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('serves each artifact byte for byte with its content type and a strong ETag', async () => {
    const p = dataPaths(dataDir);
    const files = {
      'metrics.json': [p.runMetrics(runId), /^application\/json/],
      'run-manifest.json': [p.runManifest(runId), /^application\/json/],
      'equity.parquet': [p.runEquity(runId), /^application\/vnd\.apache\.parquet$/],
      'orders.parquet': [p.runOrders(runId), /^application\/vnd\.apache\.parquet$/],
      'fills.parquet': [p.runFills(runId), /^application\/vnd\.apache\.parquet$/],
      'trades.parquet': [p.runTrades(runId), /^application\/vnd\.apache\.parquet$/],
    } as const;
    for (const [name, [path, type]] of Object.entries(files)) {
      const res = await fetch(`${url}/backtests/${runId}/artifacts/${name}`);
      assert.equal(res.status, 200, name);
      assert.match(res.headers.get('content-type') ?? '', type, name);
      const body = Buffer.from(await res.arrayBuffer());
      assert.deepEqual(body, readFileSync(path), name);
      assert.equal(res.headers.get('content-length'), String(body.length));
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      const etag = res.headers.get('etag');
      assert.match(etag ?? '', /^"[A-Za-z0-9_-]{43}"$/, `${name}: a strong ETag`);
      // the same tag again (cached), and 304 when the client has it
      const again = await fetch(`${url}/backtests/${runId}/artifacts/${name}`, { method: 'HEAD' });
      assert.equal(again.headers.get('etag'), etag);
      const nm = await fetch(`${url}/backtests/${runId}/artifacts/${name}`, { headers: { 'If-None-Match': etag! } });
      assert.equal(nm.status, 304, name);
      assert.equal((await nm.arrayBuffer()).byteLength, 0);
      assert.equal(nm.headers.get('etag'), etag);
      const other = await fetch(`${url}/backtests/${runId}/artifacts/${name}`, { headers: { 'If-None-Match': '"nope"' } });
      assert.equal(other.status, 200);
      await other.arrayBuffer();
    }
  });

  it('answers byte ranges with 206 and the slice, and 416 outside the file', async () => {
    const bytes = readFileSync(dataPaths(dataDir).runFills(runId));
    const n = bytes.length;
    const cases: [string, number, number][] = [
      ['bytes=0-3', 0, 3],
      ['bytes=10-99', 10, 99],
      [`bytes=${n - 20}-`, n - 20, n - 1],
      ['bytes=-8', n - 8, n - 1],
      [`bytes=5-${n + 1000}`, 5, n - 1],
    ];
    for (const [range, a, b] of cases) {
      const res = await fetch(`${url}/backtests/${runId}/artifacts/fills.parquet`, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${a}-${b}/${n}`, range);
      assert.equal(res.headers.get('content-length'), String(b - a + 1));
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes.subarray(a, b + 1), range);
    }
    const bad = await fetch(`${url}/backtests/${runId}/artifacts/fills.parquet`, { headers: { Range: `bytes=${n}-` } });
    await problemOf(bad, 416);
    assert.equal(bad.headers.get('content-range'), `bytes */${n}`);
    // If-Range with another tag: the whole file
    const stale = await fetch(`${url}/backtests/${runId}/artifacts/fills.parquet`, {
      headers: { Range: 'bytes=0-3', 'If-Range': '"old"' },
    });
    assert.equal(stale.status, 200);
    assert.equal((await stale.arrayBuffer()).byteLength, n);
    // parseRange by itself
    assert.equal(parseRange(undefined, 10), null);
    assert.equal(parseRange('bytes=0-1,4-5', 10), null);
    assert.equal(parseRange('items=0-1', 10), null);
    assert.equal(parseRange('bytes=5-2', 10), null);
    assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.deepEqual(parseRange('bytes=-100', 10), { start: 0, end: 9 });
  });

  it('serves only the run’s own files: other names and path traversal are 404', async () => {
    for (const name of [
      '..%2Fcatalog.sqlite',
      '..%2F..%2Fcatalog.sqlite',
      '%2E%2E%2Fcatalog.sqlite',
      '..%5Ccatalog.sqlite',
      'catalog.sqlite',
      'metrics.json%00',
      'metrics.json.tmp',
      '.',
      '%2Fetc%2Fpasswd',
    ]) {
      const res = await fetch(`${url}/backtests/${runId}/artifacts/${name}`);
      assert.equal(res.status, 404, name);
      assert.doesNotMatch(Buffer.from(await res.arrayBuffer()).toString('latin1'), /SQLite format/, name);
    }
    const p = await problemOf(await fetch(`${url}/backtests/${runId}/artifacts/..%2Fcatalog.sqlite`), 404);
    assert.equal(p.field, 'params.name');
  });

  it('answers 404 for an unknown run, 409 for one not succeeded, 400 for a bad id', async () => {
    await problemOf(await fetch(`${url}/backtests/01ARZ3NDEKTSV4RRFFQ69G5FAV/artifacts/metrics.json`), 404);
    await problemOf(await fetch(`${url}/backtests/01ARZ3NDEKTSV4RRFFQ69G5FAV/series`), 404);
    await problemOf(await fetch(`${url}/backtests/01ARZ3NDEKTSV4RRFFQ69G5FAV/fills`), 404);
    for (const path of ['artifacts/metrics.json', 'series', 'fills', 'orders', 'trades'])
      await problemOf(await fetch(`${url}/backtests/${queuedId}/${path}`), 409);
    await problemOf(await fetch(`${url}/backtests/not-a-run/artifacts/metrics.json`), 400);
  });

  it('materialises a light sweep point on GET, once, in a job child (not on the event loop)', async () => {
    const cat = openCatalog(dataPaths(dataDir).catalog);
    const jobs: { kind: string; pid: number | undefined; state: string }[] = [];
    const onJob = (j: Job) => j.on('state', (st) => jobs.push({ kind: j.spec.kind, pid: j.pid, state: st }));
    s.ctx.jobs.on('job', onJob);
    try {
      assert.equal(cat.getRun(lightId)!.materialized, false);
      // three readers at once (the artifact, the series, the fills page) share one materialisation
      const [res, series, page] = await Promise.all([
        fetch(`${url}/backtests/${lightId}/artifacts/metrics.json`),
        fetch(`${url}/backtests/${lightId}/series?points=20`),
        fetch(`${url}/backtests/${lightId}/fills?limit=5`),
      ]);
      assert.equal(res.status, 200);
      assert.equal(series.status, 200);
      assert.equal(page.status, 200);
      const body = Buffer.from(await res.arrayBuffer());
      assert.deepEqual(body, readFileSync(dataPaths(dataDir).runMetrics(lightId)));
      assert.equal(cat.getRun(lightId)!.materialized, true);
      const done = jobs.filter((j) => j.state === 'succeeded');
      assert.deepEqual(
        done.map((j) => j.kind),
        ['materialize'],
        'one materialize job',
      );
      assert.ok(done[0]!.pid !== undefined && done[0]!.pid !== process.pid, 'run by a child process');
      const fills = await fetch(`${url}/backtests/${lightId}/artifacts/fills.parquet`);
      assert.equal(fills.status, 200);
      assert.deepEqual(Buffer.from(await fills.arrayBuffer()), readFileSync(dataPaths(dataDir).runFills(lightId)));
    } finally {
      s.ctx.jobs.off('job', onJob);
      cat.close();
    }
  });

  it("refuses (409, nothing written) a light point whose strategy changed since it ran: the child's error maps back", async () => {
    const other = openCatalog(dataPaths(dataDir).catalog);
    const light2 = other.listRuns({}).find((r) => r.status === 'succeeded' && !r.materialized)!.run_id;
    other.close();
    const db = new Database(dataPaths(dataDir).catalog);
    db.prepare('UPDATE runs SET code_hash = ? WHERE run_id = ?').run('0'.repeat(64), light2);
    db.close();
    const p = await problemOf(await fetch(`${url}/backtests/${light2}/artifacts/metrics.json`), 409);
    assert.match(p.detail ?? '', /strategy sma-cross changed since the run was recorded/);
    assert.equal(existsSync(dataPaths(dataDir).runDir(light2)), false, 'no directory written');
    // the replay's loader says the same (a run it cannot show), and the server stays healthy
    const series = await problemOf(await fetch(`${url}/backtests/${light2}/series`), 409);
    assert.match(series.detail ?? '', /changed since the run was recorded/);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });

  it('GET /series: the whole run or a time window, decimated, every fill kept', async () => {
    const whole = RunSeriesWindow.parse(await (await fetch(`${url}/backtests/${runId}/series?points=50`)).json());
    assert.equal(whole.from, 0);
    assert.equal(whole.to, 4000);
    assert.ok(whole.candles.i.length <= 50, `≤ 50 buckets (${whole.candles.i.length})`);
    assert.equal(whole.fills.bar.length, fillCount);
    const def = RunSeriesWindow.parse(await (await fetch(`${url}/backtests/${runId}/series`)).json());
    assert.equal(def.fills.bar.length, fillCount);
    assert.ok(def.candles.i.length <= 1000);

    // a window in ms: its bars and only its fills
    const ts = whole.candles.ts_ms;
    const from = ts[10]!;
    const to = ts[30]!;
    const w = RunSeriesWindow.parse(await (await fetch(`${url}/backtests/${runId}/series?from=${from}&to=${to}&points=10000`)).json());
    assert.equal(w.bucket, 1);
    assert.ok(w.candles.ts_ms.every((t) => t >= from && t < to));
    assert.equal(w.candles.ts_ms[0], from);
    assert.ok(w.fills.bar.every((b) => b >= w.from - 1 && b < w.to));

    await problemOf(await fetch(`${url}/backtests/${runId}/series?points=10001`), 400);
    await problemOf(await fetch(`${url}/backtests/${runId}/series?points=abc`), 400);
    await problemOf(await fetch(`${url}/backtests/${runId}/series?from=20&to=10`), 400);
  });

  it('GET /fills|orders|trades: cursor pages cover every row exactly once', async () => {
    for (const table of ['fills', 'orders', 'trades'] as const) {
      const ids: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      let total = -1;
      const idCol = table === 'fills' ? 'fill_id' : table === 'orders' ? 'order_id' : 'trade_id';
      do {
        const q: string = cursor ? `limit=7&cursor=${cursor}` : 'limit=7';
        const res = await fetch(`${url}/backtests/${runId}/${table}?${q}`);
        assert.equal(res.status, 200, table);
        const page = RunTablePage.parse(await res.json());
        total = page.total;
        assert.ok(page.columns.includes(idCol));
        assert.ok(page.rows[idCol]!.length <= 7);
        ids.push(...(page.rows[idCol] as number[]));
        cursor = page.next_cursor;
        pages++;
      } while (cursor);
      assert.equal(ids.length, total, table);
      assert.equal(new Set(ids).size, total, `${table}: no row twice`);
      if (table === 'fills') assert.equal(total, fillCount);
      assert.equal(pages, Math.max(1, Math.ceil(total / 7)));
    }
    // default and maximum page size, sorting
    const all = RunTablePage.parse(await (await fetch(`${url}/backtests/${runId}/fills`)).json());
    assert.equal(all.rows.fill_id!.length, Math.min(500, fillCount));
    const sorted = RunTablePage.parse(await (await fetch(`${url}/backtests/${runId}/fills?sort=price&order=desc&limit=5000`)).json());
    const prices = sorted.rows.price as number[];
    assert.deepEqual(
      prices,
      [...prices].sort((a, b) => b - a),
    );
    await problemOf(await fetch(`${url}/backtests/${runId}/fills?limit=5001`), 400);
    await problemOf(await fetch(`${url}/backtests/${runId}/fills?limit=0`), 400);
    await problemOf(await fetch(`${url}/backtests/${runId}/fills?cursor=garbage`), 400);
    await problemOf(await fetch(`${url}/backtests/${runId}/fills?sort=nope`), 400);
    // a cursor of another table or sort is refused
    const first = RunTablePage.parse(await (await fetch(`${url}/backtests/${runId}/fills?limit=2`)).json());
    assert.ok(first.next_cursor);
    await problemOf(await fetch(`${url}/backtests/${runId}/orders?cursor=${first.next_cursor}`), 400);
    await problemOf(await fetch(`${url}/backtests/${runId}/fills?sort=price&cursor=${first.next_cursor}`), 400);
  });
});
