import assert from 'node:assert/strict';
import { dataPaths, resolveDataDir } from '../../../src/engine/dataDir.ts';

describe('dataDir', () => {
  it('resolves flag > env BTNB_DATA_DIR > ./data', () => {
    assert.equal(resolveDataDir('/x/flag', { BTNB_DATA_DIR: '/x/env' }, '/cwd'), '/x/flag');
    assert.equal(resolveDataDir(undefined, { BTNB_DATA_DIR: '/x/env' }, '/cwd'), '/x/env');
    assert.equal(resolveDataDir(undefined, {}, '/cwd'), '/cwd/data');
    assert.equal(resolveDataDir('rel/d', {}, '/cwd'), '/cwd/rel/d');
    assert.equal(resolveDataDir(undefined, { BTNB_DATA_DIR: '' }, '/cwd'), '/cwd/data');
  });

  it('gives every path of docs/data-layout.md', () => {
    const p = dataPaths('/d');
    const sha = 'ab'.repeat(32);
    assert.equal(p.catalog, '/d/catalog.sqlite');
    assert.equal(p.rawFile('GLBX.MDP3', 'trades', sha, '.dbn.zst'), `/d/raw/databento/GLBX.MDP3/trades/${sha}.dbn.zst`);
    assert.equal(p.rawFile('XNAS.ITCH', 'tbbo', sha, '.dbn'), `/d/raw/databento/XNAS.ITCH/tbbo/${sha}.dbn`);
    assert.equal(p.barsParquet('ds_0123456789abcdef'), '/d/derived/bars/ds_0123456789abcdef/bars-1m.parquet');
    assert.equal(p.barsManifest('ds_0123456789abcdef'), '/d/derived/bars/ds_0123456789abcdef/manifest.json');
    const r = '01JDQ0000000000000000000AB';
    assert.equal(p.runDir(r), `/d/backtests/${r}`);
    assert.deepEqual(
      [p.runMetrics(r), p.runEquity(r), p.runOrders(r), p.runFills(r), p.runTrades(r), p.runManifest(r)].map((x) =>
        x.slice(`/d/backtests/${r}/`.length),
      ),
      ['metrics.json', 'equity.parquet', 'orders.parquet', 'fills.parquet', 'trades.parquet', 'run-manifest.json'],
    );
  });

  it('refuses path components that could escape the data dir', () => {
    const p = dataPaths('/d');
    assert.throws(() => p.runDir('../etc'), /invalid run id '\.\.\/etc'/);
    assert.throws(() => p.barsDir('..'), /invalid dataset id/);
    assert.throws(() => p.rawFile('A/B', 'trades', 'ab'.repeat(32), '.dbn'), /invalid Databento dataset/);
    assert.throws(() => p.rawFile('A', 'trades', 'AB'.repeat(32), '.dbn'), /invalid sha256/);
    assert.throws(() => p.rawFile('A', 'trades', 'ab'.repeat(32), '.zip'), /invalid raw file extension/);
  });
});
