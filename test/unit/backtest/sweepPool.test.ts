import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { readBarsParquet } from '../../../src/engine/parquet/barsParquet.ts';
import { runOnWorkers } from '../../../src/engine/sweep/workerPool.ts';
import type { WorkerReply } from '../../../src/engine/sweep/protocol.ts';
import { makeDataDir } from './support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

/** A strategy that takes ~0.1 ms per bar and logs the pid of every process that runs it. */
function pidLogStrategy(dir: string): { file: string; log: string } {
  const file = join(dir, 'pidlog.ts');
  const log = join(dir, 'pids.log');
  writeFileSync(
    file,
    `import { appendFileSync } from 'node:fs';
import { defineStrategy, z } from 'backtest-notebook';
let logged = false;
export default defineStrategy({ id: 'pidlog', params: z.object({ a: z.number() }), onBar() {
  if (!logged) { logged = true; appendFileSync(${JSON.stringify(log)}, process.pid + '\\n'); }
  const t = performance.now(); while (performance.now() - t < 0.1) {}
} });\n`,
  );
  return { file, log };
}

describe('sweep worker pool', function () {
  this.timeout(60_000);

  it('runs jobs in this process and in a forked worker, which reads the bars itself', async () => {
    const { dataDir, datasetId } = await makeDataDir(3000, 7);
    try {
      const { file, log } = pidLogStrategy(dataDir);
      const bars = await readBarsParquet(dataPaths(dataDir).barsParquet(datasetId));
      const replies: WorkerReply[] = [];
      await runOnWorkers({
        workerEntry: MAIN,
        workers: 2,
        bars,
        setup: { type: 'start', dataDir, datasetId, strategy: file, seed: 0, costs: {}, session: 'all', force: false, sweepId: 'sw_pool' },
        jobs: Array.from({ length: 12 }, (_, k) => ({ type: 'run' as const, idx: k, params: { a: k } })),
        onReply: (m) => replies.push(m),
      });
      assert.deepEqual(
        replies.map((r) => r.idx).sort((x, y) => x - y),
        Array.from({ length: 12 }, (_, k) => k),
      );
      for (const r of replies) assert.ok(r.job === 'run' && r.status === 'succeeded' && r.error === null, JSON.stringify(r));
      const pids = new Set(readFileSync(log, 'utf8').trim().split('\n').map(Number));
      assert.ok(pids.has(process.pid), 'this process ran jobs');
      assert.equal(pids.size, 2, `one forked worker ran jobs too: ${[...pids].join(', ')}`);
      const cat = openCatalog(dataPaths(dataDir).catalog);
      try {
        assert.equal(cat.countRuns({ status: 'succeeded' }), 12);
      } finally {
        cat.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('cancel: runs in flight here and in the worker end canceled, the rest never start, the pool rejects', async () => {
    const { dataDir, datasetId } = await makeDataDir(3000, 8);
    try {
      const { file, log } = pidLogStrategy(dataDir);
      const ac = new AbortController();
      const replies: WorkerReply[] = [];
      const cat = openCatalog(dataPaths(dataDir).catalog);
      try {
        const pool = runOnWorkers({
          workerEntry: MAIN,
          workers: 2,
          signal: ac.signal,
          setup: {
            type: 'start',
            dataDir,
            datasetId,
            strategy: file,
            seed: 0,
            costs: {},
            session: 'all',
            force: false,
            sweepId: 'sw_cancel',
          },
          jobs: Array.from({ length: 40 }, (_, k) => ({ type: 'run' as const, idx: k, params: { a: k } })),
          onReply: (m) => replies.push(m),
        });
        // Wait until both processes have started runs.
        for (let k = 0; k < 600; k++) {
          await new Promise((r) => setTimeout(r, 50));
          let pids = 0;
          try {
            pids = new Set(readFileSync(log, 'utf8').trim().split('\n')).size;
          } catch {
            /* not yet */
          }
          if (pids === 2 && cat.countRuns({ status: 'running' }) >= 2) break;
        }
        ac.abort();
        await assert.rejects(pool, /sweep canceled/);
        assert.equal(cat.countRuns({ status: 'running' }), 0);
        assert.ok(cat.countRuns({ status: 'canceled' }) >= 2);
        assert.ok(cat.countRuns({}) < 40, 'the remaining points never started');
        assert.equal(cat.countRuns({ status: 'succeeded' }) + cat.countRuns({ status: 'canceled' }), cat.countRuns({}));
        assert.equal(replies.length, cat.countRuns({}), 'every started run was reported');
      } finally {
        cat.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('cancel while the worker is still starting or receiving its setup: the pool still settles', async () => {
    const { dataDir, datasetId } = await makeDataDir(3000, 9);
    try {
      const { file } = pidLogStrategy(dataDir);
      const cat = openCatalog(dataPaths(dataDir).catalog);
      try {
        for (const wait of [0, 1, 2]) {
          const ac = new AbortController();
          const pool = runOnWorkers({
            workerEntry: MAIN,
            workers: 2,
            signal: ac.signal,
            setup: {
              type: 'start',
              dataDir,
              datasetId,
              strategy: file,
              seed: 0,
              costs: {},
              session: 'all',
              force: true,
              sweepId: `sw_early${wait}`,
            },
            jobs: Array.from({ length: 8 }, (_, k) => ({ type: 'run' as const, idx: k, params: { a: k } })),
            onReply: () => {},
          });
          // This process's first runs start at once; the worker needs far longer to boot.
          for (let k = 0; k < 200 && cat.countRuns({ status: 'running' }) === 0; k++) await new Promise((r) => setTimeout(r, 10));
          await new Promise((r) => setTimeout(r, wait * 150));
          ac.abort();
          await assert.rejects(pool, /sweep canceled/);
          assert.equal(cat.countRuns({ status: 'running' }), 0);
        }
      } finally {
        cat.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a worker stops on a cancel message (no signal needed): its run ends canceled, it exits on its own; garbage gets an error reply', async () => {
    const { dataDir, datasetId } = await makeDataDir(3000, 10);
    try {
      const { file } = pidLogStrategy(dataDir);
      const cat = openCatalog(dataPaths(dataDir).catalog);
      try {
        const child = fork(MAIN, ['sweep', '--worker'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
        const msgs: { type: string; message?: string }[] = [];
        child.on('message', (m) => msgs.push(m as { type: string }));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
          child.on('exit', (code, signal) => r({ code, signal })),
        );
        for (let k = 0; k < 400 && !msgs.some((m) => m.type === 'ready'); k++) await new Promise((r) => setTimeout(r, 10));
        child.send({
          type: 'start',
          dataDir,
          datasetId,
          strategy: file,
          seed: 0,
          costs: {},
          session: 'all',
          force: true,
          sweepId: 'sw_msg',
        });
        child.send({ type: 'run', idx: 0, params: { a: 1 } });
        for (let k = 0; k < 600 && cat.countRuns({ status: 'running' }) === 0; k++) await new Promise((r) => setTimeout(r, 10));
        child.send({ type: 'cancel' });
        const { code, signal } = await exited;
        assert.equal(signal, null, 'exited on its own, not killed');
        assert.equal(code, 1);
        assert.equal(cat.countRuns({ status: 'canceled' }), 1);
        assert.equal(cat.countRuns({ status: 'running' }), 0);
        // a malformed message: an error reply naming the field, then exit 2
        const bad = fork(MAIN, ['sweep', '--worker'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
        const badMsgs: { type: string; message?: string }[] = [];
        bad.on('message', (m) => badMsgs.push(m as { type: string }));
        const badExit = new Promise<number | null>((r) => bad.on('exit', (c) => r(c)));
        for (let k = 0; k < 400 && !badMsgs.some((m) => m.type === 'ready'); k++) await new Promise((r) => setTimeout(r, 10));
        bad.send({ type: 'run', idx: 'x' });
        assert.equal(await badExit, 2);
        assert.match(badMsgs.find((m) => m.type === 'error')?.message ?? '', /sweep worker: invalid message: .*idx/);
      } finally {
        cat.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
