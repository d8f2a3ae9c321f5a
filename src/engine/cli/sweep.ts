/**
 * `btnb sweep`: a parameter grid, each point a catalog run (idempotent), across N worker
 * processes; results sorted by a metric. `--walk-forward TRAIN:TEST` instead optimises on each
 * training window and reports the stitched out-of-sample equity and metrics.
 */
import { availableParallelism } from 'node:os';
import { parseArgs, UsageError, intOption } from './args.ts';
import type { CliCommand } from './commands.ts';
import { RUN_OPTIONS, RUN_OPTIONS_HELP, costsOption, parseParams, parseSeed, parseSession, requireValue } from './backtestOptions.ts';

const HELP = `Usage: btnb sweep --dataset ID --strategy S --grid k=a:b:step [--grid k=v1,v2 ...] [options]

Runs every combination of the grid (points the strategy rejects, e.g. slow ≤ fast, are
skipped and counted). Each point is a catalog run, idempotent by input_hash.

Options:
  --grid k=a:b:step|k=v1,v2   a grid dimension (repeatable; ranges are inclusive)
  --workers N                 worker processes (default: number of cores)
  --sort METRIC               rank by this metrics.json key (default sharpe; max_drawdown ranks low first)
  --top N                     rows shown on a terminal (default 20; --json has all)
  --artifacts all|top:N|none  which points get Parquet artifacts as they run (default top:10 by
                              --sort); the others are recorded with their metrics and their
                              artifacts re-created when opened (btnb runs show --artifacts)
  --walk-forward TRAIN:TEST   e.g. 20d:5d — optimise on TRAIN trading days, test on the next TEST, roll
  --queue redis://HOST:6379   run the points on \`btnb worker\`s through BullMQ on that Redis: this
                              process coordinates (catalog, progress, results) and serves the
                              workers' bars and uploads on --listen until the sweep ends
  --listen HOST:PORT          the coordinator's address for the workers (default 127.0.0.1:8787;
                              any other host needs --token)
  --token T                   bearer token the workers must send (btnb worker --token)
  --queue-name Q              the BullMQ queue (default btnb-points; one per coordinator sharing a Redis)
${RUN_OPTIONS_HELP}

Example: btnb sweep --dataset ds_… --strategy sma-cross --grid fast=5:50:5 --grid slow=20:200:10`;

function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    const w = 30;
    const f = total ? Math.round((done / total) * w) : w;
    process.stderr.write(`\r${label} [${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(2)}%`);
const num = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(3));

