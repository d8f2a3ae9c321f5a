/**
 * Promise 1 (docs/reliability.md): bad input never crashes or hangs anything, and is refused
 * with the project's own error naming the file and offset.
 *   - DBN fuzz: mutated fixtures (and every header prefix) through the decoder in a worker
 *     thread with a heap cap; a hang is a case that stops the shared progress counter for 2 s.
 *     Failing inputs are shrunk and kept under test/fixtures/fuzz/ (replayed by a unit test).
 *   - Import fuzz: mutated trades/tbbo files through `btnb data import`: a refused import leaves
 *     the catalog and the raw cache exactly as before and no temp file; an accepted one leaves
 *     a consistent data dir.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { btnbInProcess } from '../unit/backtest/support/inProcess.ts';
import { catalogDump, consistencyProblems, tempsUnder, treeDump } from './support/consistency.ts';
import { decodeOutcome, FIXTURES, fuzzCase, headerTruncations, loadPool, shrink } from './support/dbnMutator.ts';
import { count, Probe } from './support/report.ts';

const REGRESSIONS = join(import.meta.dirname, '..', 'fixtures', 'fuzz');
const WORKER = join(import.meta.dirname, 'support', 'dbnFuzzWorker.ts');
const HEAP_MB = 512;

interface Fail {
  kind: string;
  i: number;
  label: string;
  error: string;
  input: Uint8Array;
  sizes: number[];
}

/** Runs the fuzz worker from case `from`; resolves when it is done, hung or died (with where). */
function fuzzWorker(seed: number, cases: number, from: number, onFail: (f: Fail) => void) {
  // [0] the case being decoded, [1] a beat per input (truncations too)
  const progress = new Int32Array(new SharedArrayBuffer(8));
  progress[0] = from;
  return new Promise<
    | { end: 'done'; peakHeap: number; decoded: number; refused: number; truncations: number }
    | { end: 'hang' | 'died'; at: number; error: string }
  >((resolve) => {
    const w = new Worker(WORKER, { workerData: { seed, cases, from, progress }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    let last = -1;
    let still = 0;
    const watch = setInterval(() => {
      const at = Atomics.load(progress, 0);
      const beat = Atomics.load(progress, 1);
      still = beat === last ? still + 1 : 0;
      last = beat;
      // 2 s without a beat once decoding started (10 s for the worker's start-up)
      if (still >= (beat === 0 ? 20 : 4)) {
        clearInterval(watch);
        void w.terminate();
        resolve({ end: 'hang', at, error: 'no progress for 2 s' });
      }
    }, 500);
    w.on('message', (m: { type: string } & Record<string, unknown>) => {
      if (m.type === 'fail') onFail(m as unknown as Fail);
      if (m.type === 'done') {
        clearInterval(watch);
        resolve({ end: 'done', ...(m as unknown as { peakHeap: number; decoded: number; refused: number; truncations: number }) });
      }
    });
    w.on('error', (e) => {
      clearInterval(watch);
      resolve({ end: 'died', at: Atomics.load(progress, 0), error: e.message });
    });
  });
}

function keep(name: string, input: Uint8Array): string {
  mkdirSync(REGRESSIONS, { recursive: true });
  const file = join(REGRESSIONS, `${name}-${createHash('sha256').update(input).digest('hex').slice(0, 12)}.dbn`);
  writeFileSync(file, input);
  return file;
}

describe('chaos: bad input, promise 1', function () {
  this.timeout(0);

  it('DBN fuzz: mutated inputs decode or are refused with a DbnError naming file and offset; no hang, bounded heap', async () => {
    const probe = new Probe('DBN fuzz (decoder)');
    const seed = 20261205;
    const cases = count(5000, 100_000);
    const pool = loadPool();
    const fails: Fail[] = [];
    let from = 0;
    let stats = { decoded: 0, refused: 0, truncations: 0, peakHeap: 0 };
    while (from < cases) {
      const r = await fuzzWorker(seed, cases, from, (f) => fails.push(f));
      if (r.end === 'done') {
        stats = r;
        break;
      }
      const c = fuzzCase(pool, seed, r.at);
      fails.push({ kind: 'case', i: r.at, label: `case ${r.at}`, error: r.error, input: c.input, sizes: c.sizes });
      from = r.at + 1;
    }
    const truncations = headerTruncations(pool).length;
    probe.cases = cases + truncations;
    for (const f of fails) {
      // shrink what can be re-run here safely (not hangs or heap blow-ups)
      let input = f.input;
      if (f.error.startsWith('non-DbnError') || f.error.startsWith('DbnError without')) {
        const bad = async (b: Uint8Array) => {
          const r = await decodeOutcome(b, [b.length || 1], 'shrink', f.i);
          return r !== 'decoded' && r !== 'refused';
        };
        if (await bad(input)) input = await shrink(input, bad);
      }
      probe.fail(`${f.label}: ${f.error} (kept as ${keep(f.kind, input)})`);
    }
    probe.notes.push(
      `${truncations} header prefixes + ${cases} mutations: ${stats.decoded} decoded, ${stats.refused} refused; worker heap peak ${(stats.peakHeap / 2 ** 20).toFixed(0)} MiB (cap ${HEAP_MB} MiB)`,
    );
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
    assert.ok(stats.refused > cases / 4 && stats.decoded > cases / 50, `both outcomes exercised: ${JSON.stringify(stats)}`);
  });

  it('import fuzz: a refused import leaves catalog and raw cache as before and no temps; an accepted one is consistent', async () => {
    const probe = new Probe('import fuzz (btnb data import)');
    const root = mkdtempSync(join(tmpdir(), 'btnb-chaos-import-'));
    try {
      const base = join(root, 'base');
      const first = await btnbInProcess(['data', 'import', join(FIXTURES, 'test_data.trades.v3.dbn.zst'), '--data-dir', base, '--json']);
      assert.equal(first.status, 0, first.stderr);
      const dumpBefore = catalogDump(join(base, 'catalog.sqlite'));
      const rawBefore = treeDump(join(base, 'raw'));
      const pool = loadPool((n) => /\.(trades|tbbo)\./.test(n));
      const work = join(root, 'work');
      const inputs = join(root, 'in');
      mkdirSync(inputs);
      let dirty = true;
      let refused = 0;
      const cases = count(200, 500);
      for (let i = 0; i < cases; i++) {
        if (dirty) {
          rmSync(work, { recursive: true, force: true });
          cpSync(base, work, { recursive: true });
          dirty = false;
        }
        const c = fuzzCase(pool, 7, i);
        const file = join(inputs, `case-${i}.${c.compressed ? 'dbn.zst' : 'dbn'}`);
        writeFileSync(file, c.input);
        const r = await btnbInProcess(['data', 'import', file, '--data-dir', work, '--json']);
        probe.cases++;
        if (r.status !== 0) {
          refused++;
          const problems: string[] = [];
          if (!r.stderr.includes(file)) problems.push(`error does not name the file: ${r.stderr.trim().slice(0, 200)}`);
          if (catalogDump(join(work, 'catalog.sqlite')) !== dumpBefore) problems.push('catalog changed');
          if (treeDump(join(work, 'raw')) !== rawBefore) problems.push('raw cache changed');
          problems.push(...tempsUnder(work).map((t) => `temp left: ${t}`));
          for (const p of problems) probe.fail(`case ${i}: ${p}`);
          if (problems.length) dirty = true;
        } else {
          for (const p of consistencyProblems(work)) probe.fail(`case ${i} (accepted): ${p}`);
          dirty = true;
        }
        rmSync(file);
      }
      probe.notes.push(`${refused} of ${cases} refused, ${cases - refused} accepted`);
      const row = probe.done();
      assert.equal(row.failures, 0, probe.failures.join('\n'));
      assert.ok(refused > cases / 5, `refusals exercised (${refused})`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
