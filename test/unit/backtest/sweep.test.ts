import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGrid, gridPoints, metricScore } from '../../../src/engine/sweep/grid.ts';
import { walkForward, parseWalkForward } from '../../../src/engine/sweep/walkForward.ts';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { smaCross } from '../../../src/engine/strategies/smaCross.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { isoDate, nyDayOfUtcNs } from '../../../src/engine/calendar/newYork.ts';
import { makeDataDir, synthBars } from './support/dataset.ts';
import { verifyRun } from '../../../src/engine/backtest/verify.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

describe('sweeps and walk-forward', function () {
  this.timeout(60_000);

  it('grid specs: inclusive ranges (decimal-safe), lists, cartesian order, errors', () => {
    const g = parseGrid(['fast=5:15:5', 'k=0.1:0.3:0.1', 'mode=a,b']);
    assert.deepEqual(g, [
      ['fast', [5, 10, 15]],
      ['k', [0.1, 0.2, 0.3]],
      ['mode', ['a', 'b']],
    ]);
    const pts = gridPoints(
      [
        ['a', [1, 2]],
        ['b', [true, false]],
      ],
      { size: 7 },
    );
    assert.deepEqual(pts, [
      { size: 7, a: 1, b: true },
      { size: 7, a: 1, b: false },
      { size: 7, a: 2, b: true },
      { size: 7, a: 2, b: false },
    ]);
    assert.throws(() => parseGrid(['fast=5:1:1']), /end 1 is below start 5/);
    assert.throws(() => parseGrid(['fast']), /expected name=a:b:step/);
    assert.throws(() => parseGrid(['a=1,2', 'a=3']), /given twice/);
    assert.equal(metricScore({ sharpe: null }, 'sharpe'), -Infinity);
    assert.ok(metricScore({ max_drawdown: 0.1 }, 'max_drawdown') > metricScore({ max_drawdown: 0.2 }, 'max_drawdown'));
    assert.deepEqual(parseWalkForward('20d:5d'), [20, 5]);
    assert.throws(() => parseWalkForward('20:0'), /TRAIN:TEST/);
  });

  it('walk-forward: folds by New York date, best in-sample params, stitched out-of-sample equity', () => {
    const bars = synthBars(4000, 9); // 390 bars a day from 2024-03-04, every calendar day
    const points = gridPoints([
      ['fast', [3, 5, 8]],
      ['slow', [10, 20]],
    ]);
    const r = walkForward({
      bars,
      strategy: smaCross,
      points,
      trainDays: 3,
      testDays: 2,
      sortKey: 'total_return',
      seed: 0,
      costs: {},
      session: 'all',
    });
    const days = [...new Set(Array.from(bars.ts, (t) => isoDate(nyDayOfUtcNs(t))))];
    assert.equal(days.length, 11);
    assert.equal(r.folds.length, 4); // tests on days 3-4, 5-6, 7-8, 9-10
    assert.deepEqual(
      r.folds.map((f) => [f.train_start, f.test_start, f.test_end]),
      [0, 2, 4, 6].map((d) => [days[d], days[d + 3], days[d + 4]]),
    );
    // fold 0 independently: best total_return over the 6 points on the first 3 days
    const dayOf = (i: number) => isoDate(nyDayOfUtcNs(bars.ts[i]!));
    const idx = (day: string) => Array.from(bars.ts).findIndex((_, i) => dayOf(i) === day);
    const train0 = { ...bars };
    const cut = (from: number, to: number) =>
      Object.fromEntries(
        Object.entries(bars).map(([k, v]) => [k, ArrayBuffer.isView(v) ? (v as Float64Array).slice(from, to) : v]),
      ) as typeof bars;
    Object.assign(train0, cut(0, idx(days[3]!)), { length: idx(days[3]!) });
    const scores = points.map((p) => runBacktest(train0, { strategy: smaCross, params: p }).metrics.total_return);
    assert.deepEqual(r.folds[0]!.best_params, { ...points[scores.indexOf(Math.max(...scores))]!, size: 100, allow_short: false });
    // stitched equity covers every test bar once, and its chain of fold returns gives the final equity
    assert.equal(r.equity.equity.length, bars.length - idx(days[3]!));
    const chained = r.folds.reduce((e, f) => e * (1 + f.test_return), 100000);
    assert.ok(Math.abs(chained - r.metrics.final_equity) < 1e-6);
    assert.equal(r.metrics.final_equity, r.equity.equity[r.equity.equity.length - 1]);
  });

  it('btnb sweep --walk-forward on 2 workers: folds by NY trading day, in-sample argmax per fold, each fold a tagged catalog run, stitched = in-memory', async () => {
    const { dataDir, datasetId, bars } = await makeDataDir(4000, 9); // 11 NY days of 390/… bars
    try {
      const args = [
        'sweep',
        '--data-dir',
        dataDir,
        '--dataset',
        datasetId,
        '--strategy',
        'sma-cross',
        '--grid',
        'fast=3,5,8',
        '--grid',
        'slow=10,20',
        '--walk-forward',
        '3d:2d',
        '--sort',
        'total_return',
        '--json',
      ];
      const a = spawnSync(process.execPath, [MAIN, ...args, '--workers', '2'], { encoding: 'utf8' });
      assert.equal(a.status, 0, a.stderr);
      const out = JSON.parse(a.stdout);
      const wfId: string = out.walk_forward_id;
      assert.match(wfId, /^[0-9A-Z]{26}$/);
      // independent fold boundaries: distinct NY dates of the bars, train 3 days, test the next 2, step 2
      const dayOfBar = Array.from(bars.ts, (t) => isoDate(nyDayOfUtcNs(t)));
      const days = [...new Set(dayOfBar)];
      assert.equal(days.length, 11);
      const first = (day: string) => dayOfBar.indexOf(day);
      const end = (d: number) => (d >= days.length ? bars.length : first(days[d]!));
      assert.deepEqual(
        out.folds.map((f: { train_start: string; train_end: string; test_start: string; test_end: string }) => [
          f.train_start,
          f.train_end,
          f.test_start,
          f.test_end,
        ]),
        [0, 2, 4, 6].map((d) => [days[d], days[d + 2], days[d + 3], days[Math.min(d + 4, 10)]]),
      );
      const cut = (from: number, to: number) =>
        ({
          ...Object.fromEntries(Object.entries(bars).map(([k, v]) => [k, ArrayBuffer.isView(v) ? (v as Float64Array).slice(from, to) : v])),
          length: to - from,
        }) as typeof bars;
      const points = gridPoints([
        ['fast', [3, 5, 8]],
        ['slow', [10, 20]],
      ]);
      const cat = openCatalog(dataPaths(dataDir).catalog);
      try {
        let cash = 100000;
        for (let f = 0; f < 4; f++) {
          const d = 2 * f;
          const train = cut(end(d), end(d + 3));
          const scores = points.map((p) => runBacktest(train, { strategy: smaCross, params: p }).metrics.total_return);
          const best = points[scores.indexOf(Math.max(...scores))]!; // ties → first in grid order
          const fold = out.folds[f];
          assert.deepEqual(fold.best_params, { ...best, size: 100, allow_short: false }, `fold ${f + 1}`);
          assert.equal(fold.train_score, Math.max(...scores));
          // the out-of-sample run: a catalog run over the test dates, tagged, cash chained
          const run = cat.getRun(fold.run_id)!;
          assert.equal(run.status, 'succeeded');
          assert.equal(run.sweep_id, wfId);
          assert.ok(run.tags.includes(`walk-forward:${wfId}`) && run.tags.includes(`fold:${f + 1}`), JSON.stringify(run.tags));
          const manifest = JSON.parse(readFileSync(join(dataPaths(dataDir).runDir(fold.run_id), 'run-manifest.json'), 'utf8'));
          assert.deepEqual(manifest.date_range, { from: fold.test_start, to: fold.test_end });
          assert.equal(manifest.costs.cash, cash);
          assert.equal(manifest.bar_count, end(Math.min(d + 5, 11)) - end(d + 3));
          const oos = runBacktest(cut(end(d + 3), end(Math.min(d + 5, 11))), { strategy: smaCross, params: best, costs: { cash } });
          assert.equal(run.metrics!.final_equity, oos.metrics.final_equity);
          cash = oos.metrics.final_equity;
        }
        assert.equal(out.metrics.final_equity, cash);
        // a fold run re-runs over its own dates only: verify reproduces it byte for byte
        for (const fold of out.folds) assert.equal((await verifyRun(dataDir, cat, fold.run_id)).ok, true, `verify fold run ${fold.run_id}`);
        const mem = walkForward({
          bars,
          strategy: smaCross,
          points,
          trainDays: 3,
          testDays: 2,
          sortKey: 'total_return',
          seed: 0,
          costs: {},
          session: 'all',
        });
        assert.deepEqual(out.metrics, JSON.parse(JSON.stringify(mem.metrics)));
        assert.deepEqual(out.equity.equity, Array.from(mem.equity.equity));
        // again in one process: the same out-of-sample runs are reused and tagged for the new walk-forward too
        const b = spawnSync(process.execPath, [MAIN, ...args, '--workers', '1'], { encoding: 'utf8' });
        assert.equal(b.status, 0, b.stderr);
        const again = JSON.parse(b.stdout);
        assert.notEqual(again.walk_forward_id, wfId);
        assert.deepEqual(
          again.folds.map((f: { run_id: string }) => f.run_id),
          out.folds.map((f: { run_id: string }) => f.run_id),
        );
        assert.deepEqual(again.metrics, out.metrics);
        assert.ok(cat.getRun(out.folds[0].run_id)!.tags.includes(`walk-forward:${again.walk_forward_id}`));
        assert.equal(cat.countRuns({}), 4);
      } finally {
        cat.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('btnb sweep with 2 workers: one catalog run per valid point, skipped invalid points, idempotent re-run', async () => {
    const { dataDir, datasetId } = await makeDataDir(2500, 4);
    try {
      const args = [
        'sweep',
        '--data-dir',
        dataDir,
        '--dataset',
        datasetId,
        '--strategy',
        'sma-cross',
        '--grid',
        'fast=4:12:4',
        '--grid',
        'slow=8,16',
        '--workers',
        '2',
        '--json',
      ];
      const a = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
      assert.equal(a.status, 0, a.stderr);
      const out = JSON.parse(a.stdout);
      assert.equal(out.points, 6);
      assert.equal(out.runs, 4); // (8,8), (12,8) refused: slow must be greater than fast
      assert.deepEqual(
        out.skipped.map((s: { params: object }) => s.params),
        [
          { fast: 8, slow: 8 },
          { fast: 12, slow: 8 },
        ],
      );
      const sharpe = out.results.map((r: { metrics: { sharpe: number | null } }) => r.metrics.sharpe ?? -Infinity);
      assert.deepEqual(
        sharpe,
        [...sharpe].sort((x: number, y: number) => y - x),
        'sorted by sharpe, best first',
      );
      const cat = openCatalog(dataPaths(dataDir).catalog);
      const runs = cat.listRuns({ sweepId: out.sweep_id });
      cat.close();
      assert.equal(runs.length, 4);
      assert.ok(runs.every((r) => r.status === 'succeeded'));
      assert.ok(
        runs.every((r) => r.sweep_id === out.sweep_id && r.tags.includes(`sweep:${out.sweep_id}`)),
        'every run of a CLI sweep is tagged like a job sweep',
      );
      // the same metrics as a direct in-memory run of one point
      const one = out.results.find((r: { params: { fast: number; slow: number } }) => r.params.fast === 4 && r.params.slow === 16);
      const { readBarsParquet } = await import('../../../src/engine/parquet/barsParquet.ts');
      const bars = await readBarsParquet(dataPaths(dataDir).barsParquet(datasetId));
      assert.deepEqual(
        one.metrics,
        JSON.parse(JSON.stringify(runBacktest(bars, { strategy: smaCross, params: { fast: 4, slow: 16 } }).metrics)),
      );
      const b = JSON.parse(spawnSync(process.execPath, [MAIN, ...args.map((x) => (x === '2' ? '1' : x))], { encoding: 'utf8' }).stdout);
      assert.ok(
        b.results.every((r: { created: boolean }) => !r.created),
        'every point reused',
      );
      assert.deepEqual(b.results.map((r: { run_id: string }) => r.run_id).sort(), runs.map((r) => r.run_id).sort());
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('SIGTERM to a running 2-worker sweep (--artifacts all): workers stop, runs in flight end canceled, none left running', async () => {
    const { dataDir, datasetId } = await makeDataDir(3000, 6);
    try {
      const slow = join(dataDir, 'slow.ts');
      writeFileSync(
        slow,
        `import { defineStrategy, z } from 'backtest-notebook';
export default defineStrategy({ id: 'slowsweep', params: z.object({ a: z.number() }), onBar() { const t = performance.now(); while (performance.now() - t < 1) {} } });\n`,
      );
      const child = spawn(
        process.execPath,
        [
          MAIN,
          'sweep',
          '--data-dir',
          dataDir,
          '--dataset',
          datasetId,
          '--strategy',
          slow,
          '--grid',
          'a=1:6:1',
          '--workers',
          '2',
          '--artifacts',
          'all',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const cat = openCatalog(dataPaths(dataDir).catalog);
      try {
        let running = 0;
        for (let k = 0; k < 600 && running < 2; k++) {
          await new Promise((r) => setTimeout(r, 50));
          running = cat.countRuns({ status: 'running' });
        }
        // each worker keeps up to two runs in flight, so 2..4 may be running when we look
        assert.ok(running >= 2, `at least two runs should be in flight, saw ${running}: ${stderr}`);
        child.kill('SIGTERM');
        assert.equal(await exited, 1);
        assert.match(stderr, /sweep canceled/);
        assert.equal(cat.countRuns({ status: 'running' }), 0);
        assert.ok(cat.countRuns({ status: 'canceled' }) >= 2);
        assert.equal(cat.countRuns({ status: 'succeeded' }) + cat.countRuns({ status: 'canceled' }), cat.countRuns({}));
      } finally {
        cat.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
