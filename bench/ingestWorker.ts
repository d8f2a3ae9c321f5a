// Child process of bench/ingest.ts: one import (+ derive) into a fresh data dir, so its peak RSS
// is measured alone. Prints one JSON line.
import { importFiles } from '../src/engine/ingest/importFiles.ts';
import { deriveDataset } from '../src/engine/bars/deriveDataset.ts';

const [mode, dataDir, ...files] = process.argv.slice(2);
let peakPhase = '';
let peak = 0;
let phase = 'import';
const sample = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peak) {
    peak = m.rss;
    peakPhase = `${phase}: heap ${(m.heapUsed / 1e6).toFixed(0)} MB, external ${(m.external / 1e6).toFixed(0)} MB, arrayBuffers ${(m.arrayBuffers / 1e6).toFixed(0)} MB`;
  }
}, 100);
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const t0 = performance.now();
if (mode === 'decode') {
  // The DBN decoder alone (both files at once, no-op sinks): the floor under derive.
  const { decodeFile } = await import('../src/engine/dbn/decoder.ts');
  await Promise.all(files.map((f) => decodeFile(f, { onTrades: () => {}, onMbp1: () => {} })));
  process.stdout.write(
    `${JSON.stringify({ totalMs: performance.now() - t0, cpuMs: cpuMs(), maxRssKb: process.resourceUsage().maxRSS })}\n`,
  );
  process.exit(0);
}
let derive = null;
let t1 = t0;
if (mode === 'import+derive') {
  // The `--derive` path: decoding overlaps the copy + hash (one timing for both).
  phase = 'import --derive';
  await importFiles(files, {
    dataDir: dataDir!,
    derive: true,
    onDerived: (_info, r) => {
      derive = r;
    },
  });
  t1 = NaN;
} else {
  // Sequential: import, then derive (separate timings).
  const imp = await importFiles(files, { dataDir: dataDir! });
  t1 = performance.now();
  phase = 'derive';
  if (mode === 'import,derive') derive = await deriveDataset(dataDir!, imp.datasets[0]!.dataset_id);
}
const t2 = performance.now();
clearInterval(sample);
process.stdout.write(
  `${JSON.stringify({
    importMs: t1 - t0,
    deriveMs: t2 - t1,
    totalMs: t2 - t0,
    cpuMs: cpuMs(),
    derive,
    maxRssKb: process.resourceUsage().maxRSS,
    peakSample: `${(peak / 1e6).toFixed(0)} MB in ${peakPhase}`,
  })}\n`,
);
