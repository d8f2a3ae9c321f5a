/**
 * `runs verify`: re-runs a finished run from its recorded inputs (catalog row + manifest) into a
 * scratch directory and compares the SHA-256 of each deterministic artifact with the stored one.
 * A light sweep point has no files yet: its re-run's metrics.json is compared with the metrics
 * the catalog recorded (the other files are what materialising it would write).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths } from '../dataDir.ts';
import type { CatalogPort } from '../ports/catalog.ts';
import { readBarsParquet } from '../parquet/barsParquet.ts';
import { runBacktest } from './engine.ts';
import { barsInDateRange, resolveStrategy, type DateRange } from './runner.ts';
import { writeRunArtifacts, ARTIFACT_FILES } from './artifacts.ts';
import type { Metrics, Session } from './types.ts';
import { metricsJson } from './statistics.ts';

export interface VerifyReport {
  run_id: string;
  ok: boolean;
  code_hash_ok: boolean;
  /** A light sweep point: only metrics.json is compared (with the catalog's metrics). */
  light: boolean;
  files: { file: string; stored: string | null; rerun: string; ok: boolean }[];
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function verifyRun(dataDir: string, catalog: CatalogPort, runId: string): Promise<VerifyReport> {
  const run = catalog.getRun(runId);
  if (!run) throw new Error(`run '${runId}' is not in the catalog ${catalog.path}`);
  if (run.status !== 'succeeded') throw new Error(`run '${runId}' is ${run.status}; only succeeded runs have artifacts to verify`);
  const paths = dataPaths(dataDir);
  const dir = paths.runDir(runId);
  const manifestPath = paths.runManifest(runId);
  type Manifest = { strategy_path?: string | null; date_range?: DateRange };
  let manifest: Manifest;
  if (!run.materialized) {
    const recorded = catalog.getRunManifest(runId);
    if (!recorded) throw new Error(`run '${runId}' has no artifacts and no recorded manifest`);
    manifest = recorded;
  } else {
    if (!existsSync(manifestPath)) throw new Error(`${manifestPath}: missing (the run's artifacts were removed?)`);
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  }
  const strategy = await resolveStrategy(manifest.strategy_path ?? run.strategy_id);
  // A walk-forward fold ran over its date range only: so does its re-run.
  const all = await readBarsParquet(paths.barsParquet(run.dataset_id));
  const bars = manifest.date_range ? barsInDateRange(all, manifest.date_range) : all;
  const result = runBacktest(bars, {
    strategy: strategy.def,
    params: run.params,
    seed: run.seed,
    costs: run.costs,
    session: run.session as Session,
  });
  const scratch = await mkdtemp(join(tmpdir(), 'btnb-verify-'));
  try {
    await writeRunArtifacts(scratch, result);
    const files = [];
    for (const f of run.materialized ? ARTIFACT_FILES : (['metrics.json'] as const)) {
      const stored = !run.materialized
        ? sha(new TextEncoder().encode(metricsJson(run.metrics as unknown as Metrics)))
        : existsSync(join(dir, f))
          ? sha(await readFile(join(dir, f)))
          : null;
      const rerun = sha(await readFile(join(scratch, f)));
      files.push({ file: f, stored, rerun, ok: stored === rerun });
    }
    const codeOk = strategy.codeHash === run.code_hash;
    return { run_id: runId, ok: codeOk && files.every((f) => f.ok), code_hash_ok: codeOk, light: !run.materialized, files };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
