/**
 * Where a backtest's time goes (issue 12's "measure first"): the steps of `runBacktestToCatalog`
 * replayed one after another with the product's own functions, each timed in CPU ms (this
 * thread's process.cpuUsage) and wall ms — set-up (strategy, params, costs, input hash), catalog
 * open and create, bars load, engine, each artifact's encode + write, fsync, manifest, rename,
 * catalog finish — for a single run and for a sweep point (catalog open and bars cached), plus
 * whole `btnb` processes (`node -e 0`, `btnb --help`, `btnb backtest`) with the CPU of the child.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { equityColumns, fillColumns, orderColumns, syncFiles, tradeColumns } from '../../src/engine/backtest/artifacts.ts';
import { toCosts } from '../../src/engine/backtest/costs.ts';
import { runBacktest } from '../../src/engine/backtest/engine.ts';
import { resolveStrategy } from '../../src/engine/backtest/runner.ts';
import { metricsJson } from '../../src/engine/backtest/statistics.ts';
import { parseParams } from '../../src/engine/backtest/strategy.ts';
import { openCatalog } from '../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../src/engine/dataDir.ts';
import { readBarsParquet } from '../../src/engine/parquet/barsParquet.ts';
import { writeParquetTable } from '../../src/engine/parquet/table.ts';
import { ENGINE_VERSION } from '../../src/engine/version.ts';
import type { BarSeries } from '../../src/engine/bars/barSeries.ts';
import type { CatalogPort } from '../../src/engine/ports/catalog.ts';

type Phase = { name: string; cpu: number; wall: number };

class Clock {
  #cpu = process.cpuUsage();
  #wall = performance.now();
  readonly phases: Phase[] = [];
  mark(name: string): void {
    const c = process.cpuUsage(this.#cpu);
    const now = performance.now();
    this.phases.push({ name, cpu: (c.user + c.system) / 1000, wall: now - this.#wall });
    this.#cpu = process.cpuUsage();
    this.#wall = performance.now();
  }
}

/** One run's steps in the runner's order; `shared` = a sweep point (catalog open, bars cached). */
async function onePoint(
  dataDir: string,
  datasetId: string,
  fast: number,
  shared: { catalog: CatalogPort; bars: BarSeries } | null,
): Promise<Phase[]> {
  const paths = dataPaths(dataDir);
  const clock = new Clock();
  const strategy = await resolveStrategy('sma-cross');
  const params = parseParams(strategy.def, { fast, slow: 60 }) as Record<string, unknown>;
  const costs = toCosts({});
  const hash = createHash('sha256')
    .update(JSON.stringify({ datasetId, params, costs, code: strategy.codeHash, fast }))
    .digest('hex');
  clock.mark('set-up: strategy, params, costs, input hash');
  const catalog = shared?.catalog ?? openCatalog(paths.catalog);
  if (!shared) clock.mark('catalog open');
  const dataset = catalog.getDataset(datasetId)!;
  const { run } = catalog.createRun({
    input_hash: hash,
    dataset_id: datasetId,
    symbol: dataset.symbol,
    strategy_id: strategy.strategyId,
    params,
    seed: 0,
    costs: costs as unknown as Record<string, unknown>,
    session: 'all',
    code_hash: strategy.codeHash,
    engine_version: ENGINE_VERSION,
    force: true,
    sweep_id: null,
    tags: [],
  });
  catalog.markRunning(run.run_id, new Date().toISOString());
  clock.mark('catalog: create run + mark running (2 transactions)');
  const bars = shared?.bars ?? (await readBarsParquet(paths.barsParquet(datasetId)));
  if (!shared) clock.mark('bars load (Parquet → columns)');
  const result = runBacktest(bars, { strategy: strategy.def, params, seed: 0, costs, session: 'all' });
  clock.mark('engine (runBacktest)');
  const dir = join(paths.backtestsRoot, `.${run.run_id}.${process.pid}.tmp`);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const file = (n: string) => {
    const f = join(dir, n);
    files.push(f);
    return f;
  };
  await writeFile(file('metrics.json'), metricsJson(result.metrics));
  clock.mark('artifact: metrics.json');
  await writeParquetTable(file('equity.parquet'), equityColumns(result), { metadata: { 'btnb.kind': 'btnb.equity' } });
  clock.mark('artifact: equity.parquet encode + write');
  await writeParquetTable(file('orders.parquet'), orderColumns(result), { metadata: { 'btnb.kind': 'btnb.orders' } });
  clock.mark('artifact: orders.parquet encode + write');
  await writeParquetTable(file('fills.parquet'), fillColumns(result), { metadata: { 'btnb.kind': 'btnb.fills' } });
  clock.mark('artifact: fills.parquet encode + write');
  await writeParquetTable(file('trades.parquet'), tradeColumns(result), { metadata: { 'btnb.kind': 'btnb.trades' } });
  clock.mark('artifact: trades.parquet encode + write');
  const manifest = JSON.stringify({ run_id: run.run_id, input_hash: hash, params, bar_count: result.bars.length }, null, 2);
  await writeFile(file('run-manifest.json'), `${manifest}\n`);
  clock.mark('manifest');
  await syncFiles([...files, dir]);
  clock.mark('fsync (files + dir)');
  await rename(dir, paths.runDir(run.run_id));
  await syncFiles([], [paths.backtestsRoot]);
  clock.mark('rename + dir fsync');
  catalog.markSucceeded(run.run_id, result.metrics as unknown as Record<string, number | null>, new Date().toISOString());
  clock.mark('catalog: mark succeeded');
  if (!shared) catalog.close();
  return clock.phases;
}

