// npm run bench:views — the run views in real Chromium through the real webview code, the real
// backend and the views protocol (test/support/viewHarness.ts: the same page and CSP as the
// extension's webviews, Node as the host). A synthetic run of 1 M one-minute bars with tens of
// thousands of fills, and a catalog of 100 k runs:
//   - RunDetail: open → first chart paint (baseline: the same view on a 4 k-bar run);
//   - replay at `max`: first frame after Play, frames/s, bars/s, fills delivered vs in the
//     artifact, main-thread ms per frame in the view, host CPU per second of replay
//     (baseline: the streamer alone on a virtual clock, no view, no transport);
//   - the webview's JS heap after the replay;
//   - RunsList over 100 k runs: sort and filter round trips (view → SQL → view; baseline: the
//     backend's SQL alone).
// Goals: first paint < 500 ms, first frame < 300 ms after Play, 0 fills dropped, heap < 200 MB,
// sort/filter < 50 ms. Figures only: nothing here asserts (tests do that).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktestToCatalog } from '../src/engine/backtest/runner.ts';
import { openCatalog } from '../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../src/engine/dataDir.ts';
import { loadRunSeries } from '../src/engine/replay/runSeries.ts';
import { ReplayStream } from '../src/engine/replay/streamer.ts';
import { VirtualClock } from '../src/engine/replay/clock.ts';
import { newUlid } from '../src/engine/catalog/ulid.ts';
import { makeDataDir } from '../test/unit/backtest/support/dataset.ts';
import { startViewHarness } from '../test/support/viewHarness.ts';
import type { Page } from 'playwright-core';

/** The replay counters of src/webview/lib/perf.ts (read from the page). */
type ReplayPerf = Record<
  'playAtMs' | 'firstFrameMs' | 'frames' | 'bars' | 'fills' | 'orderEvents' | 'applyMs' | 'maxApplyMs' | 'endedMs',
  number
>;

const BARS = Number(process.env.BENCH_VIEW_BARS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_VIEW_RUNS ?? 100_000);
const fmt = (x: number, d = 1) => x.toFixed(d);
const line = (label: string, value: string, note = '') => console.log(`  ${label.padEnd(46)} ${value.padStart(14)}  ${note}`);

/** Polls a predicate in the page (a function: string predicates would need eval, which the views' CSP refuses). */
async function waitFor<A>(page: Page, fn: (arg: A) => unknown, arg?: A, timeoutMs = 120_000): Promise<void> {
  await page.waitForFunction(fn as never, arg as never, { timeout: timeoutMs, polling: 20 });
}
/** The page's document, typed loosely (this file is type-checked without the DOM library). */
interface Doc {
  querySelector(s: string): { getAttribute(n: string): string | null; textContent: string | null } | null;
}
type G = { __btnbPerf: { firstChartMs: number | null; replay: { endedMs: number | null } } };
const perfOf = () => (globalThis as unknown as G).__btnbPerf;
void perfOf;

