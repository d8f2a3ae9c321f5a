/**
 * `npm run bench:decode`: DBN decode throughput and memory.
 *
 * Generates synthetic trades files (5 M and 10 M records; raw and zstd; cached in bench/out/),
 * then, each measurement in a fresh child process so peak RSS belongs to that run alone:
 *  - records/s decoding the raw file into columnar batches (best of 5) with the WebAssembly
 *    fill kernel (the default), and with the JS loops as the baseline, and their ratio,
 *  - MB/s (decompressed) decoding the zstd file with Node's built-in zstd (owned-buffer ring and public stream),
 *  - MB/s of `zstd -d -c FILE > /dev/null` on the same file, and the ratio,
 *  - peak RSS (process.resourceUsage().maxRSS) per run: it must not grow with file size.
 * Goals: >= 50 M records/s raw; >= 0.5 x `zstd -d`; RSS independent of file size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFile } from '../src/engine/dbn/decoder.ts';
import { writeSyntheticTrades } from './lib/synthTrades.ts';

const OUT = join(import.meta.dirname, 'out');
const RUNS = 5;

interface WorkerResult {
  seconds: number[];
  cpuSeconds: number[];
  records: number;
  bytes: number;
  compressedBytes: number;
  maxRssMiB: number;
  checksum: number;
}

async function worker(mode: string, file: string): Promise<void> {
  const seconds: number[] = [];
  const cpuSeconds: number[] = [];
  let records = 0;
  let bytes = 0;
  let compressedBytes = 0;
  let checksum = 0;
  for (let i = 0; i < RUNS; i++) {
    let sum = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const s = await decodeFile(
      file,
      {
        onTrades(b) {
          // Touch the columns like a consumer would (and keep the work from being optimised away).
          sum += b.length + b.size[0]! + b.price[b.length - 1]!;
        },
      },
      { zstd: mode === 'native-stream' ? 'native-stream' : 'native', kernel: mode === 'raw-js' ? 'js' : 'wasm' },
    );
    seconds.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpuSeconds.push((c.user + c.system) / 1e6);
    records = s.records;
    bytes = s.bytes;
    compressedBytes = s.compressedBytes;
    checksum = sum;
  }
  const r: WorkerResult = {
    seconds,
    cpuSeconds,
    records,
    bytes,
    compressedBytes,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    checksum,
  };
  process.stdout.write(JSON.stringify(r));
}

function runWorker(mode: string, file: string): WorkerResult {
  const r = spawnSync(process.execPath, [import.meta.filename, '--worker', mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`worker ${mode} ${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as WorkerResult;
}

function zstdCli(file: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync('sh', ['-c', `zstd -d -q -c "${file}" > /dev/null`]);
    if (r.status !== 0) throw new Error(`zstd -d failed: ${r.stderr.toString()}`);
    times.push((performance.now() - t0) / 1000);
  }
  return Math.min(...times);
}

async function ensureFiles(n: number): Promise<{ raw: string; zst: string }> {
  mkdirSync(OUT, { recursive: true });
  const raw = join(OUT, `trades-${n / 1e6}M.v3.dbn`);
  const zst = `${raw}.zst`;
  if (!existsSync(raw)) {
    const t0 = performance.now();
    await writeSyntheticTrades(`${raw}.tmp`, n, 42);
    renameSync(`${raw}.tmp`, raw);
    console.log(`generated ${raw} (${(statSync(raw).size / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(zst)) {
    execFileSync('zstd', ['-q', '-f', '-3', raw, '-o', `${zst}.tmp`]);
    renameSync(`${zst}.tmp`, zst);
  }
  return { raw, zst };
}

const f = (x: number, d = 1) => x.toFixed(d);

async function main(): Promise<void> {
  console.log(`DBN decode benchmark — Node ${process.version}, best of ${RUNS} runs, each measurement in a fresh process`);
  const rows: string[] = [];
  let ok = true;
  for (const n of [5_000_000, 10_000_000]) {
    const { raw, zst } = await ensureFiles(n);
    const r = runWorker('raw', raw);
    const rjs = runWorker('raw-js', raw);
    const nat = runWorker('native', zst);
    const fz = runWorker('native-stream', zst);
    const cli = zstdCli(zst);
    const mb = nat.bytes / 1e6;
    const recPerSec = r.records / Math.min(...r.seconds);
    const jsRecPerSec = rjs.records / Math.min(...rjs.seconds);
    const natMBs = mb / Math.min(...nat.seconds);
    const fzMBs = mb / Math.min(...fz.seconds);
    const cliMBs = mb / cli;
    if (r.checksum !== rjs.checksum || r.checksum !== nat.checksum || r.checksum !== fz.checksum || r.records !== n)
      throw new Error('decoders disagree');
    console.log(
      `\n${n / 1e6} M trades: raw ${f(r.bytes / 2 ** 20, 0)} MiB, zstd -3 ${f(nat.compressedBytes / 2 ** 20, 0)} MiB (ratio ${f(r.bytes / nat.compressedBytes, 2)})`,
    );
    console.log(
      `  raw -> columnar (wasm)  : ${f(recPerSec / 1e6)} M records/s (${f(r.bytes / 1e6 / Math.min(...r.seconds), 0)} MB/s)   [wall ${r.seconds.map((s) => f(s, 3)).join(', ')} s; per CPU-second ${f(r.records / Math.min(...r.cpuSeconds) / 1e6)} M/s]   peak RSS ${f(r.maxRssMiB, 0)} MiB`,
    );
    console.log(
      `  raw, JS fill loops      : ${f(jsRecPerSec / 1e6)} M records/s   [wall ${rjs.seconds.map((s) => f(s, 3)).join(', ')} s; per CPU-second ${f(rjs.records / Math.min(...rjs.cpuSeconds) / 1e6)} M/s]   wasm kernel / JS loops: ${f(recPerSec / jsRecPerSec, 2)}x`,
    );
    console.log(
      `  zstd, Node built-in     : ${f(natMBs, 0)} MB/s decompressed (${f(nat.records / Math.min(...nat.seconds) / 1e6)} M records/s)   [wall ${nat.seconds.map((s) => f(s, 3)).join(', ')} s; CPU (all threads) best ${f(Math.min(...nat.cpuSeconds), 3)} s]   peak RSS ${f(nat.maxRssMiB, 0)} MiB`,
    );
    console.log(
      `  zstd, built-in stream  : ${f(fzMBs, 0)} MB/s decompressed (${f(fz.records / Math.min(...fz.seconds) / 1e6)} M records/s)   peak RSS ${f(fz.maxRssMiB, 0)} MiB`,
    );
    console.log(`  zstd -d -c > /dev/null  : ${f(cliMBs, 0)} MB/s`);
    console.log(
      `  ratio built-in / zstd -d: ${f(natMBs / cliMBs, 2)}   (stream / zstd -d: ${f(fzMBs / cliMBs, 2)}; ring is ${f(natMBs / fzMBs, 2)}x the stream)`,
    );
    rows.push(`${n / 1e6}M: raw RSS ${f(r.maxRssMiB, 0)} MiB, zstd RSS ${f(nat.maxRssMiB, 0)} MiB`);
    ok &&= recPerSec >= 50e6 && natMBs >= 0.5 * cliMBs;
  }
  console.log(`\npeak RSS by file size: ${rows.join(' | ')}`);
  console.log(
    `goals (>= 50 M records/s raw; >= 0.5 x zstd -d): ${ok ? 'met' : 'NOT met on this run (machine shared: see load average)'}; load average ${(
      await import('node:os')
    )
      .loadavg()
      .map((x) => f(x, 2))
      .join(' ')}`,
  );
}

if (process.argv[2] === '--worker') await worker(process.argv[3]!, process.argv[4]!);
else await main();
