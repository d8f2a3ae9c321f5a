/**
 * `btnb worker`: a BullMQ worker that runs sweep points (distributed/protocol.ts) with the same
 * engine as a local sweep. It fetches a dataset's bars from the coordinator (content-addressed,
 * cached), lays out a user strategy's shipped sources and recomputes their code_hash, checks the
 * point's input_hash, runs it, uploads its files when asked, and completes the job with its
 * metrics. It never opens a catalog: the coordinator alone writes one.
 *
 * The processor awaits the engine's async loop (built-ins yield every few thousand bars) or the
 * sandbox thread (user code), so the event loop stays free to renew job locks.
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Job } from 'bullmq';
import { ENGINE_VERSION } from '../version.ts';
import { BarsCache } from './barsCache.ts';
import { layOutSources } from './strategySources.ts';
import { uploadArtifacts } from './upload.ts';
import { canceledKey, DEFAULT_QUEUE_NAME, PointJobData, QUEUE_PROTOCOL, QUEUE_SETTINGS, type PointJobResult } from './protocol.ts';
import { redisConnection } from './redis.ts';
import { patiently } from './patience.ts';

/** How often a running point asks whether its run was canceled. */
const CANCEL_POLL_MS = 500;

export interface WorkerOptions {
  redisUrl: string;
  server: string;
  token: string | null;
  concurrency: number;
  cacheDir: string;
  queueName?: string;
  /** Lock and stall timing (default QUEUE_SETTINGS); tests shorten them to see a stall in seconds. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** Points finished by this worker (any status). */
  readonly done: () => number;
  readonly bytes: () => { fetched: number; uploaded: number };
  close(): Promise<void>;
}

