/**
 * What a sweep worker does with a job — a catalog run per grid point, or a batch of
 * walk-forward in-sample scores — shared by the pool's own process and its forked workers
 * (`btnb sweep --worker`, the CLI entry forked by workerPool.ts).
 */
import { errorSummary } from '../backtest/errorFrames.ts';
import type { BarSeries } from '../bars/barSeries.ts';
import { cachedBars, LocalBacktestRunner, resolveStrategy, type BacktestRequest } from '../backtest/runner.ts';
import type { BacktestRunnerPort, BacktestRunRequest } from '../ports/backtestRunner.ts';
import { parseParams as validateParams } from '../backtest/strategy.ts';
import { parseToWorker, type LightOutcome, type SetupMsg, type ToParent, type WorkerJob, type WorkerReply } from './protocol.ts';
import { ProtocolError } from '../jobs/protocol.ts';

/** One executor's state: the run request minus params, its runner, and its session-filtered bars. */
export interface WorkerContext {
  base: Omit<BacktestRequest, 'params'>;
  runner: BacktestRunnerPort;
  sessionCache: Map<string, BarSeries>;
}

export interface PointOutcome {
  run_id: string | null;
  status: string;
  created: boolean;
  metrics: Record<string, number | null> | null;
  error: string | null;
}

/** A context for `setup` with an open catalog and a bars cache (the dataset is read on first use). */
export function workerContext(msg: SetupMsg, catalog: NonNullable<BacktestRequest['catalog']>, signal: AbortSignal): WorkerContext {
  const barsCache = new Map<string, BarSeries>();
  return {
    runner: new LocalBacktestRunner(msg.dataDir, { catalog, barsCache }),
    base: {
      dataDir: msg.dataDir,
      datasetId: msg.datasetId,
      strategy: msg.strategy,
      seed: msg.seed,
      costs: msg.costs,
      session: msg.session,
      force: msg.force,
      sweepId: msg.sweepId,
      catalog,
      barsCache,
      signal,
      ...(msg.tags ? { tags: msg.tags } : {}),
      ...(msg.dateRange ? { dateRange: msg.dateRange } : {}),
    },
    sessionCache: new Map(),
  };
}

