import { strict as assert } from 'node:assert';
import { renameSync, rmSync } from 'node:fs';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { readArtifactColumns } from '../../../src/engine/backtest/artifactReader.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { writeParquetTable } from '../../../src/engine/parquet/table.ts';
import { loadRunSeries, type RunDataError } from '../../../src/engine/replay/runSeries.ts';
import { q, lit } from '../parquet/duck.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

describe("replay: a run's series from its artifacts", function () {
  this.timeout(60_000);
  let dataDir = '';
  let datasetId = '';
  let bars: Awaited<ReturnType<typeof makeDataDir>>['bars'];
  let donchian = '';
  let rth = '';
  before(async () => {
    ({ dataDir, datasetId, bars } = await makeDataDir(3000, 3));
    donchian = (
      await runBacktestToCatalog({
        dataDir,
        datasetId,
        strategy: 'donchian-breakout',
        params: { entry: 15, exit: 8, allow_short: true },
        costs: { fee_per_unit: 0.01 },
      })
    ).run.run_id;
    rth = (await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 5, slow: 20 }, session: 'rth' })).run
      .run_id;
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('orders.parquet records when each canceled order was canceled (DuckDB reads canceled_ts)', async () => {
    const p = dataPaths(dataDir).runOrders(donchian);
    const rows = await q(
      `SELECT status, count(*)::INTEGER AS n, count(canceled_ts)::INTEGER AS with_ts FROM read_parquet(${lit(p)}) GROUP BY status ORDER BY status`,
    );
    const by = Object.fromEntries(rows.map((r) => [r.status, r]));
    assert.ok((by.canceled?.n as number) > 100);
    assert.equal(by.canceled!.with_ts, by.canceled!.n, 'every canceled order has a cancel time');
    assert.equal(by.filled?.with_ts ?? 0, 0, 'filled orders have none');
    // donchian cancels and re-places every bar: canceled one bar after submission
    const gap = await q(
      `SELECT min(epoch_ms(canceled_ts) - epoch_ms(ts))::BIGINT AS lo FROM read_parquet(${lit(p)}) WHERE canceled_ts IS NOT NULL`,
    );
    assert.ok(Number(gap[0]!.lo) >= 60_000);
  });

  it('joins the dataset bars on the equity rows, locates fills/orders/trades at bars, and tracks the position', async () => {
    const cat = openCatalog(dataPaths(dataDir).catalog);
    try {
      const s = await loadRunSeries(dataDir, cat, donchian);
      assert.equal(s.barsSource, 'dataset');
      assert.equal(s.length, bars.length);
      for (const i of [0, 1, 777, s.length - 1]) {
        assert.equal(s.tsMs[i], bars.ts[i]! / 1e6);
        assert.equal(s.high[i], bars.high[i]);
        assert.equal(s.low[i], bars.low[i]);
        assert.equal(s.open[i], bars.open[i]);
      }
      assert.ok(s.hasQuotes);
      assert.ok(s.fills.length > 10 && s.orders.length > 1000);
      for (let k = 0; k < s.fills.length; k++) {
        const b = s.fills.bar[k]!;
        assert.equal(s.fills.positionAfter[k], s.position[b], `position after fill ${k}`);
      }
      for (let k = 0; k < s.orders.length; k++) {
        if (s.orders.status[k] === 2)
          assert.equal(s.orders.canceledBar[k], s.orders.bar[k]! + 1, `order ${k + 1} canceled at the next bar`);
        if (s.orders.status[k] === 1) assert.ok(s.orders.fillBar[k]! > s.orders.bar[k]!);
      }
      assert.ok(s.cancelTimesKnown);
      assert.ok(s.trades.length > 3);
      for (let k = 0; k < s.trades.length; k++) assert.ok(s.trades.exitBar[k] === -1 || s.trades.exitBar[k]! > s.trades.entryBar[k]!);
      const rthSeries = await loadRunSeries(dataDir, cat, rth);
      assert.ok(rthSeries.length < bars.length);
      const eq = await readArtifactColumns(dataPaths(dataDir).runEquity(rth), { close: { kind: 'f64' } });
      assert.deepEqual(Array.from(rthSeries.close), Array.from(eq.columns.close as Float64Array));
    } finally {
      cat.close();
    }
  });

  it('an older run without canceled_ts, a dataset whose bars are gone, and runs that cannot be shown', async () => {
    const paths = dataPaths(dataDir);
    const cat = openCatalog(paths.catalog);
    try {
      const p = paths.runOrders(donchian);
      const t = await readArtifactColumns(p, {
        order_id: { kind: 'i32', nullInt: 0 },
        ts: { kind: 'i64' },
        qty: { kind: 'f64' },
        limit_price: { kind: 'f64' },
        stop_price: { kind: 'f64' },
        fill_id: { kind: 'i32', nullInt: 0 },
      });
      const rows = await q(`SELECT side, type, status FROM read_parquet(${lit(p)}) ORDER BY order_id`);
      const c = t.columns;
      await writeParquetTable(p, [
        { name: 'order_id', type: 'int32', values: c.order_id as Int32Array },
        { name: 'ts', type: 'timestamp_ns_utc', values: c.ts as Float64Array },
        { name: 'side', type: 'utf8', values: rows.map((r) => r.side as string) },
        { name: 'qty', type: 'float64', values: c.qty as Float64Array },
        { name: 'type', type: 'utf8', values: rows.map((r) => r.type as string) },
        { name: 'limit_price', type: 'float64', values: c.limit_price as Float64Array, nanIsNull: true },
        { name: 'stop_price', type: 'float64', values: c.stop_price as Float64Array, nanIsNull: true },
        { name: 'status', type: 'utf8', values: rows.map((r) => r.status as string) },
        {
          name: 'fill_id',
          type: 'int32',
          values: c.fill_id as Int32Array,
          nulls: Uint8Array.from(c.fill_id as Int32Array, (v) => (v === 0 ? 1 : 0)),
        },
      ]);
      const old = await loadRunSeries(dataDir, cat, donchian);
      assert.equal(old.cancelTimesKnown, false);
      assert.ok(old.orders.canceledBar.every((b) => b === -1));

      renameSync(paths.barsParquet(datasetId), `${paths.barsParquet(datasetId)}.away`);
      try {
        const s = await loadRunSeries(dataDir, cat, rth);
        assert.equal(s.barsSource, 'equity');
        assert.deepEqual(Array.from(s.high), Array.from(s.close));
      } finally {
        renameSync(`${paths.barsParquet(datasetId)}.away`, paths.barsParquet(datasetId));
      }
      await assert.rejects(
        loadRunSeries(dataDir, cat, '01ZZZZZZZZZZZZZZZZZZZZZZZZ'),
        (e: RunDataError) => e.code === 'not_found' && /not in the catalog/.test(e.message),
      );
      const queued = cat.createRun({
        input_hash: 'f'.repeat(64),
        dataset_id: datasetId,
        strategy_id: 'x',
        params: {},
        seed: 0,
        costs: {},
        session: 'all',
        code_hash: 'c',
        engine_version: '1',
      }).run;
      await assert.rejects(
        loadRunSeries(dataDir, cat, queued.run_id),
        (e: RunDataError) => e.code === 'not_finished' && /queued/.test(e.message),
      );
    } finally {
      cat.close();
    }
  });
});

