/**
 * Artifacts on demand. A light sweep point is in the catalog with its metrics and the manifest
 * its directory will carry, but without files (`materialized` false). Whoever needs its files —
 * RunDetail, the replay, `btnb runs show --artifacts`, a notebook cell, compare — calls
 * `ensureRunArtifacts`: the point is re-run from its recorded inputs over the same bars, its
 * metrics must equal the recorded ones (else the inputs changed and nothing is written), the
 * directory is published atomically (publishRun.ts) and the catalog records it. The engine is
 * deterministic, so the files are byte for byte what a direct run of the same input writes.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readBarsParquet } from '../parquet/barsParquet.ts';
import { dataPaths } from '../dataDir.ts';
import type { CatalogPort, RunRow } from '../ports/catalog.ts';
import type { BarSeries } from '../bars/barSeries.ts';
import { canonicalJson } from '../util/canonicalJson.ts';
import type { DateRange } from '../ports/backtestRunner.ts';
import { cachedBars, computeResult, resolveStrategy, runIdentity } from './runner.ts';
import { publishRunDir } from './publishRun.ts';
import type { Session } from './types.ts';

/** Why a run's artifacts cannot be had: not in the catalog, not succeeded, or its inputs changed. */
export class MaterializeError extends Error {
  readonly code: 'not_found' | 'not_finished' | 'inputs_changed';
  constructor(code: MaterializeError['code'], message: string) {
    super(message);
    this.name = 'MaterializeError';
    this.code = code;
  }
}

export interface MaterializeOptions {
  /** Bars already read, by dataset id (a sweep materialising its top points reads them once). */
  barsCache?: Map<string, BarSeries>;
  signal?: AbortSignal;
}

// One materialisation per run directory at a time within a process (RunDetail asks for the
// manifest and the series at once); across processes publishRunDir keeps the first complete one.
const inFlight = new Map<string, Promise<string>>();

/**
 * The run's artifacts directory, materialising it first when the run is a light sweep point.
 * A materialized run's directory is returned as it is (its files may have been deleted by hand:
 * readers report that themselves).
 */
export async function ensureRunArtifacts(
  dataDir: string,
  catalog: CatalogPort,
  runId: string,
  opts: MaterializeOptions = {},
): Promise<string> {
  const paths = dataPaths(resolve(dataDir));
  const run = catalog.getRun(runId);
  if (!run) throw new MaterializeError('not_found', `run ${runId} is not in the catalog ${catalog.path}`);
  const dir = paths.runDir(runId);
  if (run.materialized) return dir;
  if (run.status !== 'succeeded')
    throw new MaterializeError('not_finished', `run ${runId} is ${run.status}: only a succeeded run has artifacts`);
  let p = inFlight.get(dir);
  if (!p) {
    p = materialize(paths, catalog, run, opts).finally(() => inFlight.delete(dir));
    inFlight.set(dir, p);
  }
  return p;
}

/**
 * The last dataset materialised from, kept while its file is unchanged (size and mtime): opening
 * one light point after another of a sweep (RunDetail, Compare) reads the bars once.
 */
let recent: { key: string; bars: Promise<BarSeries> } | null = null;
async function recentBars(path: string): Promise<BarSeries> {
  const st = await stat(path);
  const key = `${path}\u0000${st.size}\u0000${st.mtimeMs}`;
  if (recent?.key !== key) {
    const bars = readBarsParquet(path);
    recent = { key, bars };
    bars.catch(() => {
      if (recent?.bars === bars) recent = null;
    });
  }
  return recent.bars;
}

async function materialize(
  paths: ReturnType<typeof dataPaths>,
  catalog: CatalogPort,
  run: RunRow,
  opts: MaterializeOptions,
): Promise<string> {
  const runId = run.run_id;
  const manifest = catalog.getRunManifest(runId);
  if (!manifest)
    throw new MaterializeError('inputs_changed', `run ${runId} has no artifacts and no recorded manifest to re-create them from`);
  const ref = typeof manifest.strategy_path === 'string' ? manifest.strategy_path : run.strategy_id;
  const strategy = await resolveStrategy(ref);
  if (strategy.codeHash !== run.code_hash)
    throw new MaterializeError(
      'inputs_changed',
      `run ${runId}: the strategy ${ref} changed since the run was recorded (code_hash ${run.code_hash.slice(0, 12)}… now ${strategy.codeHash.slice(0, 12)}…); its artifacts cannot be re-created — run it again`,
    );
  const id = runIdentity(strategy, {
    datasetId: run.dataset_id,
    params: run.params,
    costs: run.costs,
    seed: run.seed,
    session: run.session as Session,
    ...(manifest.date_range ? { dateRange: manifest.date_range as DateRange } : {}),
  });
  if (id.hash !== run.input_hash)
    throw new MaterializeError(
      'inputs_changed',
      `run ${runId}: its recorded inputs hash to ${id.hash}, not its input_hash ${run.input_hash}`,
    );
  const all = opts.barsCache
    ? await cachedBars(opts.barsCache, paths.barsParquet(run.dataset_id), run.dataset_id)
    : await recentBars(paths.barsParquet(run.dataset_id));
  const result = await computeResult(all, strategy, id, { signal: opts.signal });
  // The same inputs must give the same run: a re-derived dataset (same id, other bars) does not.
  const again = canonicalJson(JSON.parse(JSON.stringify(result.metrics)));
  if (again !== canonicalJson(run.metrics))
    throw new MaterializeError(
      'inputs_changed',
      `run ${runId}: re-running it gives other metrics than recorded (were the bars of dataset ${run.dataset_id} derived again?); its artifacts cannot be re-created — run it again`,
    );
  const dir = await publishRunDir(paths, runId, result, manifest, { signal: opts.signal, existing: 'keep' });
  catalog.markMaterialized(runId);
  return dir;
}
