/**
 * The sweep worker pool: `workers` executors — this process plus workers − 1 forked child
 * processes (`btnb sweep --worker` from the CLI entry) — each keeping RUNS_IN_FLIGHT jobs and
 * handed the next job as each reply arrives.
 *
 * This process runs jobs too: it has its start-up, module load and JIT warm-up done already, so
 * with 2 workers on 2 cores an idle parent plus two children would spend the spare core on a
 * third start-up. Each child reads the bars file itself (parquet/flatReader.ts: ~40–90 ms for a
 * year of minute bars) rather than receiving them over IPC: a 28 MB message only moves while the
 * sending event loop polls, and this process's event loop is busy running its own jobs.
 *
 * Settles once this process's jobs are done and every child has exited; cancel (signal) or a
 * worker failure stops all (each run in flight ends `canceled`) and rejects. Workers are told
 * to `cancel` by message; one that has not exited after CANCEL_GRACE_MS gets SIGTERM.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { BarSeries } from '../bars/barSeries.ts';
import { parseToParent, type SetupMsg, type ToWorker, type WorkerJob, type WorkerReply } from './protocol.ts';
import { handleJob, workerContext } from './worker.ts';

/**
 * Jobs each executor keeps in flight: a run's compute and Parquet encode are synchronous, so
 * with two the next run computes while the previous one waits for its artifacts' fsync and
 * rename. More would only add memory.
 */
export const RUNS_IN_FLIGHT = 2;

/** Time a worker has to answer `cancel` before SIGTERM (the job protocol's grace, too). */
export const CANCEL_GRACE_MS = 750;

/**
 * Workers run with V8's GC on their main thread: the pool already keeps every core busy, so
 * parallel/concurrent GC helpers only compete with the other workers, and they cost more CPU
 * in all than they save (64 × 100k-bar runs: helper threads 1.0 → 0.5 s, main thread no slower).
 */
const WORKER_EXEC_ARGV = [...process.execArgv, '--single-threaded-gc'];

export interface PoolOptions {
  /** Entry script forked with `sweep --worker` for each worker (dist/cli.js or src/engine/cli/main.ts); null: this process only. */
  workerEntry: string | null;
  /** Executors in all, this process included. */
  workers: number;
  setup: SetupMsg;
  /** The dataset's bars when the caller has read them already (this process's executor uses them). */
  bars?: BarSeries;
  jobs: WorkerJob[];
  onReply: (m: WorkerReply) => void;
  signal?: AbortSignal | undefined;
}

export async function runOnWorkers(opts: PoolOptions): Promise<void> {
  const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
  const { dataPaths } = await import('../dataDir.ts');
  const { jobs, signal, setup } = opts;
  const total = jobs.length;
  // This process's runs: canceled with the workers' on cancel or failure.
  const localAbort = new AbortController();
  const catalog = openCatalog(dataPaths(setup.dataDir).catalog);
  const local = workerContext(setup, catalog, localAbort.signal);
  const barsCache = local.base.barsCache!;
  if (opts.bars) barsCache.set(setup.datasetId, opts.bars);

  return new Promise<void>((resolveAll, rejectAll) => {
    let next = 0;
    let done = 0;
    let failure: Error | null = null;
    let settled = false;
    let liveChildren = 0;
    let localBusy = 0;
    let localStopped = false;
    const children: ChildProcess[] = [];
    const stopped = new Set<ChildProcess>();

    const settle = () => {
      if (settled || liveChildren > 0 || localBusy > 0 || !(localStopped || failure)) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      catalog.close();
      if (failure) rejectAll(failure);
      else if (done < total) rejectAll(new Error(`sweep workers exited after ${done} of ${total} jobs`));
      else resolveAll();
    };
    // Stop everyone (each marks its run in flight canceled) and settle once all have stopped.
    const failAll = (err: Error) => {
      if (failure) return;
      failure = err;
      localAbort.abort();
      for (const c of children) {
        if (c.exitCode !== null || c.signalCode !== null) continue;
        if (c.connected)
          c.send({ type: 'cancel' } satisfies ToWorker, (e) => {
            if (e) c.kill('SIGTERM');
          });
        else c.kill('SIGTERM');
        const t = setTimeout(() => {
          if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
        }, CANCEL_GRACE_MS);
        t.unref();
        c.once('exit', () => clearTimeout(t));
      }
      settle();
    };
    const onAbort = () => failAll(Object.assign(new Error('sweep canceled'), { name: 'AbortError' }));
    signal?.addEventListener('abort', onAbort, { once: true });
    const take = (): WorkerJob | null => (failure || signal?.aborted || next >= jobs.length ? null : jobs[next++]!);
    const reply = (m: WorkerReply) => {
      done++;
      opts.onReply(m);
    };

    const runLocal = () => {
      const job = take();
      if (job === null) {
        localStopped = true;
        settle();
        return;
      }
      localBusy++;
      void handleJob(local, job).then((r) => {
        localBusy--;
        reply(r);
        // A macrotask hop: a light job is pure compute chained by promises, so without it this
        // process would never get to its children's messages (their `ready`, their results)
        // until it ran out of jobs itself — and the children would idle.
        setImmediate(runLocal);
      });
    };

    const dispatch = (child: ChildProcess) => {
      if (failure || !child.connected || stopped.has(child)) return;
      const job = take();
      if (job !== null) {
        child.send(job satisfies ToWorker);
      } else {
        stopped.add(child); // the worker finishes its jobs in flight, then exits
        child.send({ type: 'stop' } satisfies ToWorker);
      }
    };

    const entry = opts.workerEntry;
    const childCount = entry === null ? 0 : Math.max(0, Math.min(opts.workers, total) - 1);
    for (let w = 0; w < childCount; w++) {
      const child = fork(entry!, ['sweep', '--worker'], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'advanced',
        execArgv: WORKER_EXEC_ARGV,
      });
      children.push(child);
      liveChildren++;
      // A worker stopping (cancel) may close its channel while a message is in flight.
      child.on('error', (err) => failAll(new Error(`sweep worker ${child.pid}: ${err.message}`)));
      child.on('message', (raw) => {
        let m;
        try {
          m = parseToParent(raw);
        } catch (err) {
          return failAll(new Error(`sweep worker ${child.pid}: ${(err as Error).message}`));
        }
        if (m.type === 'error') return failAll(new Error(`sweep worker ${child.pid}: ${m.message}`));
        if (m.type === 'ready') {
          if (failure || !child.connected) return;
          child.send(setup satisfies ToWorker);
          for (let k = 0; k < RUNS_IN_FLIGHT; k++) dispatch(child);
          return;
        }
        reply(m);
        dispatch(child);
      });
      child.on('exit', (code, sig) => {
        liveChildren--;
        if (!failure && code !== 0 && done < total)
          failAll(new Error(`sweep worker ${child.pid} exited (${sig ?? code}) before the sweep finished`));
        settle();
      });
    }
    for (let k = 0; k < RUNS_IN_FLIGHT; k++) runLocal();
    if (signal?.aborted) onAbort();
  });
}
