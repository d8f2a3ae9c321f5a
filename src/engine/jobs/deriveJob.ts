/** Child process: derive bars-1m.parquet + manifest.json for one dataset (updates its catalog row). */
import { runJobChild } from './childRuntime.ts';

runJobChild('derive', async (p, ctx) => {
  const { deriveDataset } = await import('../bars/deriveDataset.ts');
  return deriveDataset(p.dataDir, p.datasetId, { onProgress: ctx.phaseProgress, signal: ctx.signal });
});