/** Session-filtered bars of a dataset, once per executor (walk-forward scoring slices them). */
async function sessionBarsOf(ctx: WorkerContext): Promise<BarSeries> {
  const { base, sessionCache: cache } = ctx;
  const key = `${base.datasetId}\u0000${base.session ?? 'all'}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const { dataPaths } = await import('../dataDir.ts');
  const { applySession } = await import('../backtest/session.ts');
  const bars = applySession(
    await cachedBars(base.barsCache, dataPaths(base.dataDir).barsParquet(base.datasetId), base.datasetId),
    base.session ?? 'all',
  );
  cache.set(key, bars);
  return bars;
}

const strategies = new Map<string, Promise<Awaited<ReturnType<typeof resolveStrategy>>>>();

async function scoreJob(ctx: WorkerContext, m: Extract<WorkerJob, { type: 'score' }>): Promise<WorkerReply> {
  const base = ctx.base;
  try {
    const { scorePoint } = await import('./walkForward.ts');
    const { toCosts } = await import('../backtest/costs.ts');
    const bars = await sessionBarsOf(ctx);
    if (m.to > bars.length || m.from >= m.to)
      throw new RangeError(`score job ${m.idx}: bars [${m.from}, ${m.to}) outside the ${bars.length} session bars`);
    // A user strategy file is bundled once per executor, not once per batch.
    let strategy = strategies.get(base.strategy);
    if (!strategy) strategies.set(base.strategy, (strategy = resolveStrategy(base.strategy)));
    const def = (await strategy).def;
    const costs = toCosts(base.costs);
    const scores = m.points.map((params) => {
      const sc = scorePoint(
        bars,
        m.from,
        m.to,
        def,
        validateParams(def, params) as Record<string, unknown>,
        base.seed ?? 0,
        costs,
        m.sortKey,
      );
      return Number.isFinite(sc) ? sc : null;
    });
    return { type: 'result', job: 'score', idx: m.idx, scores, error: null };
  } catch (e) {
    return { type: 'result', job: 'score', idx: m.idx, scores: [], error: e instanceof Error ? e.message : String(e) };
  }
}

/** One grid point as a catalog run; a failure or cancel is an outcome, not a throw. */
export async function runPoint(
  runner: BacktestRunnerPort,
  base: Omit<BacktestRunRequest, 'params'>,
  params: Record<string, unknown>,
): Promise<PointOutcome> {
  try {
    // An identical earlier run comes back tagged `sweep:<id>`, so the sweep's results find it.
    const out = await runner.run({ ...base, params });
    return {
      run_id: out.run.run_id,
      status: out.run.status,
      created: out.created,
      metrics: out.metrics as Record<string, number | null> | null,
      error: null,
    };
  } catch (e) {
    const run = (e as { run?: { run_id: string; status: string } }).run;
    return {
      run_id: run?.run_id ?? null,
      status: run?.status ?? 'failed',
      created: true,
      metrics: null,
      error: errorSummary(e),
    };
  }
}

/** Light points: each run over the cached bars for its metrics; one point's failure is its outcome. */
async function pointsJob(ctx: WorkerContext, m: Extract<WorkerJob, { type: 'points' }>): Promise<WorkerReply> {
  const base = ctx.base;
  try {
    const { dataPaths } = await import('../dataDir.ts');
    const { computeResult, runIdentity } = await import('../backtest/runner.ts');
    let strategy = strategies.get(base.strategy);
    if (!strategy) strategies.set(base.strategy, (strategy = resolveStrategy(base.strategy)));
    const resolved = await strategy;
    const all = await cachedBars(base.barsCache, dataPaths(base.dataDir).barsParquet(base.datasetId), base.datasetId);
    const outcomes: LightOutcome[] = [];
    for (const params of m.points) {
      if (base.signal?.aborted) break;
      const startedAt = new Date().toISOString();
      try {
        const id = runIdentity(resolved, { ...base, params });
        const r = await computeResult(all, resolved, id, { signal: base.signal });
        const metrics = r.metrics as unknown as Record<string, number | null>;
        outcomes.push({ metrics, error: null, bar_count: r.bars.length, started_at: startedAt, finished_at: new Date().toISOString() });
      } catch (e) {
        if (base.signal?.aborted) break;
        outcomes.push({
          metrics: null,
          error: errorSummary(e),
          bar_count: 0,
          started_at: startedAt,
          finished_at: new Date().toISOString(),
        });
      }
    }
    return { type: 'result', job: 'points', idx: m.idx, outcomes, error: null };
  } catch (e) {
    return { type: 'result', job: 'points', idx: m.idx, outcomes: [], error: errorSummary(e) };
  }
}

export async function handleJob(ctx: WorkerContext, job: WorkerJob): Promise<WorkerReply> {
  if (job.type === 'score') return scoreJob(ctx, job);
  if (job.type === 'points') return pointsJob(ctx, job);
  return { type: 'result', job: 'run', idx: job.idx, ...(await runPoint(ctx.runner, ctx.base, job.params)) };
}

/** The worker side: `btnb sweep --worker` (stdin/stdout untouched; IPC only). */
export async function sweepWorkerMain(): Promise<number> {
  if (!process.send) {
    process.stderr.write('btnb sweep --worker: must be forked by `btnb sweep` (IPC channel missing)\n');
    return 2;
  }
  const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
  const { dataPaths } = await import('../dataDir.ts');
  let ctx: WorkerContext | null = null;
  let close: (() => void) | null = null;
  // `cancel` from the parent (SIGTERM if we do not answer it): the runs in flight end
  // `canceled`, then we exit.
  const ac = new AbortController();
  const send = (m: ToParent) => {
    if (process.connected) process.send!(m);
  };
  const onTerm = () => ac.abort();
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  // The parent went away (killed): exit at once — the runs in flight are settled as abandoned by
  // the next process that opens the catalog (recovery.ts), their temp directories removed then.
  let exiting = false;
  process.on('disconnect', () => {
    if (!exiting) process.exit(129);
  });
  // Jobs are not chained: the pool keeps several in flight, so one run's artifact fsyncs
  // overlap the next run's compute.
  const inFlight = new Set<Promise<void>>();
  return await new Promise<number>((resolveExit) => {
    const exit = (code: number) => {
      if (exiting) return;
      exiting = true;
      void Promise.all([...inFlight]).then(() => {
        close?.();
        if (process.connected) process.disconnect();
        resolveExit(code);
        // A cancel can land while the setup (with the bars, MBs) is still arriving: the half-read
        // message keeps the channel's pipe open after disconnect. Nothing is left to flush here.
        setTimeout(() => process.exit(code), 200).unref();
      });
    };
    process.on('message', (raw) => {
      let msg;
      try {
        msg = parseToWorker(raw);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        send({ type: 'error', message: err.message });
        return exit(2);
      }
      if (msg.type === 'cancel') return ac.abort();
      if (msg.type === 'start') {
        const catalog = openCatalog(dataPaths(msg.dataDir).catalog);
        close = () => catalog.close();
        ctx = workerContext(msg, catalog, ac.signal);
        return;
      }
      if (msg.type === 'stop') return exit(0);
      if (ac.signal.aborted || exiting) return;
      if (ctx === null) {
        send({ type: 'error', message: `sweep worker: a ${msg.type} message arrived before start` });
        return exit(2);
      }
      const job = handleJob(ctx, msg).then(send);
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
    });
    ac.signal.addEventListener('abort', () => exit(1), { once: true });
    send({ type: 'ready', pid: process.pid });
  });
}
