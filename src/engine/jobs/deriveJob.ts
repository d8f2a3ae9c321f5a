/** Child process: derive bars-1m.parquet + manifest.json for one dataset (updates its catalog row). */
import { runJobChild } from './childRuntime.ts';

runJobChild('derive', async (p, ctx) => {
  const { LocalMarketData } = await import('../ingest/localMarketData.ts');
  return new LocalMarketData({ dataDir: p.dataDir }).deriveBars(p.datasetId, { onProgress: ctx.phaseProgress, signal: ctx.signal });
});
