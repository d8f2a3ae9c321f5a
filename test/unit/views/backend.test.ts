import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { runSweep } from '../../../src/engine/sweep/sweep.ts';
import { runWalkForward } from '../../../src/engine/sweep/walkForwardRun.ts';
import { gridPoints } from '../../../src/engine/sweep/grid.ts';
import { readArtifactColumns } from '../../../src/engine/backtest/artifactReader.ts';
import { openCatalog, type SqliteCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { RunViewsBackend } from '../../../src/engine/views/runViewsBackend.ts';
import { keyParams, paramsText } from '../../../src/engine/backtest/paramText.ts';
import { builtinDefaults } from '../../../src/engine/strategies/index.ts';
import {
  CompareData,
  RunDetail,
  RunsPage,
  SeriesWindow,
  SweepData,
  TablePage,
  type RunsQuery,
} from '../../../src/engine/views/protocol.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

describe("run views backend (catalog + artifacts → the views' protocol)", function () {
  this.timeout(120_000);
  let dataDir = '';
  let datasetId = '';
  let cat: SqliteCatalog;
  let backend: RunViewsBackend;
  let sma = '';
  let sma2 = '';
  let donchian = '';
  let sweepId = '';
  let wfId = '';
  before(async () => {
    ({ dataDir, datasetId } = await makeDataDir(4000, 12));
    sma = (await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 5, slow: 20 } })).run.run_id;
    sma2 = (
      await runBacktestToCatalog({
        dataDir,
        datasetId,
        strategy: 'sma-cross',
        params: { fast: 8, slow: 20 },
        costs: { fee_per_unit: 0.01 },
        session: 'rth',
      })
    ).run.run_id;
    donchian = (await runBacktestToCatalog({ dataDir, datasetId, strategy: 'donchian-breakout', params: { entry: 12, exit: 6 } })).run
      .run_id;
    sweepId = (
      await runSweep({
        dataDir,
        datasetId,
        strategy: 'sma-cross',
        points: gridPoints([
          ['fast', [3, 5, 8]],
          ['slow', [15, 30]],
        ]),
        seed: 0,
        costs: {},
        session: 'all',
        force: false,
        workers: 1,
      })
    ).sweep_id;
    wfId = (
      await runWalkForward({
        dataDir,
        datasetId,
        strategy: 'sma-cross',
        points: gridPoints([
          ['fast', [3, 5]],
          ['slow', [15, 30]],
        ]),
        trainDays: 2,
        testDays: 1,
        sortKey: 'total_return',
        seed: 0,
        costs: {},
        session: 'all',
        force: false,
        workers: 1,
      })
    ).walk_forward_id;
    cat = openCatalog(dataPaths(dataDir).catalog);
    backend = new RunViewsBackend({ dataDir: () => dataDir, catalog: async () => cat });
  });
  after(() => {
    cat?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const q = (over: Partial<RunsQuery> = {}): RunsQuery => ({ sort: { key: 'created', dir: 'desc' }, offset: 0, limit: 100, ...over });

  it('runs/list pages, sorts on every key and filters in SQL; rows satisfy the protocol schema', async () => {
    const all = RunsPage.parse(await backend.runsList(q()));
    const total = cat.countRuns();
    assert.equal(all.total, total);
    assert.deepEqual(
      all.rows.map((r) => r.run_id),
      cat.listRuns().map((r) => r.run_id),
    );
    const page = await backend.runsList(q({ offset: 2, limit: 3 }));
    assert.deepEqual(
      page.rows.map((r) => r.run_id),
      all.rows.slice(2, 5).map((r) => r.run_id),
    );
    const byReturn = await backend.runsList(q({ sort: { key: 'total_return', dir: 'desc' } }));
    const rets = byReturn.rows.map((r) => r.metrics?.total_return ?? -Infinity);
    assert.deepEqual(
      rets,
      [...rets].sort((a, b) => b - a),
    );
    const byDuration = await backend.runsList(q({ sort: { key: 'duration', dir: 'asc' } }));
    const durs = byDuration.rows.map((r) => r.duration_ms!);
    assert.deepEqual(
      durs,
      [...durs].sort((a, b) => a - b),
    );
    for (const key of ['strategy', 'symbol', 'status', 'params', 'sharpe', 'max_drawdown', 'num_trades', 'final_equity'] as const) {
      const r = await backend.runsList(q({ sort: { key, dir: 'asc' } }));
      assert.equal(r.rows.length, total, key);
    }
    const strat = await backend.runsList(q({ sort: { key: 'strategy', dir: 'asc' } }));
    assert.equal(strat.rows[0]!.strategy_id, 'donchian-breakout');
    const filtered = await backend.runsList(q({ strategy: 'sma-cross', metrics: [{ key: 'num_trades', min: 1 }], search: 'sma' }));
    assert.ok(filtered.rows.length > 0 && filtered.rows.every((r) => r.strategy_id === 'sma-cross' && r.metrics!.num_trades! >= 1));
    const inSweep = await backend.runsList(q({ sweepId }));
    assert.equal(inSweep.total, 6);
    assert.deepEqual(keyParams({ fast: 5, slow: 20, size: 100, allow_short: false }, builtinDefaults('sma-cross')), { fast: 5, slow: 20 });
    assert.deepEqual(keyParams({ fast: 5 }, undefined), { fast: 5 }, 'unknown defaults: every param is key');
    assert.equal(paramsText({ slow: 20, fast: 5, w: [1, 2], o: { a: null } }), 'fast=5 o={"a":null} slow=20 w=[1,2]');
    assert.equal(paramsText({ b: 1, a: 2, c: 3 }, 2), 'a=2 b=1');
    const facets = await backend.runsFacets();
    assert.deepEqual(facets.strategies, ['donchian-breakout', 'sma-cross']);
    assert.deepEqual(facets.datasets, [{ id: datasetId, symbol: 'SYN' }]);
  });

  it('run/get, run/series and run/table for a real run: candles from the bars, every fill, order levels, sorted pages', async () => {
    const d = RunDetail.parse(await backend.runGet(donchian));
    assert.equal(d.series!.bar_count, 4000);
    assert.equal(d.manifest!.run_id, donchian);
    const w = SeriesWindow.parse(await backend.runSeries(donchian, 0, 4000, 200));
    assert.equal(w.bucket, 20);
    assert.equal(w.candles.i.length, 200);
    const fills = await readArtifactColumns(dataPaths(dataDir).runFills(donchian), { fill_id: { kind: 'i32', nullInt: 0 } });
    assert.deepEqual(w.fills.fill_id, Array.from(fills.columns.fill_id as Int32Array), 'every fill, none decimated away');
    const zoom = SeriesWindow.parse(await backend.runSeries(donchian, 1000, 1100, 500));
    assert.equal(zoom.bucket, 1);
    assert.ok(zoom.fills.bar.every((b) => b >= 1000 && b < 1100));
    // donchian keeps a buy stop at the channel high while flat: levels exist, and each is a past high
    const stops = zoom.levels.buy_stop.filter((v) => v !== null);
    assert.ok(stops.length > 10);
    const t = TablePage.parse(await backend.runTable(donchian, 'orders', 0, 50, { column: 'stop_price', dir: 'desc' }));
    const sp = t.rows.stop_price!.filter((v) => v !== null) as number[];
    assert.deepEqual(
      sp,
      [...sp].sort((a, b) => b - a),
    );
    const fillsPage = await backend.runTable(donchian, 'fills', 0, 5);
    assert.deepEqual(fillsPage.rows.fill_id, [1, 2, 3, 4, 5]);
    const row = await backend.runTableLocate(donchian, 'fills', fillsPage.rows.bar![3] as number);
    assert.equal(row, 3);
    await assert.rejects(backend.runTable(donchian, 'fills', 0, 5, { column: 'nope', dir: 'asc' }), /no column 'nope'/);
    const trades = await backend.runTable(donchian, 'trades', 0, 1000, { column: 'pnl', dir: 'asc' });
    assert.equal(trades.total, d.series!.trade_count);
  });

  it('run/get of a queued run says why there are no charts; a deleted run is not_found', async () => {
    const queued = cat.createRun({
      input_hash: 'a'.repeat(64),
      dataset_id: datasetId,
      strategy_id: 'sma-cross',
      params: {},
      seed: 0,
      costs: {},
      session: 'all',
      code_hash: 'x',
      engine_version: '1',
    }).run;
    const d = await backend.runGet(queued.run_id);
    assert.equal(d.series, null);
    assert.match(d.unavailable!, /queued: its charts appear when it finishes/);
    cat.markCanceled(queued.run_id);
    cat.deleteRun(queued.run_id);
    await assert.rejects(backend.runGet(queued.run_id), /not in the catalog/);
  });

  it('compare/get normalises equity to 1 at the common start and diffs only what differs', async () => {
    const c = CompareData.parse(await backend.compareGet([sma, sma2], 500));
    assert.equal(c.curves.length, 2);
    for (const curve of c.curves) {
      assert.equal(curve.norm[0], 1);
      assert.ok(curve.ts_ms[0]! >= c.common_start_ms!);
    }
    const fields = c.diff.map((x) => x.field);
    assert.ok(fields.includes('params.fast') && fields.includes('session') && fields.includes('costs.fee_per_unit'), fields.join(','));
    assert.ok(!fields.includes('params.slow') && !fields.includes('strategy_id') && !fields.includes('seed'));
    assert.deepEqual(c.diff.find((x) => x.field === 'params.fast')!.values, ['5', '8']);
  });

  it('sweep/get: the grid with its varying params; a walk-forward with its folds and stitched equity', async () => {
    const s = SweepData.parse(await backend.sweepGet(sweepId, 500));
    assert.equal(s.kind, 'grid');
    assert.equal(s.runs.length, 6);
    assert.deepEqual(s.params, [
      { key: 'fast', values: [3, 5, 8] },
      { key: 'slow', values: [15, 30] },
    ]);
    const wf = SweepData.parse(await backend.sweepGet(wfId, 20_000));
    assert.equal(wf.kind, 'walk-forward');
    const folds = wf.walk_forward!.folds;
    assert.ok(folds.length >= 2);
    assert.deepEqual(
      folds.map((f) => f.fold),
      folds.map((_, k) => k + 1),
    );
    for (let k = 1; k < folds.length; k++) assert.ok(folds[k]!.start_ms > folds[k - 1]!.end_ms);
    // stitched: each fold continues from the previous fold's final equity
    const eq = wf.walk_forward!.equity;
    assert.equal(eq.ts_ms.length, eq.equity.length);
    const last = cat.getRun(folds.at(-1)!.run_id)!;
    assert.equal(eq.equity.at(-1), last.metrics!.final_equity);
    await assert.rejects(backend.sweepGet('NOPE', 100), /no runs with sweep id NOPE/);
  });
});
