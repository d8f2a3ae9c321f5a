/**
 * A run's artifacts directory, published atomically: the one place a run directory comes into
 * being, for a direct run (runner.ts) and a light sweep point materialised later (materialize.ts).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { dataPaths } from '../dataDir.ts';
import { writePoint } from '../io/crashPoints.ts';
import { RunCanceledError } from './engine.ts';
import { syncFiles, writeRunArtifacts } from './artifacts.ts';
import type { BacktestResult } from './types.ts';

/**
 * Publishes a run's artifacts: written into `backtests/.<run_id>.<pid>.tmp/`, synced, renamed
 * to `backtests/<run_id>` in one step. `existing: 'keep'` accepts a complete directory another
 * process published meanwhile (a materialisation race: the bytes are the same); otherwise an
 * existing directory is refused. The temp directory never outlives a failure.
 */
export async function publishRunDir(
  paths: ReturnType<typeof dataPaths>,
  runId: string,
  result: BacktestResult,
  manifest: Record<string, unknown>,
  opts: { signal?: AbortSignal | undefined; existing?: 'refuse' | 'keep' } = {},
): Promise<string> {
  const finalDir = paths.runDir(runId);
  const tempDir = join(paths.backtestsRoot, `.${runId}.${process.pid}.tmp`);
  try {
    await rm(tempDir, { recursive: true, force: true });
    await mkdir(tempDir, { recursive: true });
    writePoint(`artifacts ${runId}`);
    const files = await writeRunArtifacts(tempDir, result);
    writePoint(`artifacts written ${runId}`);
    if (opts.signal?.aborted) throw new RunCanceledError();
    const manifestPath = join(tempDir, 'run-manifest.json');
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    // Durable before visible: every file and the directory reach the disk, then one rename
    // publishes them. The directory's entries need not reach the disk after its files' data,
    // only before the rename, so all are synced at once (one journal commit, not two).
    await syncFiles([...files, manifestPath, tempDir]);
    if (existsSync(finalDir)) {
      if (opts.existing === 'keep' && existsSync(join(finalDir, 'run-manifest.json'))) {
        await rm(tempDir, { recursive: true, force: true });
        return finalDir;
      }
      throw new Error(`${finalDir} already exists; refusing to overwrite another run's artifacts`);
    }
    writePoint(`rename ${finalDir}`);
    await rename(tempDir, finalDir);
    writePoint(`renamed ${finalDir}`);
    await syncFiles([], [paths.backtestsRoot]);
    return finalDir;
  } catch (err) {
    await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}
