/**
 * Strategies written inline (a notebook `typescript` cell) become files: the source is stored
 * content-addressed as `<data>/strategies/<sha256>.ts` (written once, atomically) and from then
 * on is a strategy file like any other — bundled, hashed into `code_hash` (the same source in a
 * workspace file gives the same hash), recorded as the run's `strategy_path`, re-run by
 * `btnb runs verify`, loaded by sweep workers. The file outlives the notebook, so a run stays
 * reproducible after its cell changes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dataPaths } from '../dataDir.ts';
import { writeFileAtomic } from '../io/atomicWrite.ts';

export async function materializeStrategySource(dataDir: string, source: string): Promise<string> {
  const sha = createHash('sha256').update(source).digest('hex');
  const paths = dataPaths(dataDir);
  const file = paths.strategySource(sha);
  if (!existsSync(file)) {
    await mkdir(paths.strategiesRoot, { recursive: true });
    await writeFileAtomic(file, source);
  }
  return file;
}
