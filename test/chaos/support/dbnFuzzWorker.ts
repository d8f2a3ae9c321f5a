/**
 * The DBN fuzz loop in a worker thread, so the probe can stop a hang (the worker writes the case
 * it is on into shared memory; the probe terminates it when that stops moving) and keep going.
 * Decodes the header truncations, then cases [from, cases) of `fuzzCase(seed, i)`; reports
 * every case slower than 2 s or with a disallowed outcome, and the heap high-water mark.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeOutcome, fuzzCase, headerTruncations, loadPool } from './dbnMutator.ts';

const { seed, cases, from, progress } = workerData as { seed: number; cases: number; from: number; progress: Int32Array };
const port = parentPort!;
const pool = loadPool();
const tally = { decoded: 0, refused: 0 };
let peak = 0;

async function one(kind: string, i: number, input: Uint8Array, sizes: number[], label: string) {
  Atomics.add(progress, 1, 1);
  const t0 = performance.now();
  const r = await decodeOutcome(input, sizes, `${kind}-${i}`, i);
  const ms = performance.now() - t0;
  if (r === 'decoded' || r === 'refused') tally[r]++;
  const error = r !== 'decoded' && r !== 'refused' ? r : ms > 2000 ? `took ${Math.round(ms)} ms` : null;
  if (error) port.postMessage({ type: 'fail', kind, i, label, error, input, sizes });
}

const trunc = from === 0 ? headerTruncations(pool) : [];
for (let t = 0; t < trunc.length; t++) await one('trunc', t, trunc[t]!.input, [trunc[t]!.input.length || 1], trunc[t]!.label);
for (let i = from; i < cases; i++) {
  Atomics.store(progress, 0, i);
  const c = fuzzCase(pool, seed, i);
  await one('case', i, c.input, c.sizes, `case ${i}`);
  if (i % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
}
port.postMessage({ type: 'done', truncations: trunc.length, peakHeap: peak, ...tally });
