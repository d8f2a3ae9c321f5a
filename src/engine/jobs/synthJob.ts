/**
 * Child process: the sample dataset — seeded synthetic DBN trades + TBBO (same bytes on every
 * machine), imported and derived like any user file. The generated files live in a temp dir
 * only until the import has copied them into the raw cache.
 */
import { withTempDir } from '../io/files.ts';
import { runJobChild } from './childRuntime.ts';

runJobChild('synth', async (p, ctx) => {
  const [{ synthesize }, { importFiles }] = await Promise.all([import('../ingest/synth.ts'), import('../ingest/importFiles.ts')]);
  return withTempDir(
    async (outDir) => {
      ctx.progress('synthesize', 0, 1, `synthesizing ${p.days} trading days of ${p.symbol} from ${p.start} (seed ${p.seed})`);
      const synth = await synthesize({
        symbol: p.symbol,
        start: p.start,
        days: p.days,
        seed: p.seed,
        outDir,
        ...(p.tradesPerDay ? { tradesPerDay: p.tradesPerDay } : {}),
      });
      ctx.log(
        'info',
        `synthesized ${synth.trades} trades over ${synth.tradingDays.length} days: ${synth.files.map((f) => f.slice(outDir.length + 1)).join(', ')}`,
      );
      if (ctx.signal.aborted) throw Object.assign(new Error('canceled'), { name: 'AbortError' });
      const result = await importFiles(synth.files, {
        dataDir: p.dataDir,
        symbol: p.symbol,
        derive: true,
        onProgress: ctx.phaseProgress,
        signal: ctx.signal,
      });
      return { ...result, trades: synth.trades, tradingDays: synth.tradingDays };
    },
    { prefix: 'btnb-synth-' },
  );
});
