import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktestToCatalog, inputHash, envLock } from '../../../src/engine/backtest/runner.ts';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { toCosts } from '../../../src/engine/backtest/costs.ts';
import { metricsJson } from '../../../src/engine/backtest/statistics.ts';
import { smaCross } from '../../../src/engine/strategies/smaCross.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { CALENDAR_VERSION } from '../../../src/engine/calendar/xnys.ts';
import { ENGINE_VERSION } from '../../../src/engine/version.ts';
import { q, lit } from '../parquet/duck.ts';
import { makeDataDir } from './support/dataset.ts';

const ARTIFACTS = ['equity.parquet', 'fills.parquet', 'metrics.json', 'orders.parquet', 'run-manifest.json', 'trades.parquet'];

describe('backtest runner: catalog runs and artifacts', function () {
  this.timeout(60_000);
  let dataDir = '';
  let datasetId = '';
  let bars: Awaited<ReturnType<typeof makeDataDir>>['bars'];
  const dirs: string[] = [];
  before(async () => {
    ({ dataDir, datasetId, bars } = await makeDataDir(2000, 1));
    dirs.push(dataDir);
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs sma-cross: succeeded run, every artifact, manifest with every §5 field, catalog metrics', async () => {
    const costs = { slippage_bps: 1, fee_per_unit: 0.005, fee_min: 1 };
    const out = await runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 5, slow: 20 }, costs });
    assert.equal(out.created, true);
    assert.equal(out.run.status, 'succeeded');
    assert.deepEqual(readdirSync(out.artifacts_dir).sort(), ARTIFACTS);
    const mem = runBacktest(bars, { strategy: smaCross, params: { fast: 5, slow: 20 }, costs });
    assert.ok(mem.fills.length > 20);
    assert.equal(readFileSync(join(out.artifacts_dir, 'metrics.json'), 'utf8'), metricsJson(mem.metrics));
    assert.deepEqual(out.run.metrics, JSON.parse(metricsJson(mem.metrics)));
    const m = JSON.parse(readFileSync(join(out.artifacts_dir, 'run-manifest.json'), 'utf8'));
    for (const k of [
      'run_id',
      'input_hash',
      'dataset_ids',
      'strategy_id',
      'params',
      'seed',
      'costs',
      'session',
      'code_hash',
      'env_lock',
      'calendar_version',
      'tz',
      'display_tz',
      'engine_version',
      'started_at',
      'finished_at',
    ])
      assert.ok(k in m, `manifest lacks ${k}`);
    assert.equal(m.run_id, out.run.run_id);
    assert.deepEqual(m.dataset_ids, [datasetId]);
    assert.deepEqual(m.params, { fast: 5, slow: 20, size: 100, allow_short: false });
    assert.equal(m.calendar_version, CALENDAR_VERSION);
    assert.equal(m.tz, 'UTC');
    assert.equal(m.display_tz, 'America/New_York');
    assert.equal(m.engine_version, ENGINE_VERSION);
    assert.match(m.started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(m.env_lock, /^[0-9a-f]{64}$/);
    assert.equal(m.env_lock, envLock());
    // input_hash: SHA-256 of the canonical JSON, recomputed here from its definition
    const { createHash } = await import('node:crypto');
    const canon = `{"code_hash":"${m.code_hash}","costs":{"cash":100000,"fee_bps":0,"fee_min":1,"fee_per_unit":0.005,"slippage_bps":1,"slippage_model":"fixed"},"dataset_id":"${datasetId}","engine_version":"${ENGINE_VERSION}","params":{"allow_short":false,"fast":5,"size":100,"slow":20},"seed":0,"session":"all","strategy_id":"sma-cross"}`;
    assert.equal(out.input_hash, createHash('sha256').update(canon).digest('hex'));
    assert.equal(
      out.input_hash,
      inputHash({
        dataset_id: datasetId,
        strategy_id: 'sma-cross',
        code_hash: m.code_hash,
        params: m.params,
        seed: 0,
        costs: toCosts(costs),
        session: 'all',
      }),
    );
    assert.equal(out.run.input_hash, out.input_hash);
  });

  it('artifacts are real Parquet that DuckDB reads: types, nulls and values', async () => {
    const out = await runBacktestToCatalog({
      dataDir,
      datasetId,
      strategy: 'sma-cross',
      params: { fast: 3, slow: 9, allow_short: true },
      costs: { slippage_model: 'half-spread' },
    });
    const mem = runBacktest(bars, {
      strategy: smaCross,
      params: { fast: 3, slow: 9, allow_short: true },
      costs: { slippage_model: 'half-spread' },
    });
    const dir = out.artifacts_dir;
    const schema = await q(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${lit(join(dir, 'equity.parquet'))}))`,
    );
    assert.deepEqual(
      schema.map((r) => `${r.column_name}:${r.column_type}`),
      ['ts:TIMESTAMP WITH TIME ZONE', 'close:DOUBLE', 'position:DOUBLE', 'cash:DOUBLE', 'equity:DOUBLE', 'drawdown:DOUBLE'],
    );
    const eq = await q(
      `SELECT count(*)::INTEGER AS n, sum(equity) AS s, max(drawdown) AS dd, epoch_ns(min(ts))::VARCHAR AS t0 FROM read_parquet(${lit(join(dir, 'equity.parquet'))})`,
    );
    assert.equal(eq[0]!.n, 2000);
    assert.ok(Math.abs((eq[0]!.s as number) - mem.equity.equity.reduce((a, b) => a + b, 0)) < 1e-3);
    assert.equal(eq[0]!.dd, mem.metrics.max_drawdown);
    assert.equal(eq[0]!.t0, String(BigInt(bars.ts[0]!)));
    const fills = await q(
      `SELECT fill_id, order_id, side, qty, price, fee, slippage FROM read_parquet(${lit(join(dir, 'fills.parquet'))}) ORDER BY fill_id LIMIT 3`,
    );
    assert.deepEqual(
      fills.map((f) => [f.fill_id, f.order_id, f.side, f.qty, f.price]),
      [0, 1, 2].map((k) => [k + 1, mem.fills.orderId[k], mem.fills.side[k] ? 'sell' : 'buy', mem.fills.qty[k], mem.fills.price[k]]),
    );
    const orders = await q(
      `SELECT count(*)::INTEGER AS n, count(fill_id)::INTEGER AS filled, count(limit_price)::INTEGER AS lim, min(type) AS t, min(status) AS st FROM read_parquet(${lit(join(dir, 'orders.parquet'))})`,
    );
    assert.deepEqual(orders[0], { n: mem.orders.length, filled: mem.fills.length, lim: 0, t: 'market', st: 'filled' });
    const trades = await q(
      `SELECT trade_id, direction, pnl, "return", exit_ts IS NULL AS open, bars_held FROM read_parquet(${lit(join(dir, 'trades.parquet'))}) ORDER BY trade_id`,
    );
    assert.equal(trades.length, mem.trades.length);
    assert.equal(trades[0]!.pnl, mem.trades.pnl[0]);
    assert.equal(trades[0]!.return, mem.trades.ret[0]);
    assert.equal(trades[0]!.bars_held, mem.trades.barsHeld[0]);
    const last = trades[trades.length - 1]!;
    assert.deepEqual([last.open, last.pnl, last.bars_held], [true, null, null], 'the open trip at the end');
  });

  it('idempotent by input_hash; --force makes a new run', async () => {
    const req = { dataDir, datasetId, strategy: 'sma-cross', params: { fast: 4, slow: 12 } };
    const a = await runBacktestToCatalog(req);
    const b = await runBacktestToCatalog({ ...req, params: { fast: 4, slow: 12, size: 100 } });
    assert.equal(b.created, false);
    assert.equal(b.run.run_id, a.run.run_id);
    const c = await runBacktestToCatalog({ ...req, force: true });
    assert.equal(c.created, true);
    assert.notEqual(c.run.run_id, a.run.run_id);
    assert.equal(c.input_hash, a.input_hash);
    for (const f of ['metrics.json', 'equity.parquet', 'orders.parquet', 'fills.parquet', 'trades.parquet']) {
      assert.ok(
        readFileSync(join(a.artifacts_dir, f)).equals(readFileSync(join(c.artifacts_dir, f))),
        `${f} differs between identical runs`,
      );
    }
    const d = await runBacktestToCatalog({ ...req, seed: 1 });
    assert.equal(d.created, true, 'a different seed is a different input');
  });

  it('a strategy that throws: run failed with the stack trace, no artifacts left anywhere', async () => {
    const file = join(dataDir, 'thrower.ts');
    writeFileSync(
      file,
      `import { defineStrategy, z } from 'backtest-notebook';
export default defineStrategy({ id: 'thrower', params: z.object({}), onBar(ctx) { if (ctx.index === 100) throw new TypeError('no luck at bar 100'); } });\n`,
    );
    await assert.rejects(
      runBacktestToCatalog({ dataDir, datasetId, strategy: file }),
      /strategy 'thrower' threw in onBar at bar 100 .*no luck/,
    );
    const cat = openCatalog(dataPaths(dataDir).catalog);
    const run = cat.listRuns({ strategy: 'thrower' })[0]!;
    cat.close();
    assert.equal(run.status, 'failed');
    assert.match(run.error!, /TypeError: no luck at bar 100\n\s+at onBar \(.*thrower\.ts/);
    assert.equal(existsSync(dataPaths(dataDir).runDir(run.run_id)), false);
    assert.deepEqual(
      readdirSync(dataPaths(dataDir).backtestsRoot).filter((n) => n.startsWith('.')),
      [],
    );
  });

  it('cancel via AbortSignal while running: run canceled, nothing under a final name', async () => {
    const ac = new AbortController();
    await assert.rejects(
      runBacktestToCatalog({
        dataDir,
        datasetId,
        strategy: 'sma-cross',
        params: { fast: 2, slow: 7 },
        signal: ac.signal,
        onStatus: (r) => {
          if (r.status === 'running') ac.abort();
        },
      }),
      { name: 'AbortError' },
    );
    const cat = openCatalog(dataPaths(dataDir).catalog);
    const run = cat.listRuns({ status: 'canceled' })[0]!;
    cat.close();
    assert.equal(run.strategy_id, 'sma-cross');
    assert.equal(existsSync(dataPaths(dataDir).runDir(run.run_id)), false);
    assert.deepEqual(
      readdirSync(dataPaths(dataDir).backtestsRoot).filter((n) => n.startsWith('.')),
      [],
    );
  });

  it('clear errors: unknown dataset, unknown strategy, bad params', async () => {
    await assert.rejects(
      runBacktestToCatalog({ dataDir, datasetId: 'ds_ffffffffffffffff', strategy: 'sma-cross', params: { fast: 1, slow: 2 } }),
      /dataset 'ds_ffffffffffffffff' is not in the catalog/,
    );
    await assert.rejects(runBacktestToCatalog({ dataDir, datasetId, strategy: 'nope' }), /unknown strategy 'nope'/);
    await assert.rejects(
      runBacktestToCatalog({ dataDir, datasetId, strategy: 'sma-cross', params: { fast: 1 } }),
      /invalid params for strategy 'sma-cross':\n {2}- slow:/,
    );
  });

  it('same inputs in two separate processes → byte-identical artifacts', function () {
    this.timeout(60_000);
    const script = new URL('./support/runOnce.ts', import.meta.url).pathname;
    const outs = [0, 1].map(() => {
      const d = mkdtempSync(join(tmpdir(), 'btnb-det-'));
      dirs.push(d);
      return execFileSync(process.execPath, [script, d, 'donchian-breakout'], { encoding: 'utf8' }).trim();
    });
    assert.notEqual(outs[0], outs[1]);
    for (const f of ['metrics.json', 'equity.parquet', 'orders.parquet', 'fills.parquet', 'trades.parquet']) {
      const [a, b] = outs.map((o) => readFileSync(join(o, f)));
      assert.ok(a!.length > 100 || f === 'metrics.json');
      assert.ok(a!.equals(b!), `${f} differs between processes`);
    }
  });
});
