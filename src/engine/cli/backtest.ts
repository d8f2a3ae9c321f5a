/**
 * `btnb backtest`: one catalog run of a strategy over a dataset; prints a metrics table (TTY)
 * or `{"run_id","status","input_hash","artifacts_dir","metrics"}` with --json.
 * SIGTERM/SIGINT while running → the run ends `canceled`, no artifact under a final name.
 */
import { parseArgs, UsageError } from './args.ts';
import type { CliCommand } from './commands.ts';
import { RUN_OPTIONS, RUN_OPTIONS_HELP, costsOption, parseParams, parseSeed, parseSession, requireValue } from './backtestOptions.ts';

const HELP = `Usage: btnb backtest --dataset ID --strategy sma-cross|PATH [--param k=v ...] [options]

Runs a deterministic backtest, records it in the catalog and writes its artifacts to
<data-dir>/backtests/<run_id>/. An identical earlier run (same input_hash) is returned
instead unless --force.

Options:
${RUN_OPTIONS_HELP}

Example: btnb backtest --dataset ds_… --strategy sma-cross --param fast=10 --param slow=30`;

export const command: CliCommand = {
  summary: 'run a backtest (catalog run + artifacts)',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, RUN_OPTIONS);
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const datasetId = requireValue(args, 'dataset');
    const strategy = requireValue(args, 'strategy');
    const params = parseParams(args.multi.get('param'));
    const costs = costsOption(args);
    const seed = parseSeed(args);
    const session = parseSession(args);
    const json = args.flags.has('json');
    const { resolveDataDir, dataPaths } = await import('../dataDir.ts');
    const { LocalBacktestRunner } = await import('../backtest/runner.ts');
    const { metricsTable } = await import('../backtest/format.ts');
    const { existsSync } = await import('node:fs');
    const dataDir = resolveDataDir(args.values.get('data-dir'));
    // one connection for recovery and the run (each open + close costs ~5-10 ms); without a
    // catalog file the runner says what to do
    const catalogPath = dataPaths(dataDir).catalog;
    const catalog = existsSync(catalogPath) ? (await import('../catalog/sqliteCatalog.ts')).openCatalog(catalogPath) : undefined;
    await (await import('./recover.ts')).settleAbandoned(dataDir, catalog);

    const ac = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (!ac.signal.aborted) process.stderr.write(`btnb backtest: ${sig}: canceling…\n`);
      ac.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const out = await new LocalBacktestRunner(dataDir, catalog ? { catalog } : {}).run({
        datasetId,
        strategy,
        params,
        costs,
        seed,
        session,
        force: args.flags.has('force'),
        signal: ac.signal,
        onStatus: (r) => {
          if (!json && process.stderr.isTTY) process.stderr.write(`run ${r.run_id}: ${r.status}\n`);
        },
      });
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ run_id: out.run.run_id, status: out.run.status, input_hash: out.input_hash, artifacts_dir: out.artifacts_dir, metrics: out.metrics })}\n`,
        );
      } else {
        const note = out.created ? '' : ` (identical to an earlier run: input_hash ${out.input_hash.slice(0, 12)}…; --force for a new one)`;
        process.stdout.write(`run ${out.run.run_id}  ${out.run.status}${note}\n`);
        process.stdout.write(
          `strategy ${out.run.strategy_id} ${JSON.stringify(out.run.params)} on ${datasetId} (${out.run.symbol ?? '?'}), session ${session}, seed ${seed}\n\n`,
        );
        process.stdout.write(metricsTable(out.metrics as Record<string, number | null> | null));
        process.stdout.write(`\nartifacts: ${out.artifacts_dir}\n`);
      }
      return out.run.status === 'succeeded' ? 0 : 1;
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') {
        const run = (err as { run?: { run_id: string } }).run;
        process.stderr.write(`btnb backtest: canceled${run ? ` (run ${run.run_id} marked canceled)` : ''}\n`);
        return 1;
      }
      if (err instanceof Error && err.name === 'StrategyParamsError') throw new UsageError(err.message);
      throw err;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      catalog?.close();
    }
  },
};
