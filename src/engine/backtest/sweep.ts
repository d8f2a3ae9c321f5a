/**
 * Parameter sweeps: every grid point becomes a catalog run (idempotent by input_hash), run
 * across N child processes (`btnb sweep --worker`, forked from the CLI entry) that each keep
 * one catalog connection and the dataset's bars in memory. Parent ↔ worker messages are
 * validated with zod on arrival.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { newUlid } from '../catalog/ulid.ts';
import type { BarSeries } from '../bars/barSeries.ts';
import { cachedBars, resolveStrategy, runBacktestToCatalog, type BacktestRequest } from './runner.ts';
import { parseParams as validateParams, StrategyParamsError } from './strategy.ts';
import type { Costs, Session } from './types.ts';

export interface SweepRequest {
  dataDir: string;
  datasetId: string;
  strategy: string;
  points: Record<string, unknown>[];
  seed: number;
  costs: Partial<Costs>;
  session: Session;
  force: boolean;
  workers: number;
  /** The sweep's id (sweep_id of every run); a new ULID when absent. */
  sweepId?: string;
  /** Tags every run of the sweep gets. */
  tags?: string[];
  /** Entry script to fork for workers (the CLI: dist/cli.js or src/engine/cli/main.ts). */
  workerEntry?: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SweepPointResult {
  params: Record<string, unknown>;
  run_id: string | null;
  status: string;
  created: boolean;
  metrics: Record<string, number | null> | null;
  error: string | null;
}

export interface SweepResult {
  sweep_id: string;
  results: SweepPointResult[];
  /** Points the strategy's schema refused (e.g. slow ≤ fast), with the reason. */
  skipped: { params: Record<string, unknown>; error: string }[];
}

/**
 * Runs each worker (and the in-process path) keeps in flight: a run's compute and Parquet
 * encode are synchronous, so with two the next run computes while the previous one waits for
 * its artifacts' fsync and rename. More would only add memory.
 */
const RUNS_IN_FLIGHT = 2;

const Job = z.object({ type: z.literal('run'), idx: z.number().int(), params: z.record(z.string(), z.unknown()) });
const Setup = z.object({
  type: z.literal('setup'), dataDir: z.string(), datasetId: z.string(), strategy: z.string(), seed: z.number().int(),
  costs: z.record(z.string(), z.unknown()), session: z.enum(['all', 'rth']), force: z.boolean(), sweepId: z.string(), tags: z.array(z.string()).optional(),
});
/**
 * Walk-forward in-sample evaluation: scores of several points on session-filtered bars
 * [from, to). Batched: one IPC round trip per batch, not per point (under load a round trip
 * can cost more than a small in-sample run).
 */
const Score = z.object({
  type: z.literal('score'), idx: z.number().int(), points: z.array(z.record(z.string(), z.unknown())).min(1),
  from: z.number().int().nonnegative(), to: z.number().int().nonnegative(), sortKey: z.string(),
});
const ToWorker = z.discriminatedUnion('type', [Setup, Job, Score, z.object({ type: z.literal('stop') })]);
const Done = z.object({
  type: z.literal('done'), idx: z.number().int(), run_id: z.string().nullable(), status: z.string(), created: z.boolean(),
  metrics: z.record(z.string(), z.number().nullable()).nullable(), error: z.string().nullable(),
});
/** score null = −Infinity (JSON has no infinities); error set when the run threw. */
const Scored = z.object({ type: z.literal('scored'), idx: z.number().int(), scores: z.array(z.number().nullable()), error: z.string().nullable() });
const ToParent = z.discriminatedUnion('type', [z.object({ type: z.literal('ready') }), Done, Scored]);
type WorkerJob = z.infer<typeof Job> | z.infer<typeof Score>;
type WorkerReply = z.infer<typeof Done> | z.infer<typeof Scored>;

