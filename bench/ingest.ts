/**
 * `npm run bench:ingest`: synthetic trades + tbbo (DBN v3, .dbn.zst; ≥ 5 M trades by default)
 * → `importFiles` + `deriveDataset` in a child process (fresh data dir each rep), next to the
 * baseline `zstd -d` on the same files in the same run. Prints MB/s (decompressed DBN bytes per
 * second), records/s, the ratio to zstd -d (goal ≥ 0.5) and the worker's peak RSS (goal < 300 MB).
 *
 * Env: BENCH_TRADES (default 5_000_000), BENCH_REPS (default 3), BENCH_KEEP=1 keeps the files.
 * The synthetic files are cached in bench/out/ (same options → same bytes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize, synthFileName } from '../src/engine/ingest/synth.ts';

const TRADES = Number(process.env.BENCH_TRADES ?? 5_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const DAYS = 20;
const outDir = join(import.meta.dirname, 'out', 'ingest');
const opts = { symbol: 'BENCH', start: '2024-01-02', days: DAYS, seed: 42, tradesPerDay: Math.ceil(TRADES / DAYS) };

const files = ['trades', 'tbbo'].map((s) => join(outDir, synthFileName(opts, s, true)));
if (!files.every((f) => existsSync(f))) {
  const t = performance.now();
  process.stderr.write(`synthesizing ${TRADES} trades + tbbo into ${outDir} …\n`);
  await synthesize({ ...opts, outDir });
  process.stderr.write(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
}
const compressed = files.reduce((s, f) => s + statSync(f).size, 0);

function zstdToNullMs(): number {
  // Output to /dev/null: zstd's own decompression speed, no pipe into this process.
  let ms = 0;
  for (const f of files) {
    const t = performance.now();
    const r = spawnSync('sh', ['-c', `zstd -d -c -q '${f}' > /dev/null`], { stdio: 'inherit' });
    ms += performance.now() - t;
    if (r.status !== 0) throw new Error(`zstd -d ${f} failed`);
  }
  return ms;
}

interface WorkerOut {
  peakSample: string;
  importMs: number;
  deriveMs: number;
  totalMs: number;
  cpuMs: number;
  maxRssKb: number;
  derive: { records: number; bytes: number; bar_count: number } | null;
}
function worker(mode: string): WorkerOut {
  const dataDir = mkdtempSync(join(tmpdir(), 'btnb-bench-ingest-'));
  try {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, 'ingestWorker.ts'), mode, dataDir, ...files], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`ingest worker failed (${r.status})`);
    return JSON.parse(r.stdout) as WorkerOut;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// This process stays small: a child's ru_maxrss starts from its parent's RSS at fork.
zstdToNullMs(); // warm the page cache
const zs: number[] = [];
const ours: WorkerOut[] = [];
const seq: WorkerOut[] = [];
const decodes: WorkerOut[] = [];
for (let i = 0; i < REPS; i++) {
  zs.push(zstdToNullMs());
  ours.push(worker('import+derive'));
  seq.push(worker('import,derive'));
  decodes.push(worker('decode'));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const zMs = med(zs);
const oMs = med(ours.map((o) => o.totalMs));
const dMs = med(seq.map((o) => o.deriveMs));
const iMs = med(seq.map((o) => o.importMs));
const sMs = med(seq.map((o) => o.totalMs));
const decMs = med(decodes.map((o) => o.totalMs));
const cpu = (xs: WorkerOut[]) => `${(med(xs.map((o) => o.cpuMs)) / 1000).toFixed(2)} s CPU`;
const records = ours[0]!.derive!.records;
const dbnBytes = ours[0]!.derive!.bytes;
const rss = Math.max(...ours.map((o) => o.maxRssKb), ...seq.map((o) => o.maxRssKb)) / 1024;
const mb = dbnBytes / 1e6;
const line = (name: string, ms: number, extra = '') =>
  `${name.padEnd(34)} ${(ms / 1000).toFixed(3).padStart(8)} s  ${(mb / (ms / 1000)).toFixed(1).padStart(8)} MB/s  ${(records / (ms / 1000) / 1e6).toFixed(2).padStart(6)} M rec/s${extra}`;
process.stdout.write(
  [
    `bench:ingest — ${records.toLocaleString('en-US')} records (${TRADES.toLocaleString('en-US')}-ish trades + tbbo), ${mb.toFixed(1)} MB DBN, ${(compressed / 1e6).toFixed(1)} MB .dbn.zst, ${REPS} reps (median)`,
    line('zstd -d (baseline)', zMs),
    line('import --derive (overlapped)', oMs, `  ${cpu(ours)}`),
    line('import, then derive (sequential)', sMs, `  ${cpu(seq)}`),
    line('  import (hash+copy+catalog)', iMs),
    line('  derive (decode+merge+bars)', dMs),
    line('  (DBN decoder alone)', decMs, `  ${cpu(decodes)}`),
    `ratio import --derive / zstd -d speed: ${(zMs / oMs).toFixed(2)}× (goal ≥ 0.5×); sequential: ${(zMs / sMs).toFixed(2)}×; derive alone: ${(zMs / dMs).toFixed(2)}×; decoder alone: ${(zMs / decMs).toFixed(2)}×`,
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (${cpus().length} cores; figures are only comparable within one run)`,
    `bars: ${ours[0]!.derive!.bar_count}; peak RSS of the import+derive process: ${rss.toFixed(0)} MB (goal < 300 MB); sampled peaks: ${ours.map((o) => o.peakSample).join('; ')}`,
    '',
  ].join('\n'),
);
if (process.env.BENCH_KEEP !== '1') {
  /* files stay cached in bench/out (gitignored) for the next run */
}
