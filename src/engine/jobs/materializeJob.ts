/**
 * Child process: writes a light sweep point's artifacts (backtest/materialize.ts) — one engine
 * run over its recorded inputs — for hosts whose event loop must stay free (`btnb serve`, the
 * extension host). A MaterializeError's code travels in the error message's `code`.
 */
import { runJobChild } from './childRuntime.ts';

runJobChild('materialize', async (p, ctx) => {
  const [{ openCatalog }, { dataPaths }, { ensureRunArtifacts }] = await Promise.all([
    import('../catalog/sqliteCatalog.ts'),
    import('../dataDir.ts'),
    import('../backtest/materialize.ts'),
  ]);
  const catalog = openCatalog(dataPaths(p.dataDir).catalog);
  try {
    const written = catalog.getRun(p.runId)?.materialized === false;
    const artifactsDir = await ensureRunArtifacts(p.dataDir, catalog, p.runId, { signal: ctx.signal });
    return { runId: p.runId, artifactsDir, written };
  } finally {
    catalog.close();
  }
});
