/**
 * Issue 12's goals, measured on one data dir (a year of minute bars): the CPU of a light sweep
 * point by phase next to its engine time, a 1,000-point grid through `btnb sweep` with 1 and 2
 * workers (wall, CPU of all processes, runs per CPU-second) beside the same grid with
 * `--artifacts all` (every point a full run, the "before"), and materialising one light point.
 */
import { spawnSync } from 'node:child_process';
import { resolveStrategy, runIdentity, runManifest, computeResult } from '../../src/engine/backtest/runner.ts';
import { ensureRunArtifacts } from '../../src/engine/backtest/materialize.ts';
import { openCatalog } from '../../src/engine/catalog/sqliteCatalog.ts';
import { newUlid } from '../../src/engine/catalog/ulid.ts';
import { dataPaths } from '../../src/engine/dataDir.ts';
import { readBarsParquet } from '../../src/engine/parquet/barsParquet.ts';
import { ENGINE_VERSION } from '../../src/engine/version.ts';
import type { RecordRunInput } from '../../src/engine/ports/catalog.ts';
import { handLoop } from './handLoop.ts';

const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** CPU ms (all processes, bash `time`) and wall ms of one command; its stdout. */
function run(cmd: string[]): { wall: number; cpu: number; stdout: string } {
  const quoted = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const t = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='cpu %U %S'; time ${quoted}`], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = performance.now() - t;
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  return { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000, stdout: r.stdout };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function reportSweepScale(opts: { dataDir: string; datasetId: string; cli: string | null; reps: number }): Promise<void> {
  const { dataDir, datasetId } = opts;
  const bars = await readBarsParquet(dataPaths(dataDir).barsParquet(datasetId));
  const strategy = await resolveStrategy('sma-cross');
  const req = { datasetId, costs: {}, seed: 0, session: 'all' as const };

  // ── a light point, phase by phase (best of many points) ──
  const N = 64;
  const best = { identity: Infinity, engine: Infinity, manifest: Infinity };
  const rows: RecordRunInput[] = [];
  for (let k = 0; k < N; k++) {
    let c = cpuNow();
    const id = runIdentity(strategy, { ...req, params: { fast: 2 + (k % 40), slow: 50 + 10 * Math.floor(k / 40) } });
    best.identity = Math.min(best.identity, cpuNow() - c);
    c = cpuNow();
    const r = await computeResult(bars, strategy, id);
    best.engine = Math.min(best.engine, cpuNow() - c);
    c = cpuNow();
    const runId = newUlid();
    const manifest = runManifest({
      runId,
      datasetId,
      symbol: 'SYN',
      strategy,
      id,
      barCount: r.bars.length,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
    });
    best.manifest = Math.min(best.manifest, cpuNow() - c);
    rows.push({
      run_id: runId,
      input_hash: id.hash,
      dataset_id: datasetId,
      strategy_id: strategy.strategyId,
      params: id.params,
      seed: 0,
      costs: id.costs as unknown as Record<string, unknown>,
      session: 'all',
      code_hash: strategy.codeHash,
      engine_version: ENGINE_VERSION,
      sweep_id: null,
      tags: [],
      status: 'succeeded',
      metrics: r.metrics as unknown as Record<string, number | null>,
      error: null,
      started_at: new Date().toISOString(),
      finished_at: new Date().toISOString(),
      manifest,
      force: true,
    });
  }
  const catalog = openCatalog(dataPaths(dataDir).catalog);
  let c = cpuNow();
  let t = performance.now();
  const recorded = catalog.recordRuns(rows);
  const record = (cpuNow() - c) / N;
  const recordWall = (performance.now() - t) / N;
  // the hand-written loop of the same rules over the same bars, for scale
  let hand = Infinity;
  for (let k = 0; k < 9; k++) {
    const c0 = cpuNow();
    handLoop(bars, 100_000, 2 + k, 50);
    hand = Math.min(hand, cpuNow() - c0);
  }
  const total = best.identity + best.engine + best.manifest + record;
  console.log(`\n  light sweep point (bars cached; the catalog batch shared by ${N} points), best of ${N} per phase, CPU ms:`);
  for (const [k, v] of [
    ['identity: params, costs, input hash', best.identity],
    ['engine (computeResult)', best.engine],
    ['manifest', best.manifest],
    [`catalog: recordRuns (${N} per transaction, wall ${recordWall.toFixed(2)} ms/pt)`, record],
  ] as const)
    console.log(`    ${k.padEnd(60)} ${v.toFixed(2).padStart(8)}  ${((100 * v) / total).toFixed(0).padStart(3)}%`);
  console.log(
    `    ${'total'.padEnd(60)} ${total.toFixed(2).padStart(8)}   = ${(total / best.engine).toFixed(2)}× the engine   [goal ≤ 2×]`,
  );

  // ── materialising one light point ──
  const mats: { cpu: number; wall: number }[] = [];
  for (let k = 0; k < Math.min(5, recorded.length); k++) {
    c = cpuNow();
    t = performance.now();
    await ensureRunArtifacts(dataDir, catalog, recorded[k]!.run_id);
    mats.push({ cpu: cpuNow() - c, wall: performance.now() - t });
  }
  catalog.close();
  const rest = mats.slice(1);
  console.log(
    `\n  materialise one light point in process (re-run + 5 artifacts + fsync + rename): the first (bars read) CPU ${mats[0]!.cpu.toFixed(0)} ms, wall ${mats[0]!.wall.toFixed(0)} ms; the next ones (bars kept), median of ${rest.length}: CPU ${median(rest.map((m) => m.cpu)).toFixed(0)} ms, wall ${median(rest.map((m) => m.wall)).toFixed(0)} ms   [goal < 150 ms]`,
  );
  if (!opts.cli) return;
  const node = process.execPath;
  const lightId = recorded[10]!.run_id;
  const show = run([node, opts.cli, 'runs', 'show', lightId, '--artifacts', '--data-dir', dataDir]);
  console.log(
    `  btnb runs show ID --artifacts (whole process, a light point): CPU ${show.cpu.toFixed(0)} ms, wall ${show.wall.toFixed(0)} ms`,
  );

  // ── whole sweeps ──
  const sweep = (grid: string[], workers: number, artifacts: string) => {
    const r = run([
      node,
      opts.cli!,
      'sweep',
      '--data-dir',
      dataDir,
      '--dataset',
      datasetId,
      '--strategy',
      'sma-cross',
      ...grid,
      '--workers',
      String(workers),
      '--artifacts',
      artifacts,
      '--force',
      '--json',
    ]);
    const out = JSON.parse(r.stdout) as { runs: number; failed: number };
    if (out.failed) throw new Error(`${out.failed} sweep points failed`);
    return { ...r, runs: out.runs };
  };
  const big = ['--grid', 'fast=2:41:1', '--grid', 'slow=50:290:10']; // 40 × 25 = 1,000 points
  const small = ['--grid', 'fast=2:21:1', '--grid', 'slow=50:140:10']; // 20 × 10 = 200 points
  console.log(
    `\n  btnb sweep over ${bars.length.toLocaleString('en-US')} bars, whole process (start, bars read, all points, catalog), best of ${opts.reps}:`,
  );
  const line = (label: string, xs: ReturnType<typeof sweep>[], engineMs: number) => {
    const wall = Math.min(...xs.map((x) => x.wall));
    const cpu = Math.min(...xs.map((x) => x.cpu));
    const runs = xs[0]!.runs;
    console.log(
      `    ${label.padEnd(44)} ${runs} pts  wall ${(wall / 1000).toFixed(2)} s  CPU ${(cpu / 1000).toFixed(2)} s  ${(cpu / runs).toFixed(1)} CPU ms/pt (${(cpu / runs / engineMs).toFixed(1)}× engine)  ${((runs * 1000) / cpu).toFixed(1)} runs/CPU-s`,
    );
    return { wall, cpu, runs };
  };
  const reps = Math.max(1, opts.reps);
  const collect = (grid: string[], w: number, a: string) => Array.from({ length: reps }, () => sweep(grid, w, a));
  const before1 = line('--artifacts all, 1 worker (every point full)', collect(small, 1, 'all'), best.engine);
  const before2 = line('--artifacts all, 2 workers', collect(small, 2, 'all'), best.engine);
  const one = line('--artifacts top:10 (default), 1 worker', collect(big, 1, 'top:10'), best.engine);
  const two = line('--artifacts top:10 (default), 2 workers', collect(big, 2, 'top:10'), best.engine);
  const none1 = line('--artifacts none, 1 worker', collect(big, 1, 'none'), best.engine);
  const perCpu = (x: { runs: number; cpu: number }) => x.runs / x.cpu;
  console.log(
    `    runs per CPU-second, 2 workers ÷ 1 worker: light ${(perCpu(two) / perCpu(one)).toFixed(2)}×, full ${(perCpu(before2) / perCpu(before1)).toFixed(2)}×   [goal ≥ 0.9×]`,
  );
  console.log(
    `    1,000-point grid, 1 worker: ${(one.wall / 1000).toFixed(2)} s wall   [goal < 15 s]; engine alone ${((best.engine * one.runs) / 1000).toFixed(2)} s; --artifacts none ${(none1.wall / 1000).toFixed(2)} s`,
  );
}
