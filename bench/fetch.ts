/**
 * `npm run bench:fetch`: HistoricalClient.getRange (stream to .part + SHA-256 + zstd frame walk
 * + fsync + rename) against the fake Databento server running in a child process, next to two
 * baselines in the same run on the same bytes: a bare node:http POST piped into a file (no
 * hashing, no verification, no fsync) and `curl` when it is installed. Prints MB/s, the ratio
 * to the bare baseline and peak RSS.
 *
 * Env: BENCH_TRADES (default 5_000_000 synthetic trades → DBN v3, zstd), BENCH_REPS (default 3).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HistoricalClient } from '../src/engine/databento/index.ts';

const TRADES = Number(process.env.BENCH_TRADES ?? 5_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const KEY = 'db-BENCHbenchBENCHbenchBENCHbench';
const PARAMS = { dataset: 'GLBX.MDP3', symbols: ['ESH4'], schema: 'trades', start: '2024-01-02', end: '2024-01-03' };

const dir = mkdtempSync(join(tmpdir(), 'btnb-bench-fetch-'));
const rawPath = join(dir, 'trades.dbn');
const zstPath = join(dir, 'trades.dbn.zst');
let server: ReturnType<typeof spawn> | null = null;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function startServer(): Promise<string> {
  // The fixture is built and served by the child, so this process's RSS is the client's alone.
  const script = `import { startFakeDatabento } from './test/support/fakeDatabento.ts';
import { writeSyntheticTrades } from './bench/lib/synthTrades.ts';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { zstdCompressSync } from 'node:zlib';
await writeSyntheticTrades(${JSON.stringify(rawPath)}, ${TRADES});
writeFileSync(${JSON.stringify(zstPath)}, zstdCompressSync(readFileSync(${JSON.stringify(rawPath)})));
rmSync(${JSON.stringify(rawPath)});
const f = await startFakeDatabento({ key: ${JSON.stringify(KEY)}, files: { trades: ${JSON.stringify(zstPath)} }, chunkSize: 256 * 1024 });
process.stdout.write(f.url + '\\n');`;
  server = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    server!.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim()));
    server!.once('exit', (code) => reject(new Error(`fake server exited with ${code}`)));
  });
}

async function bareNode(url: string, dest: string): Promise<void> {
  const body = new URLSearchParams({
    ...PARAMS,
    symbols: 'ESH4',
    stype_in: 'raw_symbol',
    stype_out: 'instrument_id',
    encoding: 'dbn',
    compression: 'zstd',
  }).toString();
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      `${url}/v0/timeseries.get_range`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
        pipeline(res, createWriteStream(dest)).then(resolve, reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const url = await startServer();
  const size = statSync(zstPath).size;
  console.log(
    `fixture: ${TRADES.toLocaleString('en-US')} synthetic trades, ${(size / 1e6).toFixed(1)} MB zstd (${((performance.now() - t0) / 1000).toFixed(1)} s to build in the server process)`,
  );
  const rssBefore = process.memoryUsage.rss();
  const client = new HistoricalClient({ key: KEY, baseUrl: url });
  const rows: [string, number[]][] = [
    ['HistoricalClient.getRange', []],
    ['bare node:http → file', []],
  ];
  const hasCurl = spawnSync('curl', ['--version']).status === 0;
  if (hasCurl) rows.push(['curl', []]);
  // Peak RSS while each method runs (clients run in turn, so peaks are attributable).
  const peaks = rows.map(() => 0);
  let current = 0;
  const sample = setInterval(() => (peaks[current] = Math.max(peaks[current]!, process.memoryUsage.rss())), 10);
  for (let rep = 0; rep < REPS; rep++) {
    current = 0;
    let t = performance.now();
    const r = await client.getRange(PARAMS, join(dir, `client-${rep}.dbn.zst`));
    rows[0]![1].push(performance.now() - t);
    if (r.bytes !== size) throw new Error(`client got ${r.bytes} of ${size} bytes`);
    current = 1;
    t = performance.now();
    await bareNode(url, join(dir, `bare-${rep}.dbn.zst`));
    rows[1]![1].push(performance.now() - t);
    if (hasCurl) {
      current = 2;
      t = performance.now();
      const c = spawnSync('curl', [
        '-sS',
        '--fail',
        '-u',
        `${KEY}:`,
        '-o',
        join(dir, `curl-${rep}.dbn.zst`),
        ...Object.entries({ ...PARAMS, symbols: 'ESH4', encoding: 'dbn', compression: 'zstd' }).flatMap(([k, v]) => [
          '--data-urlencode',
          `${k}=${v}`,
        ]),
        `${url}/v0/timeseries.get_range`,
      ]);
      // spawnSync blocks this process only; the server runs in its own
      if (c.status !== 0) throw new Error(`curl failed: ${c.stderr.toString()}`);
      rows[2]![1].push(performance.now() - t);
    }
  }
  clearInterval(sample);
  const base = median(rows[1]![1]);
  console.log(`median of ${REPS} runs, ${(size / 1e6).toFixed(1)} MB over loopback:`);
  for (const [i, [name, ms]] of rows.entries()) {
    const m = median(ms);
    const rss = i < 2 ? `  peak RSS ${(peaks[i]! / 1e6).toFixed(0)} MB` : '';
    console.log(
      `  ${name.padEnd(28)} ${(size / 1e6 / (m / 1000)).toFixed(0).padStart(6)} MB/s  ${m.toFixed(0).padStart(6)} ms  ×${(base / m).toFixed(2)} of bare node${rss}`,
    );
  }
  console.log(
    `this process's RSS before the downloads: ${(rssBefore / 1e6).toFixed(0)} MB (the client streams: ≤ 2 MiB of write batches in flight)`,
  );
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });
