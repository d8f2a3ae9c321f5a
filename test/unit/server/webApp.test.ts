/**
 * The web app of `btnb serve`: the run views' page under its CSP (GET /), the bundle by name only
 * (GET /app/{file}), and the views' IPC over GET /views/ws — the same requests VS Code's webviews
 * make, answered by the same backend; "open" navigates the page.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

type Srv = Awaited<ReturnType<typeof buildServer>>;

describe('btnb serve: the web app (page, bundle, views over a WebSocket)', function () {
  this.timeout(120_000);
  let dataDir = '';
  let datasetId = '';
  let runId = '';
  let s: Srv;
  let url = '';
  let webview = '';

  before(async () => {
    ({ dataDir, datasetId } = await makeDataDir(2000, 41));
    runId = (await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 5, slow: 20 } })).run.run_id;
    // a stand-in for dist/webview (unit tests run before the build)
    webview = join(dataDir, 'webview');
    mkdirSync(webview);
    writeFileSync(
      join(webview, 'manifest.json'),
      JSON.stringify({ main: 'main.js', css: 'main.css', preload: ['chunk-a.js'], charts: ['plotly-x.js'] }),
    );
    writeFileSync(join(webview, 'main.js'), 'console.log("views");\n');
    writeFileSync(join(webview, 'main.css'), 'body{}\n');
    s = await buildServer({ dataDir, jobsDir: jobsDirFor(MAIN), token: null, maxJobs: 1, maxQueued: 4, webviewDir: webview });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('GET / is the views page: its script and styles from /app, a nonce CSP that allows only this origin', async () => {
    const r = await fetch(`${url}/?args=${encodeURIComponent(JSON.stringify({ view: 'run', runId }))}&tz=Europe/London`);
    assert.equal(r.status, 200);
    const html = await r.text();
    const header = r.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(header)?.[1];
    assert.ok(nonce, header);
    assert.match(header, /default-src 'none'/);
    assert.match(header, /connect-src 'self'/);
    assert.match(header, /frame-ancestors 'none'/);
    assert.ok(html.includes(`<script type="module" nonce="${nonce}" src="/app/main.js"></script>`));
    assert.ok(html.includes('href="/app/plotly-x.js"'), 'a charting view preloads the chart chunks');
    assert.ok(html.includes('data-tz="Europe/London"'));
    assert.ok(html.includes(`&quot;runId&quot;:&quot;${runId}&quot;`));
    assert.equal((await fetch(`${url}/?args=%7Bnope`)).status, 400);
    assert.equal((await fetch(`${url}/?tz=Mars/Olympus`)).status, 400);
  });

  it('GET /app/{file}: the bundle by name; anything else, traversal included, is 404', async () => {
    const js = await fetch(`${url}/app/main.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
    assert.equal(await js.text(), 'console.log("views");\n');
    for (const bad of ['manifest.json', '..%2Fcatalog.sqlite', '.hidden.js', 'nope.js', '%2e%2e%2fcatalog.sqlite'])
      assert.equal((await fetch(`${url}/app/${bad}`)).status, 404, bad);
  });

  it('GET /views/ws: views requests over the same IPC as VS Code; "open" navigates; bad JSON closes the socket', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/views/ws`);
    const inbox: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    ws.onmessage = (e) => {
      inbox.push(JSON.parse(String(e.data)) as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    };
    await new Promise<void>((res, rej) => {
      ws.onopen = () => res();
      ws.onerror = () => rej(new Error('no connection'));
    });
    const next = async (pred: (m: Record<string, unknown>) => boolean) => {
      for (;;) {
        const hit = inbox.find(pred);
        if (hit) return hit;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    ws.send(JSON.stringify({ kind: 'notify', method: 'ready', params: { args: { view: 'runs' } } }));
    ws.send(
      JSON.stringify({
        kind: 'request',
        id: 1,
        method: 'runs/list',
        params: { sort: { key: 'created', dir: 'desc' }, offset: 0, limit: 50 },
      }),
    );
    const list = await next((m) => m.kind === 'response' && m.id === 1);
    assert.equal(list.ok, true, JSON.stringify(list));
    const rows = (list.result as { rows: { run_id: string }[] }).rows;
    assert.deepEqual(
      rows.map((r) => r.run_id),
      [runId],
    );
    ws.send(JSON.stringify({ kind: 'request', id: 2, method: 'runs/act', params: { action: 'open', runIds: [runId] } }));
    const nav = await next((m) => m.kind === 'notify' && m.method === 'view/navigate');
    assert.deepEqual(nav.params, { view: 'run', runId });
    ws.send(JSON.stringify({ kind: 'request', id: 3, method: 'run/get', params: { runId } }));
    const got = await next((m) => m.kind === 'response' && m.id === 3);
    assert.equal((got.result as { run: { run_id: string } }).run.run_id, runId);
    const closed = new Promise<number>((r) => (ws.onclose = (e) => r(e.code)));
    ws.send('{not json');
    assert.equal(await closed, 1007);
  });
});
