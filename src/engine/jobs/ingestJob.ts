/** Child process: import DBN files into the data dir (raw cache + catalog), optionally deriving bars. */
import { runJobChild } from './childRuntime.ts';

runJobChild('ingest', async (p, ctx) => {
  const { importFiles } = await import('../ingest/importFiles.ts');
  ctx.log('info', `importing ${p.paths.length} file(s) into ${p.dataDir}${p.derive ? ' (derive bars)' : ''}`);
  return importFiles(p.paths, {
    dataDir: p.dataDir,
    ...(p.symbol ? { symbol: p.symbol } : {}),
    derive: p.derive,
    onProgress: ctx.phaseProgress,
    signal: ctx.signal,
  });
});