function render(rows: string[][], head: string[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n') + '\n';
}

export const command: CliCommand = {
  summary: 'parameter sweep (parallel workers) or walk-forward optimisation',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {
      ...RUN_OPTIONS,
      grid: { type: 'multi' },
      workers: { type: 'string' },
      sort: { type: 'string' },
      top: { type: 'string' },
      artifacts: { type: 'string' },
      'walk-forward': { type: 'string' },
      worker: { type: 'boolean' },
      queue: { type: 'string' },
      'queue-name': { type: 'string' },
      listen: { type: 'string' },
      token: { type: 'string' },
    });
    if (args.flags.has('worker')) {
      const { sweepWorkerMain } = await import('../sweep/index.ts');
      return sweepWorkerMain();
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const datasetId = requireValue(args, 'dataset');
    const strategy = requireValue(args, 'strategy');
    const fixed = parseParams(args.multi.get('param'));
    const costs = costsOption(args);
    const seed = parseSeed(args);
    const session = parseSession(args);
    const json = args.flags.has('json');
    const sort = args.values.get('sort') ?? 'sharpe';
    const { METRIC_KEYS } = await import('../backtest/statistics.ts');
    if (!(METRIC_KEYS as readonly string[]).includes(sort))
      throw new UsageError(`--sort expects a metrics key (${METRIC_KEYS.join(', ')}), got '${sort}'`);
    const top = intOption(args, 'top', 20)!;
    const workers = intOption(args, 'workers', availableParallelism())!;
    if (workers < 1) throw new UsageError('--workers expects an integer ≥ 1');
    const gridSpecs = args.multi.get('grid') ?? [];
    if (gridSpecs.length === 0) throw new UsageError('missing --grid');
    const { parseGrid, gridPoints, metricScore, GridError, parseArtifactsMode, formatArtifactsMode } = await import('../sweep/grid.ts');
    let artifacts;
    try {
      artifacts = parseArtifactsMode(args.values.get('artifacts') ?? 'top:10');
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
    let grid;
    try {
      grid = parseGrid(gridSpecs);
    } catch (e) {
      if (e instanceof GridError) throw new UsageError(e.message);
      throw e;
    }
    for (const [k] of grid) if (Object.hasOwn(fixed, k)) throw new UsageError(`${k} is both a --grid and a --param`);
    const points = gridPoints(grid, fixed);
    const { resolveDataDir } = await import('../dataDir.ts');
    const dataDir = resolveDataDir(args.values.get('data-dir'));
    await (await import('./recover.ts')).settleAbandoned(dataDir);
    const gridKeys = grid.map(([k]) => k);

    const wf = args.values.get('walk-forward');
    if (wf !== undefined) {
      const { parseWalkForward } = await import('../sweep/index.ts');
      let trainTest: [number, number];
      try {
        trainTest = parseWalkForward(wf);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const { runWalkForward } = await import('../sweep/index.ts');
      const entry = process.argv[1];
      const ac = new AbortController();
      const onSignal = () => ac.abort();
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      let r;
      try {
        r = await runWalkForward({
          dataDir,
          datasetId,
          strategy,
          points,
          trainDays: trainTest[0],
          testDays: trainTest[1],
          sortKey: sort,
          seed,
          costs,
          session,
          force: args.flags.has('force'),
          workers,
          signal: ac.signal,
          ...(entry ? { workerEntry: entry } : {}),
          ...(progressBar('walk-forward') ? { onProgress: progressBar('walk-forward')! } : {}),
        });
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      const resolved = { strategyId: r.strategy_id };
      if (json) {
        const ts = Array.from(r.equity.ts, (t) => new Date(t / 1e6).toISOString());
        process.stdout.write(
          `${JSON.stringify({ walk_forward_id: r.walk_forward_id, dataset_id: datasetId, strategy_id: resolved.strategyId, train_days: trainTest[0], test_days: trainTest[1], sort, folds: r.folds, metrics: r.metrics, equity: { ts, equity: Array.from(r.equity.equity) } })}\n`,
        );
      } else {
        const rows = r.folds.map((f) => [
          `${f.train_start}..${f.train_end}`,
          `${f.test_start}..${f.test_end}`,
          gridKeys.map((k) => `${k}=${String(f.best_params[k])}`).join(' '),
          num(f.train_score),
          pct(f.test_return),
          f.run_id ?? '—',
        ]);
        process.stdout.write(
          render(rows, ['train (NY dates)', 'test', 'best params', `train ${sort}`, 'test return', 'out-of-sample run']),
        );
        const { metricsTable } = await import('../backtest/format.ts');
        process.stdout.write(
          `\nstitched out-of-sample (${r.equity.equity.length} bars, ${r.folds.length} folds; walk-forward ${r.walk_forward_id}, its runs tagged walk-forward:${r.walk_forward_id}):\n${metricsTable(r.metrics as unknown as Record<string, number | null>)}`,
        );
      }
      return 0;
    }

    const { runSweep } = await import('../sweep/index.ts');
    const entry = process.argv[1];
    const t0 = performance.now();
    const ac = new AbortController();
    const onSignal = () => ac.abort();
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    let res;
    const queue = args.values.get('queue');
    const run = queue
      ? async (req: Parameters<typeof runSweep>[0]) => {
          const { coordinateSweep, ListenError } = await import('../distributed/sweepCoordinator.ts');
          try {
            return await coordinateSweep(req, {
              redisUrl: queue,
              listen: args.values.get('listen') ?? '127.0.0.1:8787',
              token: args.values.get('token') ?? null,
              quiet: json,
              ...(args.values.get('queue-name') ? { queueName: args.values.get('queue-name')! } : {}),
            });
          } catch (err) {
            if (err instanceof ListenError) throw new UsageError(`--${err.message}`);
            throw err;
          }
        }
      : runSweep;
    try {
      res = await run({
        dataDir,
        datasetId,
        strategy,
        points,
        seed,
        costs,
        session,
        force: args.flags.has('force'),
        workers,
        artifacts,
        sortKey: sort,
        signal: ac.signal,
        ...(entry ? { workerEntry: entry } : {}),
        ...(progressBar('sweep') ? { onProgress: progressBar('sweep')! } : {}),
      });
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    const secs = (performance.now() - t0) / 1000;
    const sorted = [...res.results].sort((a, b) => metricScore(b.metrics, sort) - metricScore(a.metrics, sort));
    const failed = res.results.filter((r) => r.status !== 'succeeded').length;
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ sweep_id: res.sweep_id, dataset_id: datasetId, strategy, sort, artifacts: formatArtifactsMode(artifacts), points: points.length, runs: res.results.length, failed, skipped: res.skipped, seconds: Number(secs.toFixed(3)), results: sorted })}\n`,
      );
    } else {
      const rows = sorted
        .slice(0, top)
        .map((r, i) => [
          `${i + 1}. ${gridKeys.map((k) => `${k}=${String(r.params[k])}`).join(' ')}`,
          r.run_id ?? '—',
          r.status,
          num(r.metrics?.[sort] ?? null),
          pct(r.metrics?.total_return),
          pct(r.metrics?.max_drawdown),
          String(r.metrics?.num_trades ?? '—'),
        ]);
      process.stdout.write(render(rows, ['params', 'run_id', 'status', sort, 'return', 'max_dd', 'trades']));
      const reused = res.results.filter((r) => !r.created).length;
      process.stdout.write(
        `\n${res.results.length} runs (${reused} reused, ${failed} not succeeded), ${res.skipped.length} grid points skipped as invalid; ${secs.toFixed(1)} s with ${Math.min(workers, Math.max(1, res.results.length))} worker(s); sweep ${res.sweep_id}\n`,
      );
      for (const r of res.results.filter((x) => x.error).slice(0, 3))
        process.stderr.write(`failed ${JSON.stringify(r.params)}: ${r.error}\n`);
    }
    if (ac.signal.aborted) return 1;
    return failed === 0 ? 0 : 1;
  },
};
