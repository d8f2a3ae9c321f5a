/**
 * The coordinator of distributed sweeps (`btnb serve --redis`, `btnb sweep --queue`): one BullMQ
 * job per grid point (job id = input_hash), runs queued in the catalog as unowned rows
 * (catalog/queuedRuns.ts), settled from BullMQ's queue events and, for whatever the events
 * missed (a Redis restart, this process restarted), from the jobs themselves on a reconcile
 * pass. The catalog is the source of truth: a settled run is never settled again, so a point
 * delivered twice is recorded once. A job is removed once its outcome is in the catalog.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { EventEmitter, once } from 'node:events';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CatalogPort, RunRow, SettleQueuedRun } from '../ports/catalog.ts';
import { dataPaths } from '../dataDir.ts';
import { canceledKey, DEFAULT_QUEUE_NAME, JOB_OPTIONS, PointJobResult, type PointJobData } from './protocol.ts';
import { redisConnection } from './redis.ts';
import { strategySources } from './strategySources.ts';
import { planPoints, pointJobData, queueRows, type QueuedPoints } from './pointPlan.ts';

export type { QueuedPoints } from './pointPlan.ts';

export interface CoordinatorOptions {
  redisUrl: string;
  queueName?: string;
  dataDir: string;
  catalog: CatalogPort;
  /** How often open points are checked against their jobs (default 3 s). */
  reconcileMs?: number;
  log?: (line: string) => void;
}

