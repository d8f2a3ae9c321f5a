import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBarsParquet } from '../../../src/engine/parquet/barsParquet.ts';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { metricsJson } from '../../../src/engine/backtest/statistics.ts';
import { smaCross } from '../../../src/engine/strategies/smaCross.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { btnbInProcess } from './support/inProcess.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

describe('btnb demo', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'btnb-demo-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('synth → import → derive → backtest sma-cross 10/30; metrics.json = the engine on the derived bars; re-run reuses', async () => {
    const a = spawnSync(process.execPath, [MAIN, 'demo', '--data-dir', dir, '--json'], { encoding: 'utf8' });
    assert.equal(a.status, 0, a.stderr);
    const out = JSON.parse(a.stdout);
    assert.equal(out.status, 'succeeded');
    assert.match(out.dataset_id, /^ds_[0-9a-f]{16}$/);
    assert.deepEqual(
      out.artifacts.map((p: string) => p.slice(out.artifacts_dir.length + 1)),
      ['equity.parquet', 'fills.parquet', 'metrics.json', 'orders.parquet', 'run-manifest.json', 'trades.parquet'],
    );
    const bars = await readBarsParquet(dataPaths(dir).barsParquet(out.dataset_id));
    assert.equal(bars.length, out.bar_count);
    assert.equal(bars.symbol, 'DEMO');
    const mem = runBacktest(bars, { strategy: smaCross, params: { fast: 10, slow: 30 } });
    assert.ok(mem.metrics.num_fills > 10);
    assert.equal(readFileSync(join(out.artifacts_dir, 'metrics.json'), 'utf8'), metricsJson(mem.metrics));
    const b = JSON.parse((await btnbInProcess(['demo', '--data-dir', dir, '--json'])).stdout);
    assert.equal(b.dataset_id, out.dataset_id);
    assert.equal(b.run_id, out.run_id, 'identical inputs → the same run');
  });
});
