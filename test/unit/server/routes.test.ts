/**
 * `btnb serve`'s core routes against a real server on 127.0.0.1 with a real catalog and real
 * job children: health, the runs list with cursor pages, get/patch/delete, the idempotent POST
 * (50 identical requests at once → one run), problem details for every error, auth on and off.
 */
import { strict as assert } from 'node:assert';
import { existsSync, rmSync } from 'node:fs';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { Problem } from '../../../src/engine/server/api.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

type Server = Awaited<ReturnType<typeof buildServer>>;

async function start(
  dataDir: string,
  opts: { token?: string; maxJobs?: number; maxQueued?: number } = {},
): Promise<{ s: Server; url: string }> {
  const s = await buildServer({
    dataDir,
    jobsDir: jobsDirFor(MAIN),
    token: opts.token ?? null,
    maxJobs: opts.maxJobs ?? 2,
    maxQueued: opts.maxQueued ?? 64,
  });
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  return { s, url };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('btnb serve: core routes (real server, real catalog, real job children)', function () {
  this.timeout(180_000);
  let dataDir = '';
  let datasetId = '';
  let srv: { s: Server; url: string };
  const runs: string[] = [];

  before(async () => {
    ({ dataDir, datasetId } = await makeDataDir(3000, 31));
    for (const fast of [3, 4, 5, 6, 7])
      runs.push((await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast, slow: 20 } })).run.run_id);
    srv = await start(dataDir);
  });
  after(async () => {
    await srv.s.close();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('GET /healthz: version, catalog ok, jobs', async () => {
    const r = await fetch(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    const h = await json(r);
    assert.equal(h.status, 'ok');
    assert.deepEqual((h.catalog as { ok: boolean }).ok, true);
    assert.deepEqual(h.jobs, { running: 0, queued: 0, max: 2 });
    const el = h.event_loop as { p50_ms: number; p99_ms: number; max_ms: number };
    assert.ok(el.p50_ms >= 0 && el.p99_ms >= el.p50_ms && el.max_ms >= el.p99_ms, JSON.stringify(el));
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });

  it('GET /backtests: newest first, cursor pages cover every run once, filters and sort; bad input is a 400 problem', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Response = await fetch(`${srv.url}/backtests?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200);
      const p = (await r.json()) as { runs: { run_id: string }[]; total: number; next_cursor: string | null };
      assert.equal(p.total, runs.length);
      seen.push(...p.runs.map((x) => x.run_id));
      cursor = p.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...runs].reverse());
    const byReturn = (await json(await fetch(`${srv.url}/backtests?sort=total_return&order=asc`))) as {
      runs: { metrics: { total_return: number } }[];
    };
    const rets = byReturn.runs.map((x) => x.metrics.total_return);
    assert.deepEqual(
      rets,
      [...rets].sort((a, b) => a - b),
    );
    const none = await json(await fetch(`${srv.url}/backtests?strategy=donchian-breakout`));
    assert.equal(none.total, 0);
    for (const bad of ['limit=0', 'limit=x', 'status=done', 'cursor=zzz']) {
      const r = await fetch(`${srv.url}/backtests?${bad}`);
      assert.equal(r.status, 400, bad);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const p = Problem.parse(await r.json());
      assert.match(p.field ?? '', /^querystring/, bad);
    }
    // a cursor of one query is refused by another
    const first = (await json(await fetch(`${srv.url}/backtests?limit=2`))) as { next_cursor: string };
    assert.equal((await fetch(`${srv.url}/backtests?limit=2&status=failed&cursor=${first.next_cursor}`)).status, 400);
  });

  it('GET/PATCH/DELETE /backtests/{id}: the catalog row; tags and note; delete removes row and files; 404s', async () => {
    const id = runs[0]!;
    const got = await json(await fetch(`${srv.url}/backtests/${id}`));
    assert.equal(got.run_id, id);
    assert.equal(got.status, 'succeeded');
    const patched = await json(
      await fetch(`${srv.url}/backtests/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['keep', 'http'], note: 'from a script' }),
      }),
    );
    assert.deepEqual(patched.tags, ['keep', 'http']);
    assert.equal(patched.notes, 'from a script');
    const bad = await fetch(`${srv.url}/backtests/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ colour: 'red' }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${srv.url}/backtests/01AAAAAAAAAAAAAAAAAAAAAAAA`)).status, 404);
    assert.equal((await fetch(`${srv.url}/backtests/not-a-run`)).status, 400);
    const victim = runs[4]!;
    assert.ok(existsSync(dataPaths(dataDir).runDir(victim)));
    assert.equal((await fetch(`${srv.url}/backtests/${victim}`, { method: 'DELETE' })).status, 204);
    assert.equal(existsSync(dataPaths(dataDir).runDir(victim)), false);
    assert.equal((await fetch(`${srv.url}/backtests/${victim}`)).status, 404);
    assert.equal((await fetch(`${srv.url}/backtests/${victim}`, { method: 'DELETE' })).status, 404);
    runs.pop();
  });

  it('POST /backtests: 50 identical requests at once make one run (202 once, the rest point at it); it runs to succeeded', async () => {
    const body = JSON.stringify({
      dataset_id: datasetId,
      strategy_id: 'sma-cross',
      params: { fast: 9, slow: 31 },
      costs: { fee_per_unit: 0.01 },
    });
    const res = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${srv.url}/backtests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      ),
    );
    const bodies = await Promise.all(res.map((r) => json(r)));
    const ids = new Set(bodies.map((b) => b.run_id));
    assert.equal(ids.size, 1);
    assert.equal(res.filter((r) => r.status === 202).length, 1);
    assert.equal(res.filter((r) => r.status === 200).length, 49);
    const id = [...ids][0] as string;
    assert.ok(res.every((r) => r.headers.get('location') === `/backtests/${id}`));
    const done = await waitFor(async () => {
      const r = await json(await fetch(`${srv.url}/backtests/${id}`));
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    }, 'the run to finish');
    assert.equal(done.status, 'succeeded', String(done.error));
    const cat = openCatalog(dataPaths(dataDir).catalog);
    try {
      assert.equal(cat.listRuns({ limit: 1000 }).filter((r) => r.input_hash === done.input_hash).length, 1);
    } finally {
      cat.close();
    }
    // and once it exists, the same body is answered 200 with it
    const again = await fetch(`${srv.url}/backtests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(again.status, 200);
    assert.equal((await json(again)).run_id, id);
  });

  it('POST /backtests: Idempotency-Key, and problem details for 400, 404, 409, 413, 422', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${srv.url}/backtests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const base = { dataset_id: datasetId, strategy_id: 'sma-cross', params: { fast: 11, slow: 40 } };
    const a = await post(base, { 'idempotency-key': 'k-1' });
    assert.equal(a.status, 202);
    const reused = await post({ ...base, params: { fast: 12, slow: 40 } }, { 'idempotency-key': 'k-1' });
    assert.equal(reused.status, 409);
    assert.equal(Problem.parse(await reused.json()).field, 'headers.idempotency-key');
    const cases: [unknown, number, string | RegExp][] = [
      ['{not json', 400, /./],
      [{ ...base, extra: 1 }, 400, /^body/],
      [{ ...base, dataset_id: 'ds_x' }, 400, 'body.dataset_id'],
      [{ ...base, costs: { fee_bps: 'x' } }, 400, 'body.costs.fee_bps'],
      [{ ...base, dataset_id: 'ds_00000000000000ff' }, 404, 'body.dataset_id'],
      [{ ...base, params: { fast: 50, slow: 40 } }, 422, 'body.params'],
      [{ ...base, strategy_id: '/etc/passwd.ts' }, 422, 'body.strategy_id'],
      [{ ...base, strategy_id: 'nope' }, 422, 'body.strategy_id'],
    ];
    for (const [body, status, field] of cases) {
      const r = await post(body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const p = Problem.parse(await r.json());
      assert.equal(p.status, status);
      if (typeof field === 'string') assert.equal(p.field, field, JSON.stringify(p));
      else assert.match(p.field ?? p.detail, field);
    }
    const huge = await post({ ...base, params: { fast: 11, slow: 40, pad: 'x'.repeat(2 << 20) } });
    assert.equal(huge.status, 413);
    // a dataset without bars
    const cat = openCatalog(dataPaths(dataDir).catalog);
    try {
      const ds = cat.getDataset(datasetId)!;
      cat.upsertDataset({
        dataset_id: 'ds_00000000000000aa',
        symbol: 'RAW',
        schemas: ['trades'],
        derive_version: ds.derive_version,
        status: 'imported',
      });
    } finally {
      cat.close();
    }
    const raw = await post({ ...base, dataset_id: 'ds_00000000000000aa' });
    assert.equal(raw.status, 409);
  });

  it('a full queue answers 429 with Retry-After; the queued run is visible at once', async () => {
    const small = await start(dataDir, { maxJobs: 1, maxQueued: 0 });
    try {
      const post = (fast: number) =>
        fetch(`${small.url}/backtests`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dataset_id: datasetId, strategy_id: 'sma-cross', params: { fast, slow: 45 }, seed: 1 }),
        });
      const first = await post(13);
      assert.equal(first.status, 202);
      const queued = await json(await fetch(`${small.url}/backtests/${(await json(first)).run_id as string}`));
      assert.ok(queued.status === 'queued' || queued.status === 'running' || queued.status === 'succeeded');
      // the first job is running (not waiting): one more waits → with maxQueued 0 it is refused
      const second = await post(14);
      const third = await post(15);
      const statuses = [second.status, third.status];
      assert.ok(statuses.includes(429), `a full queue refuses: ${statuses.join(', ')}`);
      const refused = second.status === 429 ? second : third;
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(Problem.parse(await refused.json()).status, 429);
    } finally {
      await small.s.close();
    }
  });

  it('CORS only with --cors: the preflight of that origin is answered, other origins and no --cors get nothing', async () => {
    const pre = (u: string, origin: string) =>
      fetch(`${u}/backtests`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const none = await pre(srv.url, 'https://app.example');
    assert.equal(none.headers.get('access-control-allow-origin'), null);
    const c = await buildServer({
      dataDir,
      jobsDir: jobsDirFor(MAIN),
      token: 'a-token-of-sufficient-length',
      maxJobs: 1,
      maxQueued: 1,
      cors: 'https://app.example',
    });
    const u = await c.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const ok = await pre(u, 'https://app.example');
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Authorization/);
      const other = await pre(u, 'https://evil.example');
      assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
      const get = await fetch(`${u}/backtests`, {
        headers: { origin: 'https://app.example', authorization: 'Bearer a-token-of-sufficient-length' },
      });
      assert.equal(get.headers.get('access-control-allow-origin'), 'https://app.example');
    } finally {
      await c.close();
    }
  });

  it('with a token: every route but /healthz needs the bearer token (constant-time compare)', async () => {
    const token = 'a-token-of-sufficient-length';
    const locked = await start(dataDir, { token });
    try {
      assert.equal((await fetch(`${locked.url}/healthz`)).status, 200);
      const no = await fetch(`${locked.url}/backtests`);
      assert.equal(no.status, 401);
      assert.equal(no.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await fetch(`${locked.url}/backtests`, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
      assert.equal((await fetch(`${locked.url}/backtests`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await fetch(`${locked.url}/nope`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
    } finally {
      await locked.s.close();
    }
  });
});
