/**
 * MarketDataPort over the local data dir: datasets come from the catalog; when none covers the
 * request, it can synthesise one (the offline default) — it never downloads (a Databento fetch
 * needs a key and a confirmation: `btnb data fetch`).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DatasetRow } from '../ports/catalog.ts';
import type { DeriveOptions, MarketDataPort } from '../ports/marketData.ts';
import { openCatalog } from '../catalog/sqliteCatalog.ts';
import { dataPaths } from '../dataDir.ts';
import type { BarSeries } from '../bars/barSeries.ts';
import type { DeriveResult } from '../bars/deriveDataset.ts';

export interface LocalMarketDataOptions {
  dataDir: string;
  /** When no dataset covers a request: synthesise one (seeded) instead of failing. Default false. */
  synthesizeMissing?: { seed: number; outDir: string; tradesPerDay?: number } | false;
  signal?: AbortSignal;
}

function covers(row: DatasetRow, from: string, to: string): boolean {
  // start/end are ISO UTC; compare dates as text (ISO sorts chronologically).
  return row.start !== null && row.end !== null && row.start.slice(0, 10) <= from && row.end.slice(0, 10) >= to;
}

/** The dataset of `symbol` covering [from, to] (YYYY-MM-DD): derived ones first, then the narrowest. */
export function datasetCovering(rows: readonly DatasetRow[], symbol: string, from: string, to: string): DatasetRow | undefined {
  return rows
    .filter((r) => r.symbol === symbol && covers(r, from, to))
    .sort((a, b) => (a.status === 'ready' ? 0 : 1) - (b.status === 'ready' ? 0 : 1) || (a.start! > b.start! ? -1 : 1))[0];
}

export class LocalMarketData implements MarketDataPort {
  readonly dataDir: string;
  readonly #opts: LocalMarketDataOptions;

  constructor(opts: LocalMarketDataOptions) {
    this.dataDir = opts.dataDir;
    this.#opts = opts;
  }

  #find(symbol: string, from: string, to: string): DatasetRow | undefined {
    const cat = openCatalog(dataPaths(this.dataDir).catalog);
    try {
      return datasetCovering(cat.listDatasets(), symbol, from, to);
    } finally {
      cat.close();
    }
  }

  async ensureDataset(symbol: string, from: string, to: string): Promise<string> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to) || from >= to) {
      throw new Error(`ensureDataset: expected from < to as YYYY-MM-DD, got '${from}' and '${to}'`);
    }
    const row = this.#find(symbol, from, to);
    if (!row) {
      const synth = this.#opts.synthesizeMissing;
      if (!synth)
        throw new Error(
          `no dataset of '${symbol}' covers ${from} … ${to} in ${this.dataDir}; import one (btnb data import / fetch / synth --import)`,
        );
      const { synthesize } = await import('../ingest/synth.ts');
      const { importFiles } = await import('../ingest/importFiles.ts');
      const { sessionBoundsNs } = await import('../calendar/xnys.ts');
      let days = 0;
      for (let d = Date.parse(from) / 86_400_000; d < Date.parse(to) / 86_400_000; d++) if (sessionBoundsNs(d)) days++;
      if (days === 0) throw new Error(`ensureDataset: no XNYS trading day in ${from} … ${to} to synthesise`);
      const files = await synthesize({
        symbol,
        start: from,
        days,
        seed: synth.seed,
        outDir: synth.outDir,
        tradesPerDay: synth.tradesPerDay,
      });
      const res = await importFiles(files.files, { dataDir: this.dataDir, derive: true, signal: this.#opts.signal });
      return res.datasets[0]!.dataset_id;
    }
    if (row.status !== 'ready' || row.bars_path === null) await this.deriveBars(row.dataset_id);
    return row.dataset_id;
  }

  async deriveBars(datasetId: string, opts: DeriveOptions = {}): Promise<DeriveResult> {
    const { deriveDataset } = await import('../bars/deriveDataset.ts');
    const signal = opts.signal ?? this.#opts.signal;
    return deriveDataset(this.dataDir, datasetId, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  async loadBars(datasetId: string): Promise<BarSeries> {
    const cat = openCatalog(dataPaths(this.dataDir).catalog);
    let row: DatasetRow | null;
    try {
      row = cat.getDataset(datasetId);
    } finally {
      cat.close();
    }
    if (!row) throw new Error(`dataset ${datasetId} is not in the catalog of ${this.dataDir}`);
    if (row.bars_path === null || row.status !== 'ready') await this.deriveBars(datasetId);
    const { readBarsParquet } = await import('../parquet/barsParquet.ts');
    return readBarsParquet(dataPaths(this.dataDir).barsParquet(datasetId));
  }

  /** The manifest.json of a derived dataset. */
  async manifest(datasetId: string): Promise<Record<string, unknown>> {
    return JSON.parse(await readFile(resolve(dataPaths(this.dataDir).barsManifest(datasetId)), 'utf8')) as Record<string, unknown>;
  }
}
