/** A data dir with one ready dataset of synthetic bars (real catalog + real bars Parquet). */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { allocBarSeries, type BarSeries, NS_PER_MINUTE } from '../../../../src/engine/bars/barSeries.ts';
import { openCatalog } from '../../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../../src/engine/dataDir.ts';
import { writeBarsParquet } from '../../../../src/engine/parquet/barsParquet.ts';
import { Sfc32 } from '../../../../src/engine/util/prng.ts';

export const DATASET_ID = 'ds_00000000000000b7';

/** XNYS-like minutes from 2024-03-04 (Mon), 09:30–16:00 New York (EST → 14:30–21:00 UTC), 24/7 off hours every 10th minute. */
export function synthBars(n: number, seed: number): BarSeries {
  const b = allocBarSeries('SYN', n);
  const rng = new Sfc32(seed);
  let cents = 10_000;
  let t = Date.parse('2024-03-04T14:30:00Z') * 1e6;
  for (let i = 0; i < n; i++) {
    const o = cents;
    cents += Math.floor(rng.next() * 9) - 4;
    b.ts[i] = t;
    b.open[i] = o / 100;
    b.close[i] = cents / 100;
    b.high[i] = (Math.max(o, cents) + Math.floor(rng.next() * 3)) / 100;
    b.low[i] = (Math.min(o, cents) - Math.floor(rng.next() * 3)) / 100;
    b.volume[i] = 100 + Math.floor(rng.next() * 900);
    b.tradeCount[i] = 5;
    b.vwap[i] = b.close[i]!;
    b.buyVolume[i] = 50;
    b.sellVolume[i] = 40;
    const q = rng.next() < 0.9;
    b.quoteCount[i] = q ? 4 : 0;
    for (const c of ['bidClose', 'askClose', 'spreadMean', 'spreadMax', 'bidSizeMean', 'askSizeMean', 'imbalanceMean'] as const)
      b[c][i] = NaN;
    if (q) {
      b.spreadMean[i] = 0.01 + Math.floor(rng.next() * 3) / 100;
      b.spreadMax[i] = b.spreadMean[i]! + 0.01;
      b.bidClose[i] = b.close[i]! - 0.01;
      b.askClose[i] = b.close[i]! + 0.01;
      b.bidSizeMean[i] = 300;
      b.askSizeMean[i] = 200;
      b.imbalanceMean[i] = 0.2;
    }
    // one trading minute after another; jump from the close to the next open (overnight)
    t += NS_PER_MINUTE;
    const minuteOfDay = (((t / NS_PER_MINUTE) % 1440) + 1440) % 1440;
    if (minuteOfDay === 21 * 60) t += (17 * 60 + 30) * NS_PER_MINUTE;
  }
  return b;
}

export async function makeDataDir(n = 2000, seed = 1, dataDir?: string): Promise<{ dataDir: string; datasetId: string; bars: BarSeries }> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'btnb-bt-'));
  const paths = dataPaths(dir);
  const bars = synthBars(n, seed);
  mkdirSync(paths.barsDir(DATASET_ID), { recursive: true });
  await writeBarsParquet(paths.barsParquet(DATASET_ID), bars);
  const cat = openCatalog(paths.catalog);
  try {
    cat.upsertDataset({ dataset_id: DATASET_ID, symbol: 'SYN', schemas: ['trades', 'tbbo'], derive_version: 1 });
    cat.setDatasetDerived(DATASET_ID, {
      bar_count: n,
      start: new Date(bars.ts[0]! / 1e6).toISOString(),
      end: new Date(bars.ts[n - 1]! / 1e6 + 60_000).toISOString(),
      bars_path: relative(dir, paths.barsParquet(DATASET_ID)),
      manifest: { rows: n },
    });
  } finally {
    cat.close();
  }
  return { dataDir: dir, datasetId: DATASET_ID, bars };
}
