/**
 * MarketDataPort (the seed's `ensure_dataset(symbol, from, to) -> dataset_id` and
 * `derive_bars(dataset_id)`): datasets of 1-minute bars by symbol and date range. The local
 * adapter is ingest/localMarketData.ts (used by `btnb data derive`, `btnb demo` and the derive
 * job).
 */
import type { BarSeries } from '../bars/barSeries.ts';
import type { DeriveResult } from '../bars/deriveDataset.ts';

export interface DeriveOptions {
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  signal?: AbortSignal;
}

export interface MarketDataPort {
  /** A dataset of `symbol` whose range covers [from, to) (YYYY-MM-DD, UTC dates), derived; its id. */
  ensureDataset(symbol: string, from: string, to: string): Promise<string>;
  /** (Re)derives bars-1m.parquet + manifest.json for a dataset. */
  deriveBars(datasetId: string, opts?: DeriveOptions): Promise<DeriveResult>;
  /** The derived bars of a dataset (derives first if needed). */
  loadBars(datasetId: string): Promise<BarSeries>;
}