function seedRuns(dataDir: string, datasetId: string, n: number): void {
  const cat = openCatalog(dataPaths(dataDir).catalog);
  const ins = cat.db
    .prepare(`INSERT INTO runs (run_id, input_hash, status, dataset_id, symbol, strategy_id, params, seed, costs, session, code_hash, engine_version,
    artifacts_dir, metrics, total_return, sharpe, max_drawdown, num_trades, final_equity, tags, notes, created_at, started_at, finished_at)
    VALUES (?, ?, ?, ?, 'SYN', ?, ?, 0, '{}', 'all', 'x', '1', NULL, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)`);
  const strategies = ['sma-cross', 'bollinger-reversion', 'donchian-breakout', 'rsi-mean-reversion'];
  const statuses = ['succeeded', 'succeeded', 'succeeded', 'failed', 'canceled'];
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  cat.db.transaction(() => {
    for (let k = 0; k < n; k++) {
      const ret = (rnd() - 0.5) * 0.4;
      const sharpe = (rnd() - 0.5) * 6;
      const dd = rnd() * 0.3;
      const trades = Math.floor(rnd() * 500);
      const m = { final_equity: 100_000 * (1 + ret), total_return: ret, sharpe, max_drawdown: dd, num_trades: trades };
      const t = new Date(Date.UTC(2025, 0, 1) + k * 60_000).toISOString();
      const status = statuses[k % statuses.length]!;
      ins.run(
        newUlid(),
        k.toString(16).padStart(64, '0'),
        status,
        datasetId,
        strategies[k % 4],
        JSON.stringify({ fast: 2 + (k % 40), slow: 20 + (k % 90) }),
        JSON.stringify(m),
        ret,
        sharpe,
        dd,
        trades,
        m.final_equity,
        JSON.stringify(k % 7 === 0 ? ['best'] : []),
        t,
        t,
        status === 'succeeded' ? new Date(Date.parse(t) + 1000 + (k % 5000)).toISOString() : null,
      );
    }
  })();
  cat.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'btnb-bench-views-'));
  try {
    console.log(
      `bench:views — ${BARS.toLocaleString('en-US')} bars, ${RUNS.toLocaleString('en-US')} runs in the catalog (Chromium ${process.env.CHROMIUM ?? '/usr/bin/chromium'})`,
    );
    let t = performance.now();
    const { dataDir, datasetId } = await makeDataDir(BARS, 42, join(dir, 'big'));
    const big = await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 5, slow: 20 } });
    const small = await makeDataDir(4_000, 42, join(dir, 'small'));
    const smallRun = await runBacktestToCatalog({
      dataDir: small.dataDir,
      datasetId: small.datasetId,
      strategy: 'sma-cross',
      params: { fast: 5, slow: 20 },
    });
    seedRuns(dataDir, datasetId, RUNS);
    const fills = big.metrics!.num_fills as number;
    console.log(`  setup ${fmt((performance.now() - t) / 1000)} s: run ${big.run.run_id} with ${fills.toLocaleString('en-US')} fills`);

    // baseline: the streamer alone at max on a virtual clock (no view, no transport)
    const cat = openCatalog(dataPaths(dataDir).catalog);
    t = performance.now();
    const series = await loadRunSeries(dataDir, cat, big.run.run_id);
    const loadMs = performance.now() - t;
    cat.close();
    const vclock = new VirtualClock();
    let vFrames = 0;
    let vFills = 0;
    const cpu0 = process.cpuUsage();
    t = performance.now();
    await new Promise<void>((resolve) => {
      const s = new ReplayStream(
        series,
        (m) => {
          if (m.type === 'frame') {
            vFrames++;
            vFills += m.fills.fill_id.length;
            JSON.stringify(m);
          }
          if (m.type === 'end') {
            vclock.stop();
            s.dispose();
            resolve();
          }
        },
        { clock: vclock, speed: 'max', play: true },
      );
      s.start();
      void vclock.run();
    });
    const streamMs = performance.now() - t;
    const streamCpu = process.cpuUsage(cpu0);

    const h = await startViewHarness(small.dataDir);
    const hBig = await startViewHarness(dataDir);
    try {
      // RunDetail first paint: small run (baseline), then the 1 M-bar run
      const firstPaint = async (harness: typeof h, runId: string) => {
        const page = await harness.open({ view: 'run', runId }, { width: 1400, height: 900 });
        await waitFor(page, () => {
          const p = (globalThis as unknown as Partial<G>).__btnbPerf;
          return !!p && p.firstChartMs !== null;
        });
        const { ms, marks } = await page.evaluate(() => {
          const p = (globalThis as unknown as { __btnbPerf: { firstChartMs: number; marks: Record<string, number> } }).__btnbPerf;
          return { ms: p.firstChartMs, marks: p.marks };
        });
        return { page, ms, marks };
      };
      await (await firstPaint(h, smallRun.run.run_id)).page.close(); // warm-up: a fresh browser compiles everything once
      const s1 = await firstPaint(h, smallRun.run.run_id);
      await s1.page.close();
      const b1 = await firstPaint(hBig, big.run.run_id);
      const page = b1.page;

      // replay at max
      await page.getByRole('combobox', { name: 'Speed (bars per second)' }).selectOption('max');
      const hostCpu0 = process.cpuUsage();
      const wall0 = performance.now();
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      await waitFor(page, () => (globalThis as unknown as G).__btnbPerf.replay.endedMs !== null, undefined, 600_000);
      const hostCpu = process.cpuUsage(hostCpu0);
      const wall = performance.now() - wall0;
      const r = await page.evaluate(() => (globalThis as unknown as { __btnbPerf: { replay: ReplayPerf } }).__btnbPerf.replay);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
      const replaySec = (r.endedMs - r.playAtMs) / 1000;

      // RunsList over 100 k runs
      const list = await hBig.open({ view: 'runs' }, { width: 1400, height: 900 });
      await waitFor(
        list,
        () =>
          ((globalThis as unknown as { document: Doc }).document.querySelector('[data-total]')?.getAttribute('data-total') ?? '') !== '',
      );
      const roundTrip = async <A>(act: () => Promise<void>, settled: (a: A) => unknown, arg?: A) => {
        const before = await list.evaluate(
          () => (globalThis as unknown as { document: Doc }).document.querySelector('[data-query-ms]')?.getAttribute('data-query-ms') ?? '',
        );
        const t0 = performance.now();
        await act();
        await waitFor(list, settled, arg);
        const ui = performance.now() - t0;
        const q = Number(
          await list.evaluate(() =>
            (globalThis as unknown as { document: Doc }).document.querySelector('[data-query-ms]')?.getAttribute('data-query-ms'),
          ),
        );
        return { ui, q, before };
      };
      const sortedBy = (label: string) =>
        !!(globalThis as unknown as { document: Doc }).document
          .querySelector('[aria-sort="descending"] .sort-button')
          ?.textContent?.startsWith(label) && !(globalThis as unknown as { document: Doc }).document.querySelector('.vrow.loading');
      const total = () =>
        Number((globalThis as unknown as { document: Doc }).document.querySelector('[data-total]')?.getAttribute('data-total'));
      const sortSharpe = await roundTrip(() => list.getByRole('button', { name: /^Sharpe/ }).click(), sortedBy, 'Sharpe');
      const sortDuration = await roundTrip(() => list.getByRole('button', { name: /^Duration/ }).click(), sortedBy, 'Duration');
      const filterStrategy = await roundTrip(
        () =>
          list
            .getByRole('combobox', { name: 'Strategy' })
            .selectOption('donchian-breakout')
            .then(() => undefined),
        (n: number) =>
          Number((globalThis as unknown as { document: Doc }).document.querySelector('[data-total]')?.getAttribute('data-total')) === n,
        RUNS / 4,
      );
      const search = await roundTrip(
        () => list.getByRole('searchbox', { name: 'Search runs' }).fill('best'),
        (n: number) =>
          Number((globalThis as unknown as { document: Doc }).document.querySelector('[data-total]')?.getAttribute('data-total')) < n,
        RUNS / 4,
      );
      void total;
      // baseline: the backend's SQL alone, same queries
      const sql = async (q: Parameters<typeof hBig.backend.runsList>[0]) => {
        let best = Infinity;
        for (let k = 0; k < 5; k++) {
          const t0 = performance.now();
          await hBig.backend.runsList(q);
          best = Math.min(best, performance.now() - t0);
        }
        return best;
      };
      const base = { sort: { key: 'created' as const, dir: 'desc' as const }, offset: 0, limit: 100 };
      const sqlSharpe = await sql({ ...base, sort: { key: 'sharpe', dir: 'desc' } });
      const sqlDuration = await sql({ ...base, sort: { key: 'duration', dir: 'desc' } });
      const sqlStrategy = await sql({ ...base, sort: { key: 'duration', dir: 'desc' }, strategy: 'donchian-breakout' });
      const sqlSearch = await sql({ ...base, sort: { key: 'duration', dir: 'desc' }, strategy: 'donchian-breakout', search: 'best' });

      console.log('\nRunDetail');
      line('first chart paint, 4 k bars (baseline)', `${fmt(s1.ms)} ms`);
      line(
        `first chart paint, ${BARS.toLocaleString('en-US')} bars`,
        `${fmt(b1.ms)} ms`,
        `goal < 500 ms ${b1.ms < 500 ? 'met' : 'NOT met'}`,
      );
      line(
        '  timeline (ms since navigation)',
        Object.entries(b1.marks)
          .sort((a, b) => a[1] - b[1])
          .map(([k, v]) => `${k} ${fmt(v, 0)}`)
          .join(', '),
      );
      line('  loading the run in Node (cold, in that time)', `${fmt(loadMs)} ms`, 'Parquet → columns, once per run (cached)');
      console.log('\nReplay at max');
      line(
        'first frame after Play',
        `${fmt(r.firstFrameMs - r.playAtMs)} ms`,
        `goal < 300 ms ${r.firstFrameMs - r.playAtMs < 300 ? 'met' : 'NOT met'}`,
      );
      line('frames / s', fmt(r.frames / replaySec), `${r.frames} frames in ${fmt(replaySec, 2)} s (cap 30/s)`);
      line('bars / s', fmt(r.bars / replaySec, 0), `${r.bars.toLocaleString('en-US')} bars`);
      line('fills delivered / in fills.parquet', `${r.fills} / ${fills}`, r.fills === fills ? '0 dropped' : `${fills - r.fills} DROPPED`);
      line('order events delivered', String(r.orderEvents));
      line(
        'view main thread per frame (apply)',
        `${fmt(r.applyMs / Math.max(1, r.frames), 2)} ms`,
        `max ${fmt(r.maxApplyMs, 1)} ms: no worker needed below ~4 ms`,
      );
      line(
        'host CPU per second of replay',
        `${fmt((hostCpu.user + hostCpu.system) / 1000 / (wall / 1000))} ms`,
        'backend + streamer + transport (this process)',
      );
      line(
        'streamer alone at max (baseline), bars / s',
        fmt(BARS / (streamMs / 1000), 0),
        `${vFrames} frames, ${vFills} fills, CPU ${fmt((streamCpu.user + streamCpu.system) / 1000)} ms`,
      );
      line(
        'webview JS heap after replay (after GC)',
        `${fmt(heap.usedSize / 1048576)} MB`,
        `goal < 200 MB ${heap.usedSize / 1048576 < 200 ? 'met' : 'NOT met'}`,
      );
      console.log(`\nRunsList over ${RUNS.toLocaleString('en-US')} runs (view → host SQL → view; SQL alone as baseline)`);
      for (const [name, m, s] of [
        ['sort by Sharpe', sortSharpe, sqlSharpe],
        ['sort by duration', sortDuration, sqlDuration],
        ['filter strategy', filterStrategy, sqlStrategy],
        ['full-text search', search, sqlSearch],
      ] as const) {
        line(name, `${fmt(m.q)} ms`, `SQL alone ${fmt(s)} ms; click→rows ${fmt(m.ui)} ms; goal < 50 ms ${m.q < 50 ? 'met' : 'NOT met'}`);
      }
      if (h.errors.length + hBig.errors.length) console.log('\nbrowser errors:', [...h.errors, ...hBig.errors].slice(0, 5));
    } finally {
      await h.close();
      await hBig.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
