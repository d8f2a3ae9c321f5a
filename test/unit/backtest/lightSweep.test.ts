/**
 * Light sweep points (issue 12): recorded in batches without artifacts, materialised on demand
 * with the bytes a direct run writes; `--artifacts` modes; cancel mid-batch loses nothing.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { runSweep } from '../../../src/engine/sweep/sweep.ts';
import { gridPoints, metricScore, parseArtifactsMode } from '../../../src/engine/sweep/grid.ts';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { ensureRunArtifacts } from '../../../src/engine/backtest/materialize.ts';
import { ARTIFACT_FILES } from '../../../src/engine/backtest/artifacts.ts';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { smaCross } from '../../../src/engine/strategies/smaCross.ts';
import { toCosts } from '../../../src/engine/backtest/costs.ts';
import { verifyRun } from '../../../src/engine/backtest/verify.ts';
import { loadRunSeries } from '../../../src/engine/replay/runSeries.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { readBarsParquet } from '../../../src/engine/parquet/barsParquet.ts';
import { makeDataDir } from './support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const hashes = (dir: string) => ARTIFACT_FILES.map((f) => `${f} ${sha(join(dir, f))}`);

describe('light sweep points', function () {
  this.timeout(180_000);
  let dataDir = '';
  let datasetId = '';
  before(async () => {
    ({ dataDir, datasetId } = await makeDataDir(4000, 21));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('artifacts modes parse; anything else is refused naming the grammar', () => {
    assert.deepEqual(parseArtifactsMode('all'), { kind: 'all' });
    assert.deepEqual(parseArtifactsMode('none'), { kind: 'none' });
    assert.deepEqual(parseArtifactsMode('top:3'), { kind: 'top', n: 3 });
    for (const bad of ['top', 'top:-1', 'top:x', 'some', '']) assert.throws(() => parseArtifactsMode(bad), /expected all, none or top:N/);
  });

  it('property: a materialised light point has exactly the artifacts a direct run of the same input writes', async () => {
    const bars = await readBarsParquet(dataPaths(dataDir).barsParquet(datasetId));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          fast: fc.uniqueArray(fc.integer({ min: 2, max: 30 }), { minLength: 1, maxLength: 3 }),
          slow: fc.uniqueArray(fc.integer({ min: 31, max: 90 }), { minLength: 1, maxLength: 2 }),
          fee: fc.constantFrom(0, 0.005, 0.01),
          session: fc.constantFrom('all' as const, 'rth' as const),
          seed: fc.integer({ min: 0, max: 3 }),
          pick: fc.nat(),
        }),
        async ({ fast, slow, fee, session, seed, pick }) => {
          const points = gridPoints(
            [
              ['fast', fast],
              ['slow', slow],
            ],
            {},
          );
          const costs = { fee_per_unit: fee };
          const res = await runSweep({
            dataDir,
            datasetId,
            strategy: 'sma-cross',
            points,
            seed,
            costs,
            session,
            force: true,
            workers: 1,
            artifacts: { kind: 'none' },
          });
          assert.equal(res.results.length, points.length);
          const point = res.results[pick % res.results.length]!;
          const cat = openCatalog(dataPaths(dataDir).catalog);
          try {
            const row = cat.getRun(point.run_id!)!;
            assert.equal(row.materialized, false);
            assert.equal(existsSync(dataPaths(dataDir).runDir(row.run_id)), false, 'no files before it is opened');
            // the recorded metrics are the engine's, computed independently here
            const direct = runBacktest(bars, { strategy: smaCross, params: row.params, seed, costs: toCosts(costs), session });
            assert.deepEqual(row.metrics, JSON.parse(JSON.stringify(direct.metrics)));
            const dir = await ensureRunArtifacts(dataDir, cat, row.run_id);
            assert.equal(cat.getRun(row.run_id)!.materialized, true);
            const ref = await runBacktestToCatalog({
              dataDir,
              datasetId,
              strategy: 'sma-cross',
              params: point.params,
              seed,
              costs,
              session,
              force: true,
            });
            assert.notEqual(ref.run.run_id, row.run_id);
            assert.deepEqual(hashes(dir), hashes(ref.artifacts_dir));
            const manifest = JSON.parse(readFileSync(join(dir, 'run-manifest.json'), 'utf8')) as Record<string, unknown>;
            assert.equal(manifest.run_id, row.run_id);
            assert.equal(manifest.input_hash, row.input_hash);
            assert.deepEqual(manifest, cat.getRunManifest(row.run_id));
            assert.equal((await verifyRun(dataDir, cat, row.run_id)).ok, true);
          } finally {
            cat.close();
          }
        },
      ),
      { numRuns: 8, seed: 1212 },
    );
  });

  it('--artifacts none | top:N | all: files for exactly the chosen points, every point in the catalog with its metrics', async () => {
    const grid = ['--grid', 'fast=3:12:3', '--grid', 'slow=20:40:10'];
    const base = [
      MAIN,
      'sweep',
      '--data-dir',
      dataDir,
      '--dataset',
      datasetId,
      '--strategy',
      'sma-cross',
      ...grid,
      '--seed',
      '7',
      '--json',
    ];
    const sweep = (artifacts: string) => {
      const r = spawnSync(process.execPath, [...base, '--force', '--workers', '2', '--artifacts', artifacts, '--sort', 'total_return'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { artifacts: string; results: { run_id: string; metrics: Record<string, number> }[] };
    };
    const cat = openCatalog(dataPaths(dataDir).catalog);
    try {
      const on = (id: string) => existsSync(dataPaths(dataDir).runManifest(id));
      const none = sweep('none');
      assert.equal(none.artifacts, 'none');
      assert.equal(none.results.length, 12);
      for (const r of none.results) {
        const row = cat.getRun(r.run_id)!;
        assert.equal(row.status, 'succeeded');
        assert.deepEqual(row.metrics, r.metrics);
        assert.equal(row.materialized, false);
        assert.equal(on(r.run_id), false);
        assert.ok(cat.getRunManifest(r.run_id), 'the manifest is recorded');
      }
      const top = sweep('top:3');
      const ranked = [...top.results].sort((a, b) => metricScore(b.metrics, 'total_return') - metricScore(a.metrics, 'total_return'));
      const best = new Set(ranked.slice(0, 3).map((r) => r.run_id));
      for (const r of top.results) {
        assert.equal(on(r.run_id), best.has(r.run_id), `${r.run_id} materialised iff among the best 3`);
        assert.equal(cat.getRun(r.run_id)!.materialized, best.has(r.run_id));
      }
      const all = sweep('all');
      for (const r of all.results) {
        assert.equal(on(r.run_id), true);
        assert.equal(cat.getRun(r.run_id)!.materialized, true);
      }
      // the same grid without --force reuses the light points: nothing runs again
      const again = spawnSync(process.execPath, [...base, '--workers', '1'], { encoding: 'utf8' });
      const reused = JSON.parse(again.stdout) as { results: { created: boolean }[] };
      assert.ok(reused.results.every((r) => !r.created));
      // deleting a light point works as for any run
      const gone = none.results[0]!.run_id;
      const del = spawnSync(process.execPath, [MAIN, 'runs', 'delete', gone, '--data-dir', dataDir], { encoding: 'utf8' });
      assert.equal(del.status, 0, del.stderr);
      assert.equal(cat.getRun(gone), null);
    } finally {
      cat.close();
    }
  });

  it('2 workers: the forked worker gets light jobs too (the parent hops to its event loop between its own jobs)', async () => {
    const file = join(dataDir, 'pidlog.ts');
    const log = join(dataDir, 'light-pids.log');
    writeFileSync(
      file,
      `import { appendFileSync } from 'node:fs';
import { defineStrategy, z } from 'backtest-notebook';
export default defineStrategy({ id: 'pidlog', params: z.object({ a: z.number() }), onStart() {
  appendFileSync(${JSON.stringify(log)}, process.pid + '\\n');
}, onBar() { const t = performance.now(); while (performance.now() - t < 0.02) {} } });\n`,
    );
    const res = await runSweep({
      dataDir,
      datasetId,
      strategy: file,
      points: Array.from({ length: 48 }, (_, a) => ({ a })), // ~80 ms each: far longer than a worker's start
      seed: 0,
      costs: {},
      session: 'all',
      force: true,
      workers: 2,
      workerEntry: MAIN,
      artifacts: { kind: 'none' },
    });
    assert.equal(res.results.filter((r) => r.status === 'succeeded').length, 48);
    const pids = new Set(readFileSync(log, 'utf8').trim().split('\n'));
    assert.equal(pids.size, 2, `both processes ran points: ${[...pids].join(', ')}`);
  });

  it('cancel mid-batch: every point reported done is in the catalog whole, none half-recorded, none running', async () => {
    const points = gridPoints(
      [
        ['fast', [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
        ['slow', [40, 50, 60, 70, 80]],
      ],
      {},
    );
    const ac = new AbortController();
    let reported = 0;
    await assert.rejects(
      runSweep({
        dataDir,
        datasetId,
        strategy: 'sma-cross',
        points,
        seed: 3,
        costs: { fee_per_unit: 0.002 },
        session: 'all',
        force: true,
        workers: 1,
        sweepId: '01JCANCELMIDBATCH000000000',
        artifacts: { kind: 'none' },
        onProgress: (done) => {
          reported = done;
          if (done === 17) ac.abort(); // far below a batch (256) and within its time budget
        },
        signal: ac.signal,
      }),
      /sweep canceled/,
    );
    assert.ok(reported >= 17 && reported < points.length, `canceled midway (${reported} of ${points.length})`);
    const cat = openCatalog(dataPaths(dataDir).catalog);
    try {
      const rows = cat.listRuns({ sweepId: '01JCANCELMIDBATCH000000000', limit: 1000 });
      assert.equal(rows.length, reported, 'every reported point was recorded, no more');
      for (const r of rows) {
        assert.equal(r.status, 'succeeded');
        assert.ok(r.metrics && typeof r.metrics.final_equity === 'number');
        assert.ok(cat.getRunManifest(r.run_id));
      }
      assert.equal(cat.countRuns({ status: ['queued', 'running'] }), 0);
    } finally {
      cat.close();
    }
  });

  it('opening a light point (the views, the replay) materialises it; a changed strategy file is refused, not re-run wrongly', async () => {
    const file = join(dataDir, 'mom.ts');
    const src = (k: number) =>
      `import { defineStrategy, z } from 'backtest-notebook';
export default defineStrategy({ id: 'mom', params: z.object({ n: z.number().int() }), onBar(ctx, _s, p) {
  if (ctx.index < p.n) return;
  ctx.targetPosition(ctx.close() > ctx.close(p.n) * ${k} ? 10 : 0);
} });\n`;
    writeFileSync(file, src(1));
    const res = await runSweep({
      dataDir,
      datasetId,
      strategy: file,
      points: [{ n: 5 }, { n: 9 }],
      seed: 0,
      costs: {},
      session: 'all',
      force: true,
      workers: 1,
      artifacts: { kind: 'none' },
    });
    const [a, b] = res.results.map((r) => r.run_id!);
    const cat = openCatalog(dataPaths(dataDir).catalog);
    try {
      const s = await loadRunSeries(dataDir, cat, a!);
      assert.equal(cat.getRun(a!)!.materialized, true);
      assert.ok(s.length > 0 && s.fills.length > 0);
      writeFileSync(file, src(1.001));
      await assert.rejects(loadRunSeries(dataDir, cat, b!), /strategy .*mom\.ts changed since the run was recorded/);
      assert.equal(cat.getRun(b!)!.materialized, false);
      assert.equal(existsSync(dataPaths(dataDir).runDir(b!)), false, 'nothing half-written');
    } finally {
      cat.close();
    }
  });
});