/** Session-filtered bars of a dataset, once per worker (walk-forward scoring slices them). */
async function sessionBarsOf(base: Omit<BacktestRequest, 'params'>, cache: Map<string, BarSeries>): Promise<BarSeries> {
  const key = `${base.datasetId}\u0000${base.session ?? 'all'}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const { dataPaths } = await import('../dataDir.ts');
  const { applySession } = await import('./session.ts');
  const bars = applySession(await cachedBars(base.barsCache, dataPaths(base.dataDir).barsParquet(base.datasetId), base.datasetId), base.session ?? 'all');
  cache.set(key, bars);
  return bars;
}

const strategies = new Map<string, Promise<Awaited<ReturnType<typeof resolveStrategy>>>>();

async function scoreJob(base: Omit<BacktestRequest, 'params'>, cache: Map<string, BarSeries>, m: z.infer<typeof Score>): Promise<WorkerReply> {
  try {
    const { scorePoint } = await import('./walkForward.ts');
    const { normalizeCosts } = await import('./engine.ts');
    const bars = await sessionBarsOf(base, cache);
    if (m.to > bars.length || m.from >= m.to) throw new RangeError(`score job ${m.idx}: bars [${m.from}, ${m.to}) outside the ${bars.length} session bars`);
    // A user strategy file is bundled once per worker, not once per batch.
    let strategy = strategies.get(base.strategy);
    if (!strategy) strategies.set(base.strategy, strategy = resolveStrategy(base.strategy));
    const def = (await strategy).def;
    const costs = normalizeCosts(base.costs);
    const scores = m.points.map((params) => {
      const sc = scorePoint(bars, m.from, m.to, def, validateParams(def, params) as Record<string, unknown>, base.seed ?? 0, costs, m.sortKey);
      return Number.isFinite(sc) ? sc : null;
    });
    return { type: 'scored', idx: m.idx, scores, error: null };
  } catch (e) {
    return { type: 'scored', idx: m.idx, scores: [], error: e instanceof Error ? e.message : String(e) };
  }
}

async function runPoint(base: Omit<BacktestRequest, 'params'>, params: Record<string, unknown>): Promise<Omit<SweepPointResult, 'params'>> {
  try {
    const out = await runBacktestToCatalog({ ...base, params });
    return { run_id: out.run.run_id, status: out.run.status, created: out.created, metrics: out.metrics as Record<string, number | null> | null, error: null };
  } catch (e) {
    const run = (e as { run?: { run_id: string; status: string } }).run;
    return { run_id: run?.run_id ?? null, status: run?.status ?? 'failed', created: true, metrics: null, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The worker side: `btnb sweep --worker` (stdin/stdout untouched; IPC only). */
export async function sweepWorkerMain(): Promise<number> {
  if (!process.send) {
    process.stderr.write('btnb sweep --worker: must be forked by `btnb sweep` (IPC channel missing)\n');
    return 2;
  }
  const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
  const { dataPaths } = await import('../dataDir.ts');
  let base: Omit<BacktestRequest, 'params'> | null = null;
  let close: (() => void) | null = null;
  // SIGTERM from the parent (sweep canceled): the run in flight ends `canceled`, then we exit.
  const ac = new AbortController();
  const onTerm = () => ac.abort();
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  // The parent went away (killed): stop like a cancel rather than linger.
  process.on('disconnect', onTerm);
  const barsCache = new Map<string, BarSeries>();
  const sessionCache = new Map<string, BarSeries>();
  // Runs are not chained: the parent keeps up to RUNS_IN_FLIGHT per worker, so one run's
  // artifact fsyncs overlap the next run's compute.
  const inFlight = new Set<Promise<void>>();
  const settled = () => Promise.all([...inFlight]).then(() => undefined);
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    void settled().then(() => { close?.(); if (process.connected) process.disconnect(); resolveExitRef(code); });
  };
  let resolveExitRef: (code: number) => void = () => {};
  return await new Promise<number>((resolveExit) => {
    resolveExitRef = resolveExit;
    process.on('message', (raw) => {
      const parsed = ToWorker.safeParse(raw);
      if (!parsed.success) {
        process.stderr.write(`btnb sweep --worker: invalid message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
        return;
      }
      const msg = parsed.data;
      if (msg.type === 'setup') {
        const catalog = openCatalog(dataPaths(msg.dataDir).catalog);
        close = () => catalog.close();
        base = {
          dataDir: msg.dataDir, datasetId: msg.datasetId, strategy: msg.strategy, seed: msg.seed, costs: msg.costs as Partial<Costs>,
          session: msg.session, force: msg.force, sweepId: msg.sweepId, catalog, barsCache, signal: ac.signal, ...(msg.tags ? { tags: msg.tags } : {}),
        };
        return;
      }
      if (msg.type === 'stop') {
        exit(0);
        return;
      }
      if (ac.signal.aborted || exiting) return;
      const job = (async () => {
        if (msg.type === 'score') {
          const r = await scoreJob(base!, sessionCache, msg);
          if (process.connected) process.send!(r);
          return;
        }
        const r = await runPoint(base!, msg.params);
        if (process.connected) process.send!({ type: 'done', idx: msg.idx, ...r });
      })();
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
    });
    ac.signal.addEventListener('abort', () => exit(1), { once: true });
    process.send!({ type: 'ready' });
  });
}

