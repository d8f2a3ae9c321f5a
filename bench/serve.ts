/**
 * `npm run bench:serve`: `btnb serve` (dist/cli.js, its own process) under load from autocannon.
 * - GET /backtests (a page of 50) and GET /backtests/{id} on a catalog of BENCH_SERVE_RUNS runs
 *   (default 100 000 light sweep points, recorded in batches), GET /healthz;
 * - 50 identical concurrent POST /backtests: exactly one run must result;
 * - the server's event-loop delay (/healthz) while 2 backtests over a year of bars run;
 * - BENCH_SERVE_REPLAYS (default 100) WebSocket replays at once at `max` speed: fills delivered
 *   must equal the run's fills for every client.
 * Prints requests/s, p50/p99 latency and event-loop delay next to the issue's goals.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import autocannon from 'autocannon';
import { makeDataDir } from '../test/unit/backtest/support/dataset.ts';
import { runBacktestToCatalog, resolveStrategy, runIdentity } from '../src/engine/backtest/runner.ts';
import { openCatalog } from '../src/engine/catalog/sqliteCatalog.ts';
import { newUlid } from '../src/engine/catalog/ulid.ts';
import { dataPaths } from '../src/engine/dataDir.ts';
import { ENGINE_VERSION } from '../src/engine/version.ts';
import type { RecordRunInput } from '../src/engine/ports/catalog.ts';

const RUNS = Number(process.env.BENCH_SERVE_RUNS ?? 100_000);
const REPLAYS = Number(process.env.BENCH_SERVE_REPLAYS ?? 100);
const cli = new URL('../dist/cli.js', import.meta.url).pathname;

async function fillCatalog(dataDir: string, datasetId: string, n: number): Promise<void> {
  const strategy = await resolveStrategy('sma-cross');
  const cat = openCatalog(dataPaths(dataDir).catalog);
  try {
    const now = new Date().toISOString();
    for (let k = 0; k < n; k += 5000) {
      const rows: RecordRunInput[] = [];
      for (let j = k; j < Math.min(n, k + 5000); j++) {
        const id = runIdentity(strategy, { datasetId, params: { fast: 2 + (j % 40), slow: 50 + Math.floor(j / 40) }, seed: j });
        const m = {
          total_return: Math.sin(j) / 10,
          sharpe: Math.cos(j),
          max_drawdown: (j % 97) / 1000,
          num_trades: j % 300,
          final_equity: 1e5 + j,
        };
        rows.push({
          run_id: newUlid(),
          input_hash: id.hash,
          dataset_id: datasetId,
          strategy_id: strategy.strategyId,
          params: id.params,
          seed: id.seed,
          costs: id.costs as unknown as Record<string, unknown>,
          session: 'all',
          code_hash: strategy.codeHash,
          engine_version: ENGINE_VERSION,
          sweep_id: 'bench',
          tags: ['bench'],
          status: 'succeeded',
          metrics: m,
          error: null,
          started_at: now,
          finished_at: now,
          manifest: {},
        });
      }
      cat.recordRuns(rows);
    }
  } finally {
    cat.close();
  }
}

async function startServer(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--data-dir', dataDir, '--port', '0', '--json', '--max-jobs', '2', '--max-queued', '256'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
    });
    child.on('exit', (code) => reject(new Error(`btnb serve exited ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((r) => {
        child.on('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

async function load(title: string, opts: autocannon.Options, goalP99?: number): Promise<void> {
  const r = await autocannon({ connections: 10, duration: 5, ...opts });
  const bad = r.non2xx + r.errors;
  console.log(
    `  ${title.padEnd(44)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p50 ${String(r.latency.p50).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms${goalP99 ? `   [goal p99 < ${goalP99} ms]` : ''}${bad ? `  ${bad} failed` : ''}`,
  );
}

const health = async (url: string) =>
  ((await (await fetch(`${url}/healthz`)).json()) as { event_loop: { p50_ms: number; p99_ms: number; max_ms: number } }).event_loop;

const root = mkdtempSync(`${tmpdir()}/btnb-bench-serve-`);
try {
  console.log(`bench:serve — btnb serve (dist/cli.js) with autocannon, ${RUNS.toLocaleString('en-US')} runs in the catalog`);
  const { dataDir, datasetId } = await makeDataDir(199_301, 5, mkdtempSync(`${root}/d-`));
  const t0 = performance.now();
  await fillCatalog(dataDir, datasetId, RUNS);
  console.log(`  catalog filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const real = (await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 10, slow: 30 } })).run;
  const srv = await startServer(dataDir);
  try {
    await load('GET /backtests?limit=50 (newest first)', { url: `${srv.url}/backtests?limit=50` }, 50);
    await load('GET /backtests?sort=sharpe&limit=50', { url: `${srv.url}/backtests?sort=sharpe&limit=50` }, 50);
    await load('GET /backtests/{id}', { url: `${srv.url}/backtests/${real.run_id}` }, 50);
    await load('GET /healthz', { url: `${srv.url}/healthz` });

    // 50 identical POSTs at once → one run
    const body = JSON.stringify({ dataset_id: datasetId, strategy_id: 'sma-cross', params: { fast: 7, slow: 61 } });
    const res = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${srv.url}/backtests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      ),
    );
    const ids = new Set(await Promise.all(res.map(async (r) => ((await r.json()) as { run_id: string }).run_id)));
    console.log(
      `  50 identical concurrent POST /backtests: ${ids.size} run (${res.filter((r) => r.status === 202).length}× 202)   [goal: exactly 1]`,
    );

    // event-loop delay while 2 backtests over a year of bars run (each in a job child)
    const before = await health(srv.url);
    const posts = [11, 12].map((fast) =>
      fetch(`${srv.url}/backtests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataset_id: datasetId, strategy_id: 'sma-cross', params: { fast, slow: 90 }, seed: 9 }),
      }),
    );
    const started = await Promise.all(posts);
    const runIds = await Promise.all(started.map(async (r) => ((await r.json()) as { run_id: string }).run_id));
    await load('GET /backtests?limit=50 while 2 backtests run', { url: `${srv.url}/backtests?limit=50`, duration: 3 });
    for (const id of runIds)
      for (;;) {
        const s = ((await (await fetch(`${srv.url}/backtests/${id}`)).json()) as { status: string }).status;
        if (s !== 'queued' && s !== 'running') break;
        await new Promise((r) => setTimeout(r, 100));
      }
    const after = await health(srv.url);
    console.log(
      `  event-loop delay (the server's, since start): p50 ${after.p50_ms} ms, p99 ${after.p99_ms} ms, max ${after.max_ms} ms (before the backtests: p99 ${before.p99_ms})   [goal p99 < 20 ms]`,
    );

    // REPLAYS WebSocket replays at once, at max speed
    const expected = real.metrics!.num_fills!;
    const t = performance.now();
    const counts = await Promise.all(
      Array.from(
        { length: REPLAYS },
        () =>
          new Promise<number>((resolve, reject) => {
            const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/backtests/${real.run_id}/ws?speed=max&play=true`);
            const seen = new Set<number>();
            let dup = 0;
            ws.onmessage = (e) => {
              const m = JSON.parse(String(e.data)) as { type: string; fills?: { fill_id: number[] } | { fill_id: number }[] };
              const f = m.fills;
              const list = Array.isArray(f) ? f.map((x) => x.fill_id) : (f?.fill_id ?? []);
              for (const id of list) {
                if (seen.has(id)) dup++;
                else seen.add(id);
              }
              if (m.type === 'end') {
                ws.close();
                resolve(dup ? -dup : seen.size);
              }
            };
            ws.onerror = () => reject(new Error('replay socket failed'));
          }),
      ),
    );
    const wrong = counts.filter((c) => c !== expected).length;
    console.log(
      `  ${REPLAYS} WebSocket replays at once at max speed: ${((performance.now() - t) / 1000).toFixed(1)} s; fills per client ${Math.min(...counts)}..${Math.max(...counts)} of ${expected}; ${wrong} client(s) short or duplicated   [goal: 0 dropped]`,
    );
  } finally {
    await srv.stop();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