/** CPU ms of a child process (bash `time`: user + sys of the waited-for command) and its wall ms. */
function processCost(cmd: string[]): { wall: number; cpu: number } {
  const quoted = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const t = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='cpu %U %S'; time ${quoted} > /dev/null`], { encoding: 'utf8' });
  const wall = performance.now() - t;
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  return { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000 };
}

export async function reportRunPhases(opts: {
  bars: number;
  reps: number;
  cli: string | null;
  makeDataDir: (n: number, seed: number) => Promise<{ dataDir: string; datasetId: string }>;
}): Promise<void> {
  const { dataDir, datasetId } = await opts.makeDataDir(opts.bars, 5);
  try {
    // warm the module graph and JIT once, then the best of `reps` per phase
    await onePoint(dataDir, datasetId, 5, null);
    const best = (runs: Phase[][]) =>
      runs[0]!.map((p, i) => ({
        name: p.name,
        cpu: Math.min(...runs.map((r) => r[i]!.cpu)),
        wall: Math.min(...runs.map((r) => r[i]!.wall)),
      }));
    const single: Phase[][] = [];
    for (let r = 0; r < opts.reps; r++) single.push(await onePoint(dataDir, datasetId, 6 + r, null));
    const catalog = openCatalog(dataPaths(dataDir).catalog);
    const bars = await readBarsParquet(dataPaths(dataDir).barsParquet(datasetId));
    const point: Phase[][] = [];
    for (let r = 0; r < opts.reps * 3; r++) point.push(await onePoint(dataDir, datasetId, 20 + r, { catalog, bars }));
    catalog.close();
    const print = (title: string, phases: Phase[]) => {
      const total = phases.reduce((a, p) => a + p.cpu, 0);
      const engine = phases.find((p) => p.name.startsWith('engine'))!.cpu;
      console.log(
        `\n  ${title} — ${opts.bars.toLocaleString('en-US')} bars, best of ${title.startsWith('sweep') ? opts.reps * 3 : opts.reps} per phase:`,
      );
      for (const p of phases)
        console.log(
          `    ${p.name.padEnd(52)} CPU ${p.cpu.toFixed(1).padStart(7)} ms  wall ${p.wall.toFixed(1).padStart(7)} ms  ${((100 * p.cpu) / total).toFixed(0).padStart(3)}%`,
        );
      console.log(`    ${'total'.padEnd(52)} CPU ${total.toFixed(1).padStart(7)} ms   = ${(total / engine).toFixed(1)}× the engine`);
    };
    print('one backtest (catalog opened, bars read)', best(single));
    print('sweep point (catalog open, bars cached)', best(point));
    if (opts.cli) {
      const node = process.execPath;
      const backtestArgs = [
        node,
        opts.cli,
        'backtest',
        '--data-dir',
        dataDir,
        '--dataset',
        datasetId,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=7',
        '--param',
        'slow=60',
        '--force',
      ];
      const costs = {
        'node -e 0 (process start)': processCost([node, '-e', '0']),
        'btnb --help (start + CLI modules)': processCost([node, opts.cli, '--help']),
        'btnb backtest (whole process)': processCost(backtestArgs),
      };
      console.log(`\n  whole processes (dist/cli.js), one each:`);
      for (const [k, v] of Object.entries(costs))
        console.log(`    ${k.padEnd(52)} CPU ${v.cpu.toFixed(0).padStart(7)} ms  wall ${v.wall.toFixed(0).padStart(7)} ms`);
      // the CLI goals are about wall time on a shared machine: medians of several
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      for (const [k, cmd, goal] of [
        ['btnb --help', [node, opts.cli, '--help'], 150],
        ['btnb backtest (a year of bars)', backtestArgs, 400],
      ] as const) {
        const xs = Array.from({ length: 7 }, () => processCost([...cmd]));
        console.log(
          `    ${`${k}, median of 7`.padEnd(52)} CPU ${med(xs.map((x) => x.cpu))
            .toFixed(0)
            .padStart(7)} ms  wall ${med(xs.map((x) => x.wall))
            .toFixed(0)
            .padStart(7)} ms   [goal < ${goal} ms wall]`,
        );
      }
    }
    const { reportSweepScale } = await import('./sweepScale.ts');
    await reportSweepScale({ dataDir, datasetId, cli: opts.cli, reps: Math.max(1, Math.min(2, opts.reps)) });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
