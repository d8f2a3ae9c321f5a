/**
 * `btnb demo [--data-dir D]`: the README main job, end to end on synthetic data —
 * synth (DEMO, 2024-03-04, 5 trading days, seed 7) → import → derive → backtest sma-cross
 * fast=10 slow=30 → metrics table and artifact paths. Re-running reuses what exists (the
 * dataset id and the run's input_hash are content-derived).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../io/files.ts';
import { parseArgs, UsageError } from './args.ts';
import type { CliCommand } from './commands.ts';

const HELP = `Usage: btnb demo [--data-dir D] [--json]

Synthesizes 5 trading days of DEMO trades + TBBO (DBN, seed 7), imports them, derives
1-minute bars, runs the sma-cross baseline (fast=10, slow=30) and prints its metrics and
artifact paths. Data goes to --data-dir (default: $BTNB_DATA_DIR or ./data).`;

export const DEMO = {
  symbol: 'DEMO',
  start: '2024-03-04',
  days: 5,
  seed: 7,
  strategy: 'sma-cross',
  params: { fast: 10, slow: 30 },
} as const;

export const command: CliCommand = {
  summary: 'end-to-end demo: synth → import → derive → backtest sma-cross',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const json = args.flags.has('json');
    const { resolveDataDir } = await import('../dataDir.ts');
    const dataDir = resolveDataDir(args.values.get('data-dir'));
    await (await import('./recover.ts')).settleAbandoned(dataDir);
    const say = (s: string) => {
      if (!json) process.stdout.write(s);
    };
    const t = () => performance.now();

    say(`Backtest Notebook demo — data dir ${dataDir}\n`);
    const [{ synthesize }, { importFiles }, { LocalMarketData }, { LocalBacktestRunner }, { metricsTable }] = await Promise.all([
      import('../ingest/synth.ts'),
      import('../ingest/importFiles.ts'),
      import('../ingest/localMarketData.ts'),
      import('../backtest/runner.ts'),
      import('../backtest/format.ts'),
    ]);

    return withTempDir(
      async (scratch) => {
        let t0 = t();
        const synth = await synthesize({ symbol: DEMO.symbol, start: DEMO.start, days: DEMO.days, seed: DEMO.seed, outDir: scratch });
        say(
          `1. synth    ${synth.trades.toLocaleString('en-US')} trades over ${synth.tradingDays.join(', ')} → ${synth.files.length} DBN files (${(t() - t0).toFixed(0)} ms)\n`,
        );
        t0 = t();
        const imported = await importFiles(synth.files, { dataDir, symbol: DEMO.symbol, derive: false });
        const ds = imported.datasets.find((d) => d.symbol === DEMO.symbol);
        if (!ds)
          throw new Error(
            `demo: the import produced no ${DEMO.symbol} dataset (got ${imported.datasets.map((d) => d.symbol).join(', ') || 'none'})`,
          );
        say(
          `2. import   dataset ${ds.dataset_id} (${ds.schemas.join(' + ')}, ${ds.sources.length} sources) (${(t() - t0).toFixed(0)} ms)\n`,
        );
        t0 = t();
        const derived = await new LocalMarketData({ dataDir }).deriveBars(ds.dataset_id);
        say(
          `3. derive   ${derived.bar_count.toLocaleString('en-US')} 1-minute bars ${derived.start} → ${derived.end} → ${join(dataDir, derived.bars_path)} (${(t() - t0).toFixed(0)} ms)\n`,
        );
        t0 = t();
        const out = await new LocalBacktestRunner(dataDir).run({
          datasetId: ds.dataset_id,
          strategy: DEMO.strategy,
          params: { ...DEMO.params },
        });
        say(
          `4. backtest ${DEMO.strategy} fast=${DEMO.params.fast} slow=${DEMO.params.slow}: run ${out.run.run_id} ${out.run.status}${out.created ? '' : ' (reused: identical inputs)'} (${(t() - t0).toFixed(0)} ms)\n\n`,
        );
        const files = (await readdir(out.artifacts_dir)).sort().map((f) => join(out.artifacts_dir, f));
        if (json) {
          process.stdout.write(
            `${JSON.stringify({ data_dir: dataDir, dataset_id: ds.dataset_id, bar_count: derived.bar_count, run_id: out.run.run_id, status: out.run.status, input_hash: out.input_hash, artifacts_dir: out.artifacts_dir, artifacts: files, metrics: out.metrics })}\n`,
          );
        } else {
          say(metricsTable(out.metrics as Record<string, number | null> | null));
          say(`\nartifacts:\n${files.map((f) => `  ${f}\n`).join('')}`);
          say(`\nnext: btnb runs show ${out.run.run_id} --data-dir ${dataDir}\n`);
        }
        return out.run.status === 'succeeded' ? 0 : 1;
      },
      { prefix: 'btnb-demo-' },
    );
  },
};
