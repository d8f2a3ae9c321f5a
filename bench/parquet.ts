/**
 * `npm run bench:parquet`: bars-1m.parquet write/read throughput for 1 M and 10 M synthetic bars,
 * each phase in its own child process so peak RSS (maxRSS) is per phase, next to DuckDB's
 * native (C++) Parquet reader/writer on the same file in the same run (threads = 1) as the
 * baseline, with the ratio. Memory: peak RSS during the write minus RSS before it, against
 * the in-memory column bytes of the series (goal: the write needs ≤ ~1× extra, i.e. ≤ 2× total).
 *
 * Env: BENCH_SIZES (default "1000000,10000000"), BENCH_DIR (default: a temp dir, removed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocBarSeries, type BarSeries } from '../src/engine/bars/barSeries.ts';
import { readBarsParquet, writeBarsParquet } from '../src/engine/parquet/barsParquet.ts';

const MIN = 60e9;

function synthBars(n: number): BarSeries {
  const b = allocBarSeries('BENCH', n);
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let cents = 10_000;
  const t0 = Date.parse('2018-01-02T14:30:00Z') * 1e6;
  for (let i = 0; i < n; i++) {
    const o = cents;
    cents = Math.max(100, cents + Math.floor(rnd() * 7) - 3);
    b.ts[i] = t0 + (i + Math.floor(i / 390) * 1050) * MIN; // 390 bars a session, then a gap
    b.open[i] = o / 100;
    b.close[i] = cents / 100;
    b.high[i] = (Math.max(o, cents) + Math.floor(rnd() * 3)) / 100;
    b.low[i] = (Math.min(o, cents) - Math.floor(rnd() * 3)) / 100;
    const v = 100 + Math.floor(rnd() * 5000);
    b.volume[i] = v;
    b.tradeCount[i] = 1 + (v >> 6);
    b.vwap[i] = (o + cents) / 200;
    b.buyVolume[i] = v >> 1;
    b.sellVolume[i] = v >> 2;
    const qc = Math.floor(rnd() * 40);
    b.quoteCount[i] = qc;
    if (qc > 0) {
      b.bidClose[i] = (cents - 1) / 100;
      b.askClose[i] = (cents + 1) / 100;
      b.spreadMean[i] = 0.01 + Math.floor(rnd() * 4) / 100;
      b.spreadMax[i] = 0.05;
      b.bidSizeMean[i] = 1 + Math.floor(rnd() * 900) / 10;
      b.askSizeMean[i] = 1 + Math.floor(rnd() * 900) / 10;
      b.imbalanceMean[i] = rnd() * 2 - 1;
    } else {
      b.bidClose[i] = b.askClose[i] = b.spreadMean[i] = b.spreadMax[i] = b.bidSizeMean[i] = b.askSizeMean[i] = b.imbalanceMean[i] = NaN;
    }
  }
  return b;
}

function columnBytes(b: BarSeries): number {
  let s = 0;
  for (const v of Object.values(b)) if (ArrayBuffer.isView(v)) s += v.byteLength;
  return s;
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const maxRssMiB = () => process.resourceUsage().maxRSS / 1024;

async function phase(kind: string, n: number, file: string): Promise<Record<string, number>> {
  if (kind === 'write') {
    const b = synthBars(n);
    const before = rssMiB();
    const t = performance.now();
    await writeBarsParquet(file, b);
    const s = (performance.now() - t) / 1000;
    return {
      seconds: s,
      rowsPerSec: n / s,
      colMiB: columnBytes(b) / 2 ** 20,
      rssBefore: before,
      peak: maxRssMiB(),
      fileMiB: statSync(file).size / 2 ** 20,
    };
  }
  if (kind === 'read') {
    const before = rssMiB();
    const t = performance.now();
    const b = await readBarsParquet(file);
    const s = (performance.now() - t) / 1000;
    if (b.length !== n) throw new Error(`read ${b.length} rows, expected ${n}`);
    return { seconds: s, rowsPerSec: n / s, colMiB: columnBytes(b) / 2 ** 20, rssBefore: before, peak: maxRssMiB() };
  }
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  const t = performance.now();
  if (kind === 'duck-write') {
    await con.run(
      `COPY (SELECT * FROM read_parquet('${file}')) TO '${file}.duck.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)`,
    );
  } else {
    await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${file}')`);
  }
  const s = (performance.now() - t) / 1000;
  return { seconds: s, rowsPerSec: n / s, peak: maxRssMiB() };
}

async function main(): Promise<void> {
  const [, , mode, kind, nText, file] = process.argv;
  if (mode === '--phase') {
    process.stdout.write(JSON.stringify(await phase(kind!, Number(nText), file!)));
    return;
  }
  const sizes = (process.env.BENCH_SIZES ?? '1000000,10000000').split(',').map(Number);
  const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'btnb-bench-pq-'));
  const run = (k: string, n: number, f: string) => {
    const r = spawnSync(process.execPath, ['--max-old-space-size=8192', new URL(import.meta.url).pathname, '--phase', k, String(n), f], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (r.status !== 0) throw new Error(`${k} ${n} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, number>;
  };
  const f1 = (x: number) => x.toFixed(1);
  const mr = (x: number) => `${(x / 1e6).toFixed(2)} M rows/s`;
  try {
    console.log(`bars-1m.parquet benchmark (zstd, 64Ki-row groups); baseline = DuckDB native, 1 thread, same file`);
    for (const n of sizes) {
      const file = join(dir, `bars-${n}.parquet`);
      const w = run('write', n, file);
      const r = run('read', n, file);
      const dw = run('duck-write', n, file);
      const dr = run('duck-read', n, file);
      console.log(
        `\n${n.toLocaleString('en-US')} bars — columns ${f1(w.colMiB!)} MiB in memory, file ${f1(w.fileMiB!)} MiB (${f1(w.colMiB! / w.fileMiB!)}× smaller)`,
      );
      console.log(
        `  write  ${mr(w.rowsPerSec!).padEnd(16)} ${f1(w.seconds!)} s   DuckDB ${mr(dw.rowsPerSec!)}   ratio ${(w.rowsPerSec! / dw.rowsPerSec!).toFixed(2)}×`,
      );
      console.log(
        `  read   ${mr(r.rowsPerSec!).padEnd(16)} ${f1(r.seconds!)} s   DuckDB ${mr(dr.rowsPerSec!)}   ratio ${(r.rowsPerSec! / dr.rowsPerSec!).toFixed(2)}×`,
      );
      console.log(
        `  write memory: RSS ${f1(w.rssBefore!)} MiB with the series → peak ${f1(w.peak!)} MiB: +${f1(w.peak! - w.rssBefore!)} MiB = ${((w.peak! - w.rssBefore!) / w.colMiB!).toFixed(2)}× the column data (total ${(w.peak! / w.colMiB!).toFixed(2)}×)`,
      );
      console.log(`  read memory:  peak ${f1(r.peak!)} MiB = ${(r.peak! / r.colMiB!).toFixed(2)}× the column data`);
    }
  } finally {
    if (!process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
