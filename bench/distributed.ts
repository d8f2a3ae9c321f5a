/**
 * `npm run bench:distributed`: the same 256-point sma-cross sweep over a year of minute bars
 * (199,301 bars), light points (`--artifacts none`), run
 *   - locally: `btnb sweep --workers 1|2` (the worker pool);
 *   - through the queue: `btnb sweep --queue` (the coordinator) with 1 and 2 `btnb worker`
 *     processes on a bench-local redis-server.
 * Printed: wall, CPU of every process (coordinator, workers, Redis; /proc and bash `time`), runs
 * per CPU-second, the queue's overhead per point (coordinator + Redis CPU, its fixed start-up
 * taken out with a 1-point sweep), bytes moved per point (Redis network in+out, bars fetched),
 * and whether every point's metrics equal the local sweep's. Each configuration gets a fresh
 * copy of the data dir (points would otherwise be reused by input_hash) and a fresh worker cache.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { makeDataDir } from '../test/unit/backtest/support/dataset.ts';
import { freePort } from '../test/support/redisServer.ts';
import { dataPaths } from '../src/engine/dataDir.ts';

const MAIN = new URL('../dist/cli.js', import.meta.url).pathname;
const BARS = Number(process.env.BENCH_BARS ?? 199_301);
const FAST = Array.from({ length: 32 }, (_, i) => i + 2); // 2..33
const SLOW = [60, 80, 100, 120, 140, 160, 180, 200];
const POINTS = FAST.length * SLOW.length;
const TICK_MS = 10; // /proc clock ticks (USER_HZ 100)

/** utime + stime of a live process, ms. */
function procCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
}

/** CPU ms (bash `time`: the command and its children) and wall ms; stdout. */
function timed(cmd: string[]): { wall: number; cpu: number; stdout: string } {
  const quoted = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const t = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='cpu %U %S'; time ${quoted}`], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = performance.now() - t;
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000, stdout: r.stdout };
}

type Result = { params: Record<string, unknown>; metrics: Record<string, number | null> | null; status: string };

function sweepArgs(dataDir: string, datasetId: string, grid: [string, string]): string[] {
  return [
    process.execPath,
    MAIN,
    'sweep',
    '--data-dir',
    dataDir,
    '--dataset',
    datasetId,
    '--strategy',
    'sma-cross',
    '--grid',
    grid[0],
    '--grid',
    grid[1],
    '--artifacts',
    'none',
    '--json',
  ];
}
const FULL: [string, string] = [`fast=${FAST.join(',')}`, `slow=${SLOW.join(',')}`];
const ONE: [string, string] = ['fast=5', 'slow=60'];
const WARMUP: [string, string] = ['fast=2:17:1', 'slow=61'];

async function startRedis(): Promise<{ url: string; proc: ChildProcess; client: Redis; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'btnb-bench-redis-'));
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
    { stdio: 'ignore' },
  );
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  for (let i = 0; i < 200; i++) {
    try {
      if ((await client.ping()) === 'PONG') break;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    proc,
    client,
    async stop() {
      client.disconnect();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function redisNet(client: Redis): Promise<number> {
  const info = await client.info('stats');
  const n = (k: string) => Number(new RegExp(`${k}:(\\d+)`).exec(info)?.[1] ?? 0);
  return n('total_net_input_bytes') + n('total_net_output_bytes');
}

interface QueueRun {
  wall: number;
  coordCpu: number;
  workerCpu: number;
  redisCpu: number;
  redisBytes: number;
  barsBytes: number;
  results: Result[];
}

/** The sweeps in `grids`, one after another, on the same workers, Redis and data dir (later ones find the workers warm). */
async function queueSweeps(src: { dataDir: string; datasetId: string }, workersN: number, grids: [string, string][]): Promise<QueueRun[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'btnb-bench-dq-'));
  cpSync(src.dataDir, dataDir, { recursive: true });
  const redis = await startRedis();
  const port = await freePort();
  const server = `http://127.0.0.1:${port}`;
  const caches: string[] = [];
  const workers = Array.from({ length: workersN }, () => {
    const cache = mkdtempSync(join(tmpdir(), 'btnb-bench-wcache-'));
    caches.push(cache);
    const p = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_WORKER_FLAGS ? process.env.BENCH_WORKER_FLAGS.split(' ') : []),
        MAIN,
        'worker',
        '--redis',
        redis.url,
        '--server',
        server,
        '--concurrency',
        '1',
        '--cache',
        cache,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    p.stderr.on('data', (d: Buffer) => (log += d.toString()));
    return { p, log: () => log };
  });
  try {
    // workers wait (patiently) for the coordinator; their start-up CPU is before the baseline
    await new Promise((r) => setTimeout(r, 1500));
    const out: QueueRun[] = [];
    let barsBefore = 0;
    for (const grid of grids) {
      const w0 = workers.map((w) => procCpu(w.p.pid!));
      const r0 = procCpu(redis.proc.pid!);
      const n0 = await redisNet(redis.client);
      const t = timed([...sweepArgs(dataDir, src.datasetId, grid), '--queue', redis.url, '--listen', `127.0.0.1:${port}`]);
      const workerCpu = workers.reduce((a, w, i) => a + procCpu(w.p.pid!) - w0[i]!, 0);
      const redisCpu = procCpu(redis.proc.pid!) - r0;
      const redisBytes = (await redisNet(redis.client)) - n0;
      const bars = caches.reduce((a, c) => a + dirSize(join(c, 'bars')), 0);
      out.push({
        wall: t.wall,
        coordCpu: t.cpu,
        workerCpu,
        redisCpu,
        redisBytes,
        barsBytes: bars - barsBefore,
        results: (JSON.parse(t.stdout) as { results: Result[] }).results,
      });
      barsBefore = bars;
    }
    return out;
  } finally {
    for (const w of workers) w.p.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.p.exitCode !== null ? r(null) : w.p.once('exit', r)))));
    await redis.stop();
    for (const d of [dataDir, ...caches]) rmSync(d, { recursive: true, force: true });
  }
}