const FLUSH_MS = 100;
const FLUSH_ROWS = 256;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class QueueCoordinator extends EventEmitter<{ settled: [sweepId: string | null, runId: string] }> {
  readonly queueName: string;
  readonly #opts: CoordinatorOptions;
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #redis: Redis;
  /** Open points: input_hash (job id) → its run and the sweeps waiting on it. */
  readonly #open = new Map<string, { runId: string; sweeps: Set<string> }>();
  /** Jobs to add once an earlier job of the same input (a canceled sweep's point, still active) ends. */
  readonly #deferred = new Map<string, PointJobData>();
  #pending: { hash: string; row: SettleQueuedRun }[] = [];
  #starts: string[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #reconcileTimer: NodeJS.Timeout | null = null;
  #reconciling: Promise<void> | null = null;
  #closed = false;
  #conns: Redis[] = [];
  #barsSha = new Map<string, { stamp: string; sha: Promise<string> }>();

  private constructor(opts: CoordinatorOptions, queue: Queue, events: QueueEvents, redis: Redis) {
    super();
    this.#opts = opts;
    this.queueName = opts.queueName ?? DEFAULT_QUEUE_NAME;
    this.#queue = queue;
    this.#events = events;
    this.#redis = redis;
  }

  /** Connects, resumes following the catalog's open distributed points, and reconciles them with Redis. */
  static async start(opts: CoordinatorOptions): Promise<QueueCoordinator> {
    const { Queue, QueueEvents } = await import('bullmq');
    const name = opts.queueName ?? DEFAULT_QUEUE_NAME;
    // the producer's connection pipelines what one tick sends (a flush removes hundreds of jobs);
    // the events connection blocks on XREAD and stays plain
    const conns = [
      redisConnection(opts.redisUrl, { autoPipelining: true }),
      redisConnection(opts.redisUrl),
      redisConnection(opts.redisUrl),
    ] as const;
    const queue = new Queue(name, { connection: conns[0] });
    const events = new QueueEvents(name, { connection: conns[1] });
    const c = new QueueCoordinator(opts, queue, events, conns[2]);
    c.#conns = [...conns];
    queue.on('error', (e) => c.#log(`queue: ${e.message}`));
    events.on('error', (e) => c.#log(`queue events: ${e.message}`));
    // the open points first: an event that arrives next must find its run
    for (const r of opts.catalog.openQueuedRuns())
      c.#open.set(r.input_hash, { runId: r.run_id, sweeps: new Set(r.sweep_id ? [r.sweep_id] : []) });
    events.on('active', ({ jobId }) => c.#started(jobId));
    events.on('completed', ({ jobId, returnvalue }) => c.#completed(jobId, returnvalue));
    events.on('failed', ({ jobId }) => void c.#failedEvent(jobId));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    await c.reconcile();
    c.#reconcileTimer = setInterval(() => void c.reconcile(), opts.reconcileMs ?? 3000);
    c.#reconcileTimer.unref();
    return c;
  }

  #log(line: string): void {
    this.#opts.log?.(line);
  }

  /** The dataset's bars.parquet SHA-256 (kept while the file is unchanged). */
  async barsSha256(datasetId: string): Promise<string> {
    const path = dataPaths(this.#opts.dataDir).barsParquet(datasetId);
    const { stat } = await import('node:fs/promises');
    const st = await stat(path);
    const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
    const hit = this.#barsSha.get(datasetId);
    if (hit?.stamp === stamp) return hit.sha;
    const sha = sha256File(path);
    this.#barsSha.set(datasetId, { stamp, sha });
    return sha;
  }

  /**
   * Queues a sweep's points: a catalog row each (identical inputs reuse their run) and a job for
   * each new one. Returns each point's run (in the points' order) and the points refused by the
   * strategy's schema.
   */
  async submit(req: QueuedPoints): Promise<{
    runs: { params: Record<string, unknown>; run: RunRow; created: boolean }[];
    skipped: { params: Record<string, unknown>; error: string }[];
  }> {
    const cat = this.#opts.catalog;
    const plan = await planPoints(cat, req);
    const [barsSha, sources] = await Promise.all([this.barsSha256(req.datasetId), strategySources(plan.strategy)]);
    const queued = cat.queueRuns(queueRows(plan, req));
    const jobs: { name: string; data: PointJobData; opts: { jobId: string } & typeof JOB_OPTIONS }[] = [];
    const seen = new Set<string>();
    queued.forEach((q, i) => {
      const v = plan.valid[i]!;
      if (q.status !== 'queued' && q.status !== 'running') return;
      // an open run of this input (this sweep's or another's) is followed until it settles
      const open = this.#open.get(v.id.hash);
      if (open) open.sweeps.add(req.sweepId);
      else this.#open.set(v.id.hash, { runId: q.run_id, sweeps: new Set([req.sweepId]) });
      if (!q.created || seen.has(v.id.hash)) return;
      seen.add(v.id.hash);
      jobs.push({
        name: 'point',
        data: pointJobData(plan, req, v, q.run_id, barsSha, sources),
        opts: { jobId: v.id.hash, ...JOB_OPTIONS },
      });
    });
    // A job of the same id left from an earlier, settled run would swallow the new one: a
    // finished one is removed first; one still active (its sweep was canceled mid-point) is
    // replaced when it ends (#completed, #failedJob).
    const fresh: typeof jobs = [];
    for (let k = 0; k < jobs.length; k += 256) {
      // a chunk at a time: the producer connection pipelines the lookups
      const chunk = jobs.slice(k, k + 256);
      const olds = await Promise.all(chunk.map((j) => this.#queue.getJob(j.opts.jobId)));
      const states = await Promise.all(olds.map((o) => (o ? o.getState() : Promise.resolve(null))));
      await Promise.all(olds.map((o, i) => (o && (states[i] === 'completed' || states[i] === 'failed') ? o.remove() : Promise.resolve())));
      chunk.forEach((j, i) => {
        if (states[i] === 'active') this.#deferred.set(j.opts.jobId, j.data);
        else fresh.push(j);
      });
    }
    for (let k = 0; k < fresh.length; k += 500) await this.#queue.addBulk(fresh.slice(k, k + 500));
    this.#log(`sweep ${req.sweepId}: ${plan.valid.length} points, ${jobs.length} queued, ${plan.skipped.length} refused`);
    return {
      runs: plan.valid.map((v, i) => ({ params: v.params, run: cat.getRun(queued[i]!.run_id)!, created: queued[i]!.created })),
      skipped: plan.skipped,
    };
  }

  /** BullMQ's job counts of the queue (waiting, active, completed, failed, …). */
  queueCounts(): Promise<Record<string, number>> {
    return this.#queue.getJobCounts();
  }

  /** Open points of a sweep (null: all). */
  openCount(sweepId: string | null = null): number {
    let n = 0;
    for (const o of this.#open.values()) if (sweepId === null || o.sweeps.has(sweepId)) n++;
    return n;
  }

  #started(jobId: string): void {
    const o = this.#open.get(jobId);
    if (!o) return;
    // marked running with the next batch (a transaction per point would cost more than the point's queueing)
    this.#starts.push(o.runId);
    this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  /** A job of an earlier run of this input ended: its replacement for the open run goes in now. */
  #replace(jobId: string): boolean {
    const next = this.#deferred.get(jobId);
    if (!next) return false;
    this.#deferred.delete(jobId);
    void this.#queue
      .remove(jobId)
      .then(() => this.#queue.add('point', next, { jobId, ...JOB_OPTIONS }))
      .catch((err: Error) => this.#log(`re-queue ${jobId}: ${err.message}`));
    return true;
  }

  #completed(jobId: string, raw: unknown): void {
    const o = this.#open.get(jobId);
    if (!o) {
      // settled already (a second delivery, a canceled sweep's point): the job is not needed
      if (!this.#replace(jobId)) void this.#queue.remove(jobId).catch(() => undefined);
      return;
    }
    const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
    const r = PointJobResult.safeParse(value);
    if (r.success && r.data.run_id !== o.runId) {
      // the result of an earlier run of the same input (its sweep canceled): not this run's
      if (!this.#replace(jobId))
        this.#settle(jobId, {
          run_id: o.runId,
          status: 'failed',
          metrics: null,
          error: `its queue job ran for run ${r.data.run_id}; run the point again`,
          started_at: null,
          finished_at: new Date().toISOString(),
          manifest: null,
          materialized: false,
        });
      return;
    }
    if (!r.success) {
      this.#settle(jobId, {
        run_id: o.runId,
        status: 'failed',
        metrics: null,
        error: `worker result is not a btnb point result: ${r.error.issues[0]?.message}`,
        started_at: null,
        finished_at: new Date().toISOString(),
        manifest: null,
        materialized: false,
      });
      return;
    }
    const v = r.data;
    this.#settle(jobId, {
      run_id: o.runId,
      status: v.status,
      metrics: v.metrics,
      error: v.error,
      started_at: v.started_at,
      finished_at: v.finished_at,
      manifest: v.uploaded ? null : v.manifest,
      materialized: v.status === 'succeeded' && v.uploaded,
    });
  }

  async #failedEvent(jobId: string): Promise<void> {
    // 'failed' comes for the final failure; a job moved back for another attempt is not failed
    const job = await this.#queue.getJob(jobId);
    if (job && (await job.getState()) === 'failed') this.#failedJob(job);
  }

  #failedJob(job: Job): void {
    const o = this.#open.get(job.id!);
    const forRun = (job.data as { run_id?: string } | undefined)?.run_id;
    if (!o) {
      // the failed job of a settled run: replaced by a later run's job, or dropped
      if (!this.#replace(job.id!)) void this.#queue.remove(job.id!).catch(() => undefined);
      return;
    }
    if (forRun !== o.runId && this.#replace(job.id!)) return; // an earlier run's job: the open run's goes in now
    this.#settle(job.id!, {
      run_id: o.runId,
      status: 'failed',
      metrics: null,
      error: `${job.failedReason ?? 'failed'}${job.stacktrace?.length ? `\n${job.stacktrace.at(-1)}` : ''}`,
      started_at: null,
      finished_at: new Date().toISOString(),
      manifest: null,
      materialized: false,
    });
  }

  #settle(hash: string, row: SettleQueuedRun): void {
    this.#pending.push({ hash, row });
    if (this.#pending.length >= FLUSH_ROWS) this.#flush();
    else this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  #flush(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const taken = this.#pending;
    this.#pending = [];
    const starts = this.#starts;
    this.#starts = [];
    if (starts.length) this.#opts.catalog.startQueuedRuns(starts);
    if (taken.length === 0) return;
    this.#opts.catalog.settleQueuedRuns(taken.map((t) => t.row));
    for (const t of taken) {
      const o = this.#open.get(t.hash);
      this.#open.delete(t.hash);
      // recorded: BullMQ drops the finished job after a day (removeOnComplete), in its own script
      for (const sw of o?.sweeps ?? []) this.emit('settled', sw, t.row.run_id);
    }
  }

  /** Checks every open point against its job: settles what finished unseen, re-queues nothing lost silently. */
  reconcile(): Promise<void> {
    this.#reconciling ??= (async () => {
      try {
        for (const [hash, o] of [...this.#open]) {
          if (this.#closed) return;
          const row = this.#opts.catalog.getRun(o.runId);
          if (!row || (row.status !== 'queued' && row.status !== 'running')) {
            // settled elsewhere (canceled, or by another coordinator)
            this.#open.delete(hash);
            for (const sw of o.sweeps) this.emit('settled', sw, o.runId);
            continue;
          }
          const job = await this.#queue.getJob(hash);
          if (!job) {
            this.#settle(hash, {
              run_id: o.runId,
              status: 'failed',
              metrics: null,
              error: `its queue job ${hash} is gone from Redis (flushed, or Redis lost it without persistence)`,
              started_at: null,
              finished_at: new Date().toISOString(),
              manifest: null,
              materialized: false,
            });
            continue;
          }
          const state = await job.getState();
          if (state === 'completed') this.#completed(hash, job.returnvalue);
          else if (state === 'failed') this.#failedJob(job);
          else if (state === 'active' && row.status === 'queued') this.#started(hash);
        }
        this.#flush();
      } catch (err) {
        this.#log(`reconcile: ${(err as Error).message}`);
      } finally {
        this.#reconciling = null;
      }
    })();
    return this.#reconciling;
  }

  /** Resolves when none of the sweep's points is open. */
  async waitFor(sweepId: string, signal?: AbortSignal): Promise<void> {
    while (this.openCount(sweepId) > 0) {
      if (signal?.aborted) throw Object.assign(new Error('sweep canceled'), { name: 'AbortError' });
      // the next settled point of this sweep, a second, or the abort: whichever comes first
      const ac = new AbortController();
      await Promise.race([
        once(this, 'settled', { signal: ac.signal }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 1000, undefined).unref()),
        ...(signal ? [once(signal, 'abort', { signal: ac.signal }).catch(() => undefined)] : []),
      ]);
      ac.abort();
    }
  }

  /** Cancels a sweep: waiting jobs removed, active ones told (they complete canceled), open runs end canceled now. */
  async cancel(sweepId: string): Promise<number> {
    await this.#redis.set(canceledKey(this.queueName, sweepId), '1', 'EX', 7 * 86400);
    const now = new Date().toISOString();
    const mine = [...this.#open].filter(([, o]) => o.sweeps.has(sweepId));
    for (const [hash] of mine) await this.#queue.remove(hash).catch(() => 0); // an active (locked) job stays
    for (const [hash, o] of mine)
      this.#settle(hash, {
        run_id: o.runId,
        status: 'canceled',
        metrics: null,
        error: null,
        started_at: null,
        finished_at: now,
        manifest: null,
        materialized: false,
      });
    this.#flush();
    return mine.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconcileTimer) clearInterval(this.#reconcileTimer);
    await this.#reconciling;
    this.#flush();
    await Promise.allSettled([this.#events.close(), this.#queue.close()]);
    // connections we passed in are ours to close (BullMQ closes only those it made)
    for (const r of this.#conns) r.disconnect();
  }
}