/** Checks the coordinator answers and runs this engine version; the worker refuses to start otherwise. */
async function checkCoordinator(server: string): Promise<void> {
  // a worker may start before its coordinator (both started by one script): it waits for it
  const res = await patiently(`--server ${server}: GET /healthz`, () => fetch(`${server.replace(/\/$/, '')}/healthz`));
  const h = (await res.json()) as { version?: string };
  if (h.version !== ENGINE_VERSION)
    throw new Error(
      `--server ${server} runs engine version ${h.version}, this worker ${ENGINE_VERSION}: start a worker of the coordinator's version`,
    );
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  // warm before waiting: a worker started ahead of its coordinator is ready the moment it answers
  const { Worker, UnrecoverableError } = await import('bullmq');
  const [{ resolveStrategy, runIdentity, computeResult, runManifest, errorText }, { writeRunArtifacts }] = await Promise.all([
    import('../backtest/runner.ts'),
    import('../backtest/artifacts.ts'),
  ]);
  await checkCoordinator(opts.server);
  const queueName = opts.queueName ?? DEFAULT_QUEUE_NAME;
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const bars = new BarsCache(opts.cacheDir, opts.server, headers);
  const redis = redisConnection(opts.redisUrl);
  const me = `${hostname()}:${process.pid}`;
  const log = opts.log ?? (() => undefined);
  const strategies = new Map<string, ReturnType<typeof resolveStrategy>>();
  let done = 0;
  let uploaded = 0;

  // the run's cancel key (coordinator.cancel): asked before the point runs, while it runs, and before an upload
  const canceled = async (runId: string): Promise<boolean> => (await redis.exists(canceledKey(queueName, runId))) > 0;

  const strategyFor = (d: PointJobData) => {
    const key = d.strategy ? d.code_hash : d.strategy_id;
    let p = strategies.get(key);
    if (!p) {
      p = (async () => resolveStrategy(d.strategy ? await layOutSources(opts.cacheDir, d.code_hash, d.strategy) : d.strategy_id))();
      p.catch(() => strategies.delete(key));
      strategies.set(key, p);
    }
    return p;
  };

  const process_ = async (job: Job): Promise<PointJobResult> => {
    const parsed = PointJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`job ${job.id}: not a btnb point (protocol ${QUEUE_PROTOCOL}): ${parsed.error.issues[0]?.message}`);
    const d = parsed.data;
    if (d.engine_version !== ENGINE_VERSION)
      throw new UnrecoverableError(
        `worker ${me} runs engine version ${ENGINE_VERSION}; point ${d.input_hash.slice(0, 12)}… was queued for engine ${d.engine_version}: refused (run workers of the coordinator's version)`,
      );
    const base = { protocol: QUEUE_PROTOCOL, run_id: d.run_id, worker: me, manifest: null, uploaded: false } as const;
    const stamp = () => new Date().toISOString();
    if (await canceled(d.run_id))
      return { ...base, status: 'canceled', metrics: null, error: null, started_at: stamp(), finished_at: stamp() };
    const strategy = await strategyFor(d);
    if (strategy.codeHash !== d.code_hash)
      throw new UnrecoverableError(
        `strategy ${d.strategy_id}: code_hash here ${strategy.codeHash.slice(0, 12)}…, the point's ${d.code_hash.slice(0, 12)}… (different sources, engine or esbuild)`,
      );
    const id = runIdentity(strategy, {
      datasetId: d.dataset_id,
      params: d.params,
      seed: d.seed,
      costs: d.costs,
      session: d.session,
      ...(d.date_range ? { dateRange: d.date_range } : {}),
    });
    if (id.hash !== d.input_hash)
      throw new UnrecoverableError(`point ${d.input_hash.slice(0, 12)}…: this worker computes input_hash ${id.hash.slice(0, 12)}… for it`);
    const all = await bars.bars(d.dataset_id, d.bars_sha256);
    const startedAt = stamp();
    let result;
    // a point running longer than CANCEL_POLL_MS asks for its cancel key meanwhile: an active
    // point of a canceled sweep stops (the engine and the sandbox honour the signal)
    const stop = new AbortController();
    const poll = setInterval(() => {
      void canceled(d.run_id).then(
        (yes) => yes && stop.abort(),
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    try {
      result = await computeResult(all, strategy, id, { signal: stop.signal });
    } catch (err) {
      if (stop.signal.aborted)
        return { ...base, status: 'canceled', metrics: null, error: null, started_at: startedAt, finished_at: stamp() };
      // the strategy threw: a deterministic failure of this run (not retried), with its stack
      return { ...base, status: 'failed', metrics: null, error: errorText(err), started_at: startedAt, finished_at: stamp() };
    } finally {
      clearInterval(poll);
    }
    const finishedAt = stamp();
    const manifest = runManifest({
      runId: d.run_id,
      datasetId: d.dataset_id,
      symbol: d.symbol,
      strategy,
      id,
      barCount: result.bars.length,
      startedAt,
      finishedAt,
    });
    const metrics = result.metrics as unknown as Record<string, number | null>;
    if (!d.artifacts)
      return { ...base, status: 'succeeded', metrics, error: null, started_at: startedAt, finished_at: finishedAt, manifest };
    if (await canceled(d.run_id))
      return { ...base, status: 'canceled', metrics: null, error: null, started_at: startedAt, finished_at: finishedAt };
    const dir = await mkdtemp(join(tmpdir(), `btnb-upload-${d.run_id}-`));
    try {
      const files = await writeRunArtifacts(dir, result);
      const mf = join(dir, 'run-manifest.json');
      await writeFile(mf, `${JSON.stringify(manifest, null, 2)}\n`);
      uploaded += await uploadArtifacts(opts.server, headers, d.run_id, [...files, mf]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return { ...base, status: 'succeeded', metrics, error: null, started_at: startedAt, finished_at: finishedAt, uploaded: true };
  };

  // connections we pass in are ours to close (BullMQ closes only those it made)
  const workerRedis = redisConnection(opts.redisUrl);
  const worker = new Worker(
    queueName,
    async (job: Job) => {
      const r = await process_(job);
      done++;
      log(`${job.id!.slice(0, 12)}… ${r.status}${r.error ? `: ${r.error.split('\n')[0]}` : ''}`);
      return r;
    },
    {
      connection: workerRedis,
      concurrency: opts.concurrency,
      ...QUEUE_SETTINGS,
      ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
      ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
    },
  );
  worker.on('failed', (job, err) => log(`${job?.id?.slice(0, 12) ?? '?'}… attempt ${job?.attemptsMade ?? '?'} failed: ${err.message}`));
  worker.on('error', (err) => log(`queue error: ${err.message}`));
  await worker.waitUntilReady();
  return {
    done: () => done,
    bytes: () => ({ fetched: bars.bytesFetched, uploaded }),
    async close() {
      await worker.close();
      redis.disconnect();
      workerRedis.disconnect();
    },
  };
}