function dirSize(dir: string): number {
  try {
    const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
    return Number(r.stdout.split('\t')[0]) || 0;
  } catch {
    return 0;
  }
}

function localSweep(
  src: { dataDir: string; datasetId: string },
  workers: number,
  grid = FULL,
): { wall: number; cpu: number; results: Result[] } {
  const dataDir = mkdtempSync(join(tmpdir(), 'btnb-bench-dl-'));
  cpSync(src.dataDir, dataDir, { recursive: true });
  try {
    const t = timed([...sweepArgs(dataDir, src.datasetId, grid), '--workers', String(workers)]);
    return { wall: t.wall, cpu: t.cpu, results: (JSON.parse(t.stdout) as { results: Result[] }).results };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const key = (p: Record<string, unknown>) => `${String(p.fast)}/${String(p.slow)}`;
function sameMetrics(a: Result[], b: Result[]): number {
  const m = new Map(a.map((r) => [key(r.params), JSON.stringify(r.metrics)]));
  return b.filter((r) => m.get(key(r.params)) === JSON.stringify(r.metrics)).length;
}

const src = await makeDataDir(BARS, 3, mkdtempSync(join(tmpdir(), 'btnb-bench-dist-')));
console.log(
  `bench:distributed — ${POINTS}-point sma-cross sweep (light points) over ${BARS.toLocaleString('en-US')} bars; bars.parquet ${(statSync(dataPaths(src.dataDir).barsParquet(src.datasetId)).size / 1e6).toFixed(1)} MB`,
);
try {
  const rows: string[] = [];
  const fmt = (name: string, wall: number, cpu: number, extra = '') =>
    rows.push(
      `  ${name.padEnd(26)} wall ${(wall / 1000).toFixed(2).padStart(6)} s  cpu ${(cpu / 1000).toFixed(2).padStart(6)} s  ${(POINTS / (cpu / 1000)).toFixed(1).padStart(6)} runs/cpu-s${extra}`,
    );
  const best = <T extends { cpu: number }>(f: () => T, n = 2): T => Array.from({ length: n }, f).sort((a, b) => a.cpu - b.cpu)[0]!;
  const l1 = best(() => localSweep(src, 1), 3);
  const l2 = best(() => localSweep(src, 2), 3);
  const l1one = best(() => localSweep(src, 1, ONE), 3);
  const l2one = best(() => localSweep(src, 2, ONE), 3);
  fmt('local, 1 worker', l1.wall, l1.cpu);
  fmt('local, 2 workers (pool)', l2.wall, l2.cpu);
  const all = (r: QueueRun) => r.coordCpu + r.workerCpu + r.redisCpu;
  // cold: fresh worker processes and caches, the sweep is their first (bars fetched, code loaded)
  const REPS = Number(process.env.BENCH_REPS ?? 3);
  const bestRun = async (n: number, grids: [string, string][]): Promise<QueueRun[]> => {
    // best of REPS by the measured (last) sweep's CPU: this VM's neighbours add noise, never savings
    let best: QueueRun[] | null = null;
    for (let k = 0; k < REPS; k++) {
      const r = await queueSweeps(src, n, grids);
      if (!best || all(r.at(-1)!) < all(best.at(-1)!)) best = r;
    }
    return best!;
  };
  const [base] = await bestRun(1, [ONE]);
  const fixed = base!.coordCpu + base!.redisCpu;
  const q: Record<number, QueueRun> = {};
  // warm: the same workers after a 16-point sweep of other points (a pool that has run before)
  const warm: Record<number, { one: QueueRun; full: QueueRun }> = {};
  for (const n of [1, 2]) {
    const [r] = await bestRun(n, [FULL]);
    q[n] = r!;
    const overhead = (r!.coordCpu + r!.redisCpu - fixed) / (POINTS - 1);
    fmt(
      `queue, ${n} worker${n > 1 ? 's' : ''} (cold)`,
      r!.wall,
      all(r!),
      `  (coordinator ${(r!.coordCpu / 1000).toFixed(2)} s incl. its start-up, workers ${(r!.workerCpu / 1000).toFixed(2)} s, redis ${(r!.redisCpu / 1000).toFixed(2)} s)`,
    );
    rows.push(
      `      queue overhead ${overhead.toFixed(2)} ms CPU/point (coordinator + Redis, start-up ${(fixed / 1000).toFixed(2)} s taken out); moved ${((r!.redisBytes + r!.barsBytes) / POINTS / 1024).toFixed(1)} KiB/point (Redis ${(r!.redisBytes / POINTS / 1024).toFixed(2)} KiB, bars ${(r!.barsBytes / 1e6).toFixed(1)} MB once per worker); metrics equal to local: ${sameMetrics(l2.results, r!.results)}/${POINTS}`,
    );
    const [, one, full] = await bestRun(n, [WARMUP, ONE, FULL]);
    warm[n] = { one: one!, full: full! };
    fmt(
      `queue, ${n} worker${n > 1 ? 's' : ''} (warm)`,
      full!.wall,
      all(full!),
      `  (workers ${(full!.workerCpu / 1000).toFixed(2)} s; metrics equal to local: ${sameMetrics(l2.results, full!.results)}/${POINTS})`,
    );
  }
  console.log(rows.join('\n'));
  // per point beyond each form's fixed start-up (a 1-point sweep of the same form): what a long sweep costs
  const marginal = (cpu: number, one: number) => (cpu - one) / (POINTS - 1);
  const ml1 = marginal(l1.cpu, l1one.cpu);
  const ml2 = marginal(l2.cpu, l2one.cpu);
  const mw1 = marginal(all(warm[1]!.full), all(warm[1]!.one));
  const mw2 = marginal(all(warm[2]!.full), all(warm[2]!.one));
  console.log(
    `  per point beyond start-up (CPU ms): local ${ml1.toFixed(2)} (1 worker), ${ml2.toFixed(2)} (pool); queue, warm workers ${mw1.toFixed(2)} (1), ${mw2.toFixed(2)} (2)`,
  );
  console.log(
    `  runs per CPU-second, queue vs local pool: whole sweep, cold (every start-up counted) ${(l2.cpu / all(q[1]!)).toFixed(2)}× (1 worker), ${(l2.cpu / all(q[2]!)).toFixed(2)}× (2 workers); warm workers, per point ${(ml2 / mw1).toFixed(2)}×, ${(ml2 / mw2).toFixed(2)}×; goal ≥ 0.9×`,
  );
  console.log(
    `  start-up (CPU s): local ${(l1one.cpu / 1000).toFixed(2)} (1 worker), ${(l2one.cpu / 1000).toFixed(2)} (pool); queue coordinator + Redis ${(fixed / 1000).toFixed(2)}, a cold worker's first point ${(base!.workerCpu / 1000).toFixed(2)}`,
  );
} finally {
  rmSync(src.dataDir, { recursive: true, force: true });
}