export async function runSweep(req: SweepRequest): Promise<SweepResult> {
  const strategy = await resolveStrategy(req.strategy);
  const sweepId = req.sweepId ?? newUlid();
  const valid: { idx: number; params: Record<string, unknown> }[] = [];
  const skipped: SweepResult['skipped'] = [];
  for (const p of req.points) {
    try {
      validateParams(strategy.def, p);
      valid.push({ idx: valid.length, params: p });
    } catch (e) {
      if (!(e instanceof StrategyParamsError)) throw e;
      skipped.push({ params: p, error: e.issues.join('; ') });
    }
  }
  const results = new Array<SweepPointResult>(valid.length);
  let done = 0;
  const total = valid.length;
  req.onProgress?.(0, total);
  const workers = Math.max(1, Math.min(req.workers, total));
  if (workers === 1 || !req.workerEntry) {
    const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
    const { dataPaths } = await import('../dataDir.ts');
    const catalog = openCatalog(dataPaths(req.dataDir).catalog);
    const barsCache = new Map<string, BarSeries>();
    const base = {
      dataDir: req.dataDir, datasetId: req.datasetId, strategy: req.strategy, seed: req.seed, costs: req.costs, session: req.session,
      force: req.force, sweepId, catalog, barsCache, ...(req.signal ? { signal: req.signal } : {}), ...(req.tags ? { tags: req.tags } : {}),
    };
    try {
      // RUNS_IN_FLIGHT lanes over the points in order, as in each worker process.
      let next = 0;
      const lane = async () => {
        while (next < valid.length && !req.signal?.aborted) {
          const v = valid[next++]!;
          const r = await runPoint(base, v.params);
          results[v.idx] = { params: v.params, ...r };
          req.onProgress?.(++done, total);
        }
      };
      await Promise.all(Array.from({ length: RUNS_IN_FLIGHT }, lane));
    } finally {
      catalog.close();
    }
  } else {
    await runOnWorkers({
      workerEntry: req.workerEntry, workers, signal: req.signal,
      setup: {
        type: 'setup', dataDir: req.dataDir, datasetId: req.datasetId, strategy: req.strategy, seed: req.seed,
        costs: req.costs as Record<string, unknown>, session: req.session, force: req.force, sweepId, ...(req.tags ? { tags: req.tags } : {}),
      },
      jobs: valid.map((v) => ({ type: 'run' as const, idx: v.idx, params: v.params })),
      onReply: (m) => {
        if (m.type !== 'done') return;
        const v = valid[m.idx]!;
        results[m.idx] = { params: v.params, run_id: m.run_id, status: m.status, created: m.created, metrics: m.metrics, error: m.error };
        req.onProgress?.(++done, total);
      },
    });
  }
  return { sweep_id: sweepId, results: results.filter(Boolean), skipped };
}

/**
 * The worker pool: forks `workers` `btnb sweep --worker` processes, sends each the setup, keeps
 * RUNS_IN_FLIGHT jobs per worker and hands out the next job on each reply. Settles once every
 * worker has exited; cancel (signal) or a worker failure stops them all (each marks its run in
 * flight canceled).
 */
export function runOnWorkers(opts: {
  workerEntry: string; workers: number; setup: z.infer<typeof Setup>; jobs: WorkerJob[]; onReply: (m: WorkerReply) => void; signal?: AbortSignal | undefined;
}): Promise<void> {
  const { jobs, signal } = opts;
  const total = jobs.length;
  let done = 0;
  return new Promise<void>((resolveAll, rejectAll) => {
    let next = 0;
    let live = 0;
    const children: ChildProcess[] = [];
    let failure: Error | null = null;
    // Stop every worker (each marks its run in flight canceled) and settle once all have exited.
    const failAll = (err: Error) => {
      if (failure) return;
      failure = err;
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      if (live === 0) rejectAll(err);
    };
    signal?.addEventListener('abort', () => failAll(Object.assign(new Error('sweep canceled'), { name: 'AbortError' })), { once: true });
    const stopped = new Set<ChildProcess>();
    const dispatch = (child: ChildProcess) => {
      if (failure || !child.connected || stopped.has(child)) return;
      if (next < jobs.length && !signal?.aborted) {
        child.send(jobs[next++]!);
      } else {
        stopped.add(child); // the worker finishes its jobs in flight, then exits
        child.send({ type: 'stop' });
      }
    };
    const n = Math.max(1, Math.min(opts.workers, jobs.length));
    for (let w = 0; w < n; w++) {
      const child = fork(opts.workerEntry, ['sweep', '--worker'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      children.push(child);
      live++;
      // A worker stopping (cancel) may close its channel while a message is in flight.
      child.on('error', (err) => { if (!failure) failAll(new Error(`sweep worker ${child.pid}: ${err.message}`)); });
      child.on('message', (raw) => {
        const parsed = ToParent.safeParse(raw);
        if (!parsed.success) return failAll(new Error(`sweep worker ${child.pid}: invalid message (${parsed.error.issues[0]?.message})`));
        const m = parsed.data;
        if (m.type === 'ready') {
          if (failure || !child.connected) return;
          child.send(opts.setup);
          for (let k = 0; k < RUNS_IN_FLIGHT; k++) dispatch(child);
          return;
        }
        done++;
        opts.onReply(m);
        dispatch(child);
      });
      child.on('exit', (code, sig) => {
        live--;
        if (!failure && code !== 0 && done < total) failAll(new Error(`sweep worker ${child.pid} exited (${sig ?? code}) before the sweep finished`));
        if (live === 0) {
          if (failure) rejectAll(failure);
          else if (done < total) rejectAll(new Error(`sweep workers exited after ${done} of ${total} jobs`));
          else resolveAll();
        }
      });
    }
  });
}
