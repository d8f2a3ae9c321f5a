import type { CatalogPort } from '../ports/catalog.ts';

/** Every CLI command that reads or writes a data dir first settles what killed processes left (recovery.ts). */
export async function settleAbandoned(dataDir: string, catalog?: CatalogPort): Promise<void> {
  const { recoverDataDir } = await import('../recovery.ts');
  try {
    const r = await recoverDataDir(dataDir, catalog);
    const said: string[] = [];
    if (r.runs.length) said.push(`${r.runs.length} abandoned run${r.runs.length > 1 ? 's' : ''} marked failed (${r.runs.join(', ')})`);
    if (r.datasets.length)
      said.push(`${r.datasets.length} interrupted derive${r.datasets.length > 1 ? 's' : ''} settled (${r.datasets.join(', ')})`);
    if (r.temps.length) said.push(`${r.temps.length} temp file${r.temps.length > 1 ? 's' : ''} of ended processes removed`);
    if (said.length) process.stderr.write(`btnb: ${said.join('; ')}\n`);
  } catch (err) {
    process.stderr.write(`btnb: warning: could not check ${dataDir} for abandoned runs: ${(err as Error).message}\n`);
  }
}
