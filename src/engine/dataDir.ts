/**
 * The data directory layout (docs/data-layout.md). Every path any part of the engine reads or writes
 * under the data dir comes from `dataPaths(root)`, so the layout lives in one place.
 */
import { isAbsolute, join, resolve } from 'node:path';

/** --data-dir flag > env BTNB_DATA_DIR > ./data (resolved against the current directory). */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const chosen = flag !== undefined && flag !== '' ? flag : env.BTNB_DATA_DIR ? env.BTNB_DATA_DIR : 'data';
  return isAbsolute(chosen) ? resolve(chosen) : resolve(cwd, chosen);
}

export interface DataPaths {
  root: string;
  /** data/catalog.sqlite */
  catalog: string;
  /** data/raw/databento */
  rawRoot: string;
  /** data/raw/databento/<DATASET>/<schema> */
  rawDir(databentoDataset: string, schema: string): string;
  /** data/raw/databento/<DATASET>/<schema>/<sha256><ext>, ext '.dbn' or '.dbn.zst' */
  rawFile(databentoDataset: string, schema: string, sha256: string, ext: string): string;
  /** data/derived/bars */
  barsRoot: string;
  /** data/derived/bars/<dataset_id> */
  barsDir(datasetId: string): string;
  barsParquet(datasetId: string): string;
  barsManifest(datasetId: string): string;
  /** data/backtests */
  backtestsRoot: string;
  /** data/backtests/<run_id> */
  runDir(runId: string): string;
  runMetrics(runId: string): string;
  runEquity(runId: string): string;
  runOrders(runId: string): string;
  runFills(runId: string): string;
  runTrades(runId: string): string;
  runManifest(runId: string): string;
  /** data/strategies: notebook strategy cells, one file per distinct source */
  strategiesRoot: string;
  /** data/strategies/<sha256>.ts */
  strategySource(sha256: string): string;
}

// Path components come from ids, hashes and Databento names; refusing separators and dot-dot
// keeps a hostile or corrupt catalog value from addressing a file outside the data dir.
function component(kind: string, value: string): string {
  if (value === '' || value === '.' || value === '..' || /[/\\\0]/.test(value)) {
    throw new Error(`data dir: invalid ${kind} '${value}' (expected a non-empty name without '/', '\\' or NUL)`);
  }
  return value;
}

export function dataPaths(root: string): DataPaths {
  const rawRoot = join(root, 'raw', 'databento');
  const barsRoot = join(root, 'derived', 'bars');
  const backtestsRoot = join(root, 'backtests');
  const barsDir = (id: string) => join(barsRoot, component('dataset id', id));
  const runDir = (id: string) => join(backtestsRoot, component('run id', id));
  const rawDir = (ds: string, schema: string) => join(rawRoot, component('Databento dataset', ds), component('schema', schema));
  return {
    root,
    catalog: join(root, 'catalog.sqlite'),
    rawRoot,
    rawDir,
    rawFile(ds, schema, sha256, ext) {
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`data dir: invalid sha256 '${sha256}' (expected 64 lowercase hex digits)`);
      if (ext !== '.dbn' && ext !== '.dbn.zst')
        throw new Error(`data dir: invalid raw file extension '${ext}' (expected '.dbn' or '.dbn.zst')`);
      return join(rawDir(ds, schema), `${sha256}${ext}`);
    },
    barsRoot,
    barsDir,
    barsParquet: (id) => join(barsDir(id), 'bars-1m.parquet'),
    barsManifest: (id) => join(barsDir(id), 'manifest.json'),
    backtestsRoot,
    runDir,
    runMetrics: (id) => join(runDir(id), 'metrics.json'),
    runEquity: (id) => join(runDir(id), 'equity.parquet'),
    runOrders: (id) => join(runDir(id), 'orders.parquet'),
    runFills: (id) => join(runDir(id), 'fills.parquet'),
    runTrades: (id) => join(runDir(id), 'trades.parquet'),
    runManifest: (id) => join(runDir(id), 'run-manifest.json'),
    strategiesRoot: join(root, 'strategies'),
    strategySource(sha256) {
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`data dir: invalid sha256 '${sha256}' (expected 64 lowercase hex digits)`);
      return join(root, 'strategies', `${sha256}.ts`);
    },
  };
}
