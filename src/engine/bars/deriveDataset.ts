/**
 * `btnb data derive`: a dataset's raw files → `bars-1m.parquet` + `manifest.json` (docs/bars.md).
 *
 * Streams every source through the columnar decoder, merges them by ts_recv (sourceMerge.ts),
 * keeps the dataset's symbol (per-file mappings by UTC date) and aggregates minute by minute.
 * Memory: a few batches per source plus the bars (≈ 150 bytes per bar, ~100k bars a year).
 * The Parquet bytes depend only on the inputs; the manifest's created_at is the one
 * wall-clock field and enters no hash. The catalog row is updated in one transaction.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { relative } from 'node:path';
import { CALENDAR_VERSION } from '../calendar/xnys.ts';
import type { DatasetRow, DatasetSourceRow } from '../ports/catalog.ts';
import { openCatalog } from '../catalog/sqliteCatalog.ts';
import { dataPaths } from '../dataDir.ts';
import { writeFileAtomic } from '../io/atomicWrite.ts';
import { writeBarsParquet } from '../parquet/barsParquet.ts';
import { DERIVE_VERSION, ENGINE_VERSION } from '../version.ts';
import type { BarSeries } from './barSeries.ts';
import { NS_PER_MINUTE } from './barSeries.ts';
import { computeBars, type DeriveOptions } from './computeBars.ts';

export type { DeriveOptions } from './computeBars.ts';

/** What identifies the derive code: bump DERIVE_VERSION when output changes (it enters dataset_id). */
export const DERIVE_CODE_VERSION = `btnb-derive/bars-1m/v${DERIVE_VERSION}/engine-${ENGINE_VERSION}`;
export const DERIVE_CODE_HASH = createHash('sha256').update(DERIVE_CODE_VERSION).digest('hex');

export interface DeriveResult {
  dataset_id: string;
  symbol: string;
  bar_count: number;
  start: string | null;
  end: string | null;
  /** Relative to the data dir. */
  bars_path: string;
  manifest_path: string;
  /** Records decoded (all sources, all symbols) and decompressed bytes. */
  records: number;
  bytes: number;
  compressed_bytes: number;
}

export function minuteIso(tsNs: number): string {
  return new Date(tsNs / 1e6).toISOString().replace('.000Z', 'Z');
}

export type ComputedBars = Awaited<ReturnType<typeof computeBars>>;

/**
 * `compute` replaces the decode (import --derive decodes the original files while they are
 * copied and hashed, before the dataset id exists); its arrays follow `row.sources`' order.
 */
export async function deriveDataset(
  dataDir: string,
  datasetId: string,
  opts: DeriveOptions = {},
  compute?: (row: DatasetRow) => Promise<ComputedBars>,
): Promise<DeriveResult> {
  const paths = dataPaths(dataDir);
  const catalog = openCatalog(paths.catalog);
  try {
    const row = catalog.getDataset(datasetId);
    if (!row) throw new Error(`dataset ${datasetId} is not in the catalog ${paths.catalog} (see \`btnb data list\`)`);
    catalog.setDatasetStatus(datasetId, 'deriving');
    try {
      const { bars, metas, stats, matched, instrumentIds } = await (compute ? compute(row) : computeBars(dataDir, row, opts));
      const dir = paths.barsDir(datasetId);
      await mkdir(dir, { recursive: true });
      const parquetPath = paths.barsParquet(datasetId);
      opts.onProgress?.({ phase: 'write', done: 0, total: 1 });
      await writeBarsParquet(parquetPath, bars);
      const start = bars.length > 0 ? minuteIso(bars.ts[0]!) : null;
      const end = bars.length > 0 ? minuteIso(bars.ts[bars.length - 1]! + NS_PER_MINUTE) : null;
      const sources: DatasetSourceRow[] = row.sources.map((s, i) => ({
        ...s,
        records: matched[i]!,
        first_ts_recv: stats.sources[i]!.first,
        last_ts_recv: stats.sources[i]!.last,
      }));
      const manifest = buildManifest(
        row,
        bars,
        metas.map((m) => m.version),
        sources,
        instrumentIds,
        start,
        end,
      );
      await writeFileAtomic(paths.barsManifest(datasetId), `${JSON.stringify(manifest, null, 2)}\n`);
      const barsRel = relative(dataDir, parquetPath);
      catalog.upsertDataset({
        dataset_id: row.dataset_id,
        symbol: row.symbol,
        schemas: row.schemas,
        derive_version: row.derive_version,
        databento_dataset: row.databento_dataset,
        start: start ?? row.start,
        end: end ?? row.end,
        bar_count: bars.length,
        bars_path: barsRel,
        manifest,
        status: 'ready',
        error: null,
        sources,
      });
      opts.onProgress?.({ phase: 'write', done: 1, total: 1 });
      let records = 0,
        bytes = 0,
        compressed = 0;
      for (const s of stats.sources) {
        records += s.summary?.records ?? 0;
        bytes += s.summary?.bytes ?? 0;
        compressed += s.summary?.compressedBytes ?? 0;
      }
      return {
        dataset_id: datasetId,
        symbol: row.symbol,
        bar_count: bars.length,
        start,
        end,
        bars_path: barsRel,
        manifest_path: relative(dataDir, paths.barsManifest(datasetId)),
        records,
        bytes,
        compressed_bytes: compressed,
      };
    } catch (err) {
      // Cancelled: back to the previous status. Failed: a ready dataset stays ready (its previous
      // files are untouched) but records the error; otherwise it becomes failed.
      const aborted = opts.signal?.aborted === true || (err as Error).name === 'AbortError';
      const status = aborted ? (row.status === 'deriving' ? 'imported' : row.status) : row.status === 'ready' ? 'ready' : 'failed';
      try {
        catalog.setDatasetStatus(datasetId, status, aborted ? row.error : (err as Error).message);
      } catch {
        /* keep the first error */
      }
      throw err;
    }
  } finally {
    catalog.close();
  }
}

function buildManifest(
  row: DatasetRow,
  bars: BarSeries,
  versions: number[],
  sources: DatasetSourceRow[],
  instrumentIds: number[],
  start: string | null,
  end: string | null,
): Record<string, unknown> {
  return {
    dataset_id: row.dataset_id,
    symbol: row.symbol,
    instrument_ids: instrumentIds,
    databento_dataset: row.databento_dataset,
    schemas: row.schemas,
    sources: sources.map((s, i) => ({
      file: s.path,
      sha256: s.sha256,
      bytes: s.bytes,
      dbn_version: versions[i],
      schema: s.schema,
      records: s.records,
    })),
    start,
    end,
    rows: bars.length,
    derive_version: row.derive_version,
    code_hash: DERIVE_CODE_HASH,
    calendar_version: CALENDAR_VERSION,
    tz: 'UTC',
    created_at: new Date().toISOString(),
  };
}
