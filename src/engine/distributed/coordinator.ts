/**
 * The coordinator of distributed sweeps (`btnb serve --redis`, `btnb sweep --queue`): one BullMQ
 * job per grid point (job id = input_hash), runs queued in the catalog as unowned rows
 * (catalog/queuedRuns.ts), settled from BullMQ's queue events and, for whatever the events
 * missed (a Redis restart, this process restarted), from the jobs themselves on a reconcile
 * pass. The catalog is the source of truth: a settled run is never settled again, so a point
 * delivered twice is recorded once. Finished jobs stay a day for a restarted coordinator
 * (JOB_OPTIONS); a cancel marks each canceled run with a Redis key its worker checks.
 */
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CatalogPort, RunRow, SettleQueuedRun } from '../ports/catalog.ts';
import { dataPaths } from '../dataDir.ts';
import { cachedSha256File } from '../io/files.ts';
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
  /** Points whose job is being (re)added: not yet in Redis, so a reconcile pass must not call them lost. */
  readonly #adding = new Set<string>();
  #pending: { hash: string; row: SettleQueuedRun }[] = [];
  #starts: string[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #reconcileTimer: NodeJS.Timeout | null = null;
  #reconciling: Promise<void> | null = null;
  #closed = false;
  #conns: Redis[] = [];

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
    events.on('failed', ({ jobId }) => c.#background(c.#failedEvent(jobId), `failed job ${jobId}`));
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    } catch (err) {
      await c.close();
      throw new Error(`--redis ${opts.redisUrl}: ${(err as Error).message}`);
    }
    await c.reconcile();
    c.#reconcileTimer = setInterval(() => void c.reconcile(), opts.reconcileMs ?? 3000);
    c.#reconcileTimer.unref();
    return c;
  }

  #log(line: string): void {
    this.#opts.log?.(line);
  }

  /** The dataset's bars.parquet SHA-256 (hashed once while the file is unchanged). */
  barsSha256(datasetId: string): Promise<string> {
    return cachedSha256File(dataPaths(this.#opts.dataDir).barsParquet(datasetId));
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
    // A job of the same id left from an earlier, settled run would swallow the new one (BullMQ
    // keeps one job per id): one not running is removed first; one still active (a canceled
    // sweep's point) is replaced when it ends (#requeue).
    for (const j of jobs) this.#adding.add(j.opts.jobId);
    try {
      const fresh: typeof jobs = [];
      for (let k = 0; k < jobs.length; k += 256) {
        // a chunk at a time: the producer connection pipelines the lookups
        const chunk = jobs.slice(k, k + 256);
        const olds = await Promise.all(chunk.map((j) => this.#queue.getJob(j.opts.jobId)));
        const removed = await Promise.all(olds.map((o) => (o ? this.#queue.remove(o.id!) : Promise.resolve(1))));
        chunk.forEach((j, i) => {
          if (removed[i] === 0)
            this.#deferred.set(j.opts.jobId, j.data); // locked: active
          else fresh.push(j);
        });
      }
      for (let k = 0; k < fresh.length; k += 500) await this.#queue.addBulk(fresh.slice(k, k + 500));
    } finally {
      for (const j of jobs) this.#adding.delete(j.opts.jobId);
    }
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
    this.#schedule();
  }

  /**
   * The job of this input ran for an earlier run (a canceled sweep's point, or a job left from
   * before a restart): a job for the open run replaces it — the data queued for it, or the old
   * job's with this run's id.
   */
  async #requeue(hash: string, old: Job | undefined): Promise<void> {
    const o = this.#open.get(hash);
    if (!o) return;
    const old_ = old ?? (await this.#queue.getJob(hash));
    const data = this.#deferred.get(hash) ?? (old_ ? { ...(old_.data as PointJobData), run_id: o.runId } : null);
    this.#deferred.delete(hash);
    if (!data) {
      this.#settleFailed(hash, o.runId, `its queue job ${hash} is gone; run the point again`);
      return;
    }
    this.#adding.add(hash);
    try {
      await this.#queue.remove(hash);
      await this.#queue.add('point', data, { jobId: hash, ...JOB_OPTIONS });
    } finally {
      this.#adding.delete(hash);
    }
  }

  #completed(jobId: string, raw: unknown): void {
    const o = this.#open.get(jobId);
    if (!o) return; // settled already: a second delivery, or a canceled point finishing
    let value: unknown = raw;
    try {
      if (typeof raw === 'string') value = JSON.parse(raw);
    } catch {
      /* not JSON: refused below */
    }
    const r = PointJobResult.safeParse(value);
    if (!r.success) {
      this.#settleFailed(jobId, o.runId, `worker result is not a btnb point result: ${r.error.issues[0]?.message}`);
      return;
    }
    const v = r.data;
    if (v.run_id !== o.runId) {
      // the result of an earlier run of the same input: this run still needs its own
      this.#background(this.#requeue(jobId, undefined), `re-queue ${jobId}`);
      return;
    }
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
    // 'failed' comes for the final failure (a retry moves the job back instead)
    const job = await this.#queue.getJob(jobId);
    if (job && (await job.getState()) === 'failed') this.#failedJob(job);
  }

  #failedJob(job: Job): void {
    const o = this.#open.get(job.id!);
    if (!o) return;
    if ((job.data as { run_id?: string } | undefined)?.run_id !== o.runId) {
      this.#background(this.#requeue(job.id!, job), `re-queue ${job.id!}`);
      return;
    }
    this.#settleFailed(job.id!, o.runId, `${job.failedReason ?? 'failed'}${job.stacktrace?.length ? `\n${job.stacktrace.at(-1)}` : ''}`);
  }

  #settleFailed(hash: string, runId: string, error: string): void {
    this.#settle(hash, {
      run_id: runId,
      status: 'failed',
      metrics: null,
      error,
      started_at: null,
      finished_at: new Date().toISOString(),
      manifest: null,
      materialized: false,
    });
  }

  #settle(hash: string, row: SettleQueuedRun): void {
    this.#pending.push({ hash, row });
    if (this.#pending.length >= FLUSH_ROWS) this.#flush();
    else this.#schedule();
  }

  #schedule(delay = FLUSH_MS): void {
    if (this.#flushTimer || this.#closed) return;
    this.#flushTimer = setTimeout(() => this.#flush(), delay);
  }

  /** A promise nobody awaits: its failure is logged, never an unhandled rejection. */
  #background(p: Promise<unknown>, what: string): void {
    p.catch((err: unknown) => this.#log(`${what}: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Writes the batched starts and settles; a catalog that refuses (busy) keeps them for the next try. */
  #flush(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const taken = this.#pending;
    const starts = this.#starts;
    this.#pending = [];
    this.#starts = [];
    try {
      if (starts.length) this.#opts.catalog.startQueuedRuns(starts);
      if (taken.length) this.#opts.catalog.settleQueuedRuns(taken.map((t) => t.row));
    } catch (err) {
      this.#log(`catalog: ${(err as Error).message}; retrying ${taken.length + starts.length} write(s)`);
      this.#pending = [...taken, ...this.#pending];
      this.#starts = [...starts, ...this.#starts];
      this.#schedule(FLUSH_MS * 10);
      return;
    }
    for (const t of taken) {
      const o = this.#open.get(t.hash);
      if (o?.runId !== t.row.run_id) continue;
      this.#open.delete(t.hash);
      this.#deferred.delete(t.hash);
      // recorded: BullMQ drops the finished job after a day (removeOnComplete), in its own script
      for (const sw of o.sweeps) this.emit('settled', sw, t.row.run_id);
    }
  }

  /** Checks every open point against its job: settles what finished unseen, fails what Redis lost. */
  reconcile(): Promise<void> {
    if (this.#reconciling) return this.#reconciling;
    const pass = async () => {
      const open = [...this.#open].filter(([hash]) => !this.#adding.has(hash));
      for (let k = 0; k < open.length && !this.#closed; k += 256) {
        const chunk = open.slice(k, k + 256);
        // pipelined: a chunk of lookups is one round trip on the producer connection
        const jobs = await Promise.all(chunk.map(([hash]) => this.#queue.getJob(hash)));
        const states = await Promise.all(jobs.map((j) => (j ? j.getState() : Promise.resolve(null))));
        chunk.forEach(([hash, o], i) => {
          if (this.#open.get(hash) !== o || this.#adding.has(hash)) return; // settled or re-queued meanwhile
          const row = this.#opts.catalog.getRun(o.runId);
          if (!row || (row.status !== 'queued' && row.status !== 'running')) {
            // settled elsewhere (canceled by hand, another coordinator)
            this.#open.delete(hash);
            for (const sw of o.sweeps) this.emit('settled', sw, o.runId);
            return;
          }
          const job = jobs[i];
          if (!job) {
            if (this.#deferred.has(hash)) this.#background(this.#requeue(hash, undefined), `re-queue ${hash}`);
            else
              this.#settleFailed(hash, o.runId, `its queue job ${hash} is gone from Redis (flushed, or Redis lost it without persistence)`);
          } else if (states[i] === 'completed') this.#completed(hash, job.returnvalue);
          else if (states[i] === 'failed') this.#failedJob(job);
          else if (states[i] === 'active' && row.status === 'queued') this.#started(hash);
        });
      }
      this.#flush();
    };
    const p = pass()
      .catch((err: unknown) => this.#log(`reconcile: ${(err as Error).message}`))
      .finally(() => {
        this.#reconciling = null;
      });
    this.#reconciling = p;
    return p;
  }

  /** Resolves when none of the sweep's points is open. */
  async waitFor(sweepId: string, signal?: AbortSignal): Promise<void> {
    while (this.openCount(sweepId) > 0) {
      if (signal?.aborted) throw Object.assign(new Error('sweep canceled'), { name: 'AbortError' });
      // the next settled point of this sweep, a second, or the abort: whichever comes first
      const ac = new AbortController();
      await Promise.race([
        once(this, 'settled', { signal: ac.signal }).catch(() => undefined),
        sleep(1000, undefined, { signal: ac.signal }).catch(() => undefined),
        ...(signal ? [once(signal, 'abort', { signal: ac.signal }).catch(() => undefined)] : []),
      ]);
      ac.abort();
    }
  }

  /**
   * Cancels a sweep. A point only this sweep waits on is canceled: its run ends canceled now, its
   * job is removed if still waiting, and a worker that has it sees the run's cancel key and
   * completes it `canceled`. A point another sweep also waits on keeps running for that one.
   */
  async cancel(sweepId: string): Promise<number> {
    const now = new Date().toISOString();
    const mine = [...this.#open].filter(([, o]) => o.sweeps.has(sweepId));
    const alone = mine.filter(([, o]) => o.sweeps.size === 1);
    for (const [, o] of mine) if (o.sweeps.size > 1) o.sweeps.delete(sweepId);
    if (alone.length) {
      const keys = this.#redis.multi();
      for (const [, o] of alone) keys.set(canceledKey(this.queueName, o.runId), '1', 'EX', 7 * 86400);
      await keys.exec();
      // a waiting job goes; an active (locked) one stays and completes canceled
      await Promise.all(alone.map(([hash]) => this.#queue.remove(hash).catch(() => 0)));
    }
    for (const [hash, o] of alone) {
      this.#deferred.delete(hash);
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
    }
    this.#flush();
    this.emit('settled', sweepId, '');
    return alone.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconcileTimer) clearInterval(this.#reconcileTimer);
    // no more events, then the last writes, then the producer (the catalog closes after this)
    await Promise.allSettled([this.#events.close()]);
    await this.#reconciling;
    this.#flush();
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    await Promise.allSettled([this.#queue.close()]);
    // connections we passed in are ours to close (BullMQ closes only those it made)
    for (const r of this.#conns) r.disconnect();
  }
}
