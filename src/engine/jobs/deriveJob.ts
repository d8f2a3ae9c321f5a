/** Child process: derive bars-1m.parquet + manifest.json for one dataset (updates its catalog row). */
import { runJobChild } from './childRuntime.ts';

runJobChild('derive', async (p, ctx) => {
  const { deriveDataset } = await import('../bars/deriveDataset.ts');
  return deriveDataset(p.dataDir, p.datasetId, { onProgress: (x: { phase: string; done: number; total: number }) => ctx.progress(x.phase, x.done, x.total), signal: ctx.signal });
});
