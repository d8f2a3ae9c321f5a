import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalMarketData } from '../../../src/engine/ingest/localMarketData.ts';
import { importFiles } from '../../../src/engine/ingest/importFiles.ts';
import { synthesize } from '../../../src/engine/ingest/synth.ts';
import { withTempDir } from '../../../src/engine/io/files.ts';

describe('MarketDataPort (LocalMarketData)', function () {
  this.timeout(60_000);

  it('ensureDataset finds an imported dataset covering the range, derives it, and loadBars reads its Parquet', async () => {
    await withTempDir(async (dir) => {
      const dataDir = join(dir, 'data');
      const files = await synthesize({
        symbol: 'DEMO',
        start: '2024-03-04',
        days: 2,
        seed: 5,
        outDir: join(dir, 'in'),
        tradesPerDay: 1500,
      });
      const { datasets } = await importFiles(files.files, { dataDir });
      const md = new LocalMarketData({ dataDir });
      const id = await md.ensureDataset('DEMO', '2024-03-04', '2024-03-06');
      assert.equal(id, datasets[0]!.dataset_id);
      const bars = await md.loadBars(id);
      assert.ok(bars.length > 300);
      assert.equal(bars.symbol, 'DEMO');
      assert.equal((await md.manifest(id)).rows, bars.length);
      await assert.rejects(md.ensureDataset('DEMO', '2024-03-04', '2024-03-20'), /no dataset of 'DEMO' covers 2024-03-04 … 2024-03-20/);
      await assert.rejects(md.ensureDataset('OTHER', '2024-03-04', '2024-03-05'), /no dataset of 'OTHER'/);
      await assert.rejects(md.ensureDataset('DEMO', '2024-03-05', '2024-03-04'), /expected from < to/);
    });
  });

  it('with synthesizeMissing it builds a seeded synthetic dataset instead of failing, the same one twice', async () => {
    await withTempDir(async (dir) => {
      const md = new LocalMarketData({
        dataDir: join(dir, 'data'),
        synthesizeMissing: { seed: 9, outDir: join(dir, 'synth'), tradesPerDay: 800 },
      });
      const id = await md.ensureDataset('SYN', '2024-03-04', '2024-03-06');
      assert.match(id, /^ds_[0-9a-f]{16}$/);
      assert.equal(await md.ensureDataset('SYN', '2024-03-04', '2024-03-06'), id);
      assert.deepEqual(
        readdirSync(join(dir, 'synth')).sort(),
        ['SYN.2024-03-04.2d.seed9.tbbo.dbn.zst', 'SYN.2024-03-04.2d.seed9.trades.dbn.zst'],
        'two trading days, synthesised once',
      );
      assert.ok((await md.loadBars(id)).length > 100);
    });
  });
});
