/** Opens the engine's SQLite catalog and maps its rows to the view model. Loaded lazily (better-sqlite3). */
import type { CatalogPort, DatasetRow, RunRow } from '../../engine/ports/catalog.ts';
import type { CatalogReader, DatasetView, RunView } from './model.ts';

export function toDatasetView(d: DatasetRow): DatasetView {
  return {
    id: d.dataset_id,
    symbol: d.symbol,
    start: d.start,
    end: d.end,
    barCount: d.bar_count,
    schemas: d.schemas,
    databentoDataset: d.databento_dataset,
  };
}

export function toRunView(r: RunRow): RunView {
  return {
    id: r.run_id,
    datasetId: r.dataset_id,
    symbol: r.symbol,
    strategyId: r.strategy_id,
    params: r.params,
    seed: r.seed,
    session: r.session,
    costs: r.costs,
    status: r.status,
    inputHash: r.input_hash,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    metrics: r.metrics,
    tags: r.tags,
    sweepId: r.sweep_id,
  };
}

export function readerFor(cat: CatalogPort): CatalogReader {
  const settle = (id: string, f: () => void) => {
    const run = cat.getRun(id);
    if (run && (run.status === 'queued' || run.status === 'running')) f();
  };
  return {
    port: cat,
    changeCounter: () => cat.changeCounter(),
    listDatasets: () => cat.listDatasets().map(toDatasetView),
    listRuns: () => cat.listRuns({ limit: 5000 }).map(toRunView),
    getRun: (id) => {
      const r = cat.getRun(id);
      return r ? toRunView(r) : undefined;
    },
    deleteRun: (id) => void cat.deleteRun(id),
    markCanceled: (id) => settle(id, () => cat.markCanceled(id)),
    markFailed: (id, message) => settle(id, () => cat.markFailed(id, message)),
    close: () => cat.close(),
  };
}

export async function openCatalogReader(path: string): Promise<CatalogReader> {
  const { openCatalog } = await import('../../engine/catalog/sqliteCatalog.ts');
  return readerFor(openCatalog(path));
}