describe('replay: position and cash rebuilt from fills', () => {
  it("equal equity.parquet's position and cash columns bit for bit (fees, slippage, shorts)", async () => {
    const { dataDir, datasetId } = await makeDataDir(5000, 9);
    try {
      const out = await runBacktestToCatalog({
        dataDir,
        datasetId,
        strategy: 'sma-cross',
        params: { fast: 3, slow: 12, allow_short: true },
        costs: { slippage_model: 'random', slippage_bps: 3, fee_per_unit: 0.013, fee_bps: 0.7, fee_min: 0.5 },
        seed: 4,
      });
      const cat = openCatalog(dataPaths(dataDir).catalog);
      const s = await loadRunSeries(dataDir, cat, out.run.run_id);
      cat.close();
      const eq = await readArtifactColumns(dataPaths(dataDir).runEquity(out.run.run_id), {
        position: { kind: 'f64' },
        cash: { kind: 'f64' },
        close: { kind: 'f64' },
      });
      assert.ok(s.fills.length > 100);
      assert.deepEqual(Array.from(s.position), Array.from(eq.columns.position as Float64Array));
      assert.deepEqual(Array.from(s.cash), Array.from(eq.columns.cash as Float64Array));
      assert.deepEqual(Array.from(s.close), Array.from(eq.columns.close as Float64Array));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
