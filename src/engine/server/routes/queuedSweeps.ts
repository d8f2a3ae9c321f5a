/**
 * POST /sweeps with `"queue": true` (a server started with --redis): the points run on
 * `btnb worker`s through the coordinator (distributed/queuedSweep.ts) instead of a local job.
 * Such a sweep is known by its sweep id at once (no job id); GET answers the same status and
 * results as a local sweep, DELETE cancels it (waiting points removed, runs end canceled).
 * After a restart the catalog answers for it (sweeps.ts fromCatalog), and the coordinator has
 * resumed following its points.
 */
import { newUlid } from '../../catalog/ulid.ts';
import { runQueuedSweep } from '../../distributed/queuedSweep.ts';
import { metricScore, parseArtifactsMode } from '../../sweep/grid.ts';
import type { SweepResult } from '../../sweep/index.ts';
import type { SweepBody, SweepStatus } from '../api.ts';
import type { ServerContext } from '../context.ts';
import { HttpProblem } from '../problem.ts';

const KEEP_FINISHED = 256;

interface QueuedEntry {
  sweepId: string;
  state: 'running' | 'succeeded' | 'failed' | 'canceled';
  done: number;
  total: number;
  body: SweepBody;
  strategyId: string;
  points: number;
  result: SweepResult | null;
  error: string | null;
  abort: AbortController;
}

export class QueuedSweeps {
  readonly #ctx: ServerContext;
  readonly #entries = new Map<string, QueuedEntry>();

  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
  }

  start(b: SweepBody, points: Record<string, unknown>[], strategyId: string): QueuedEntry {
    const coordinator = this.#ctx.coordinator;
    if (!coordinator)
      throw new HttpProblem(422, 'queue: this server coordinates no queue (start it with btnb serve --redis redis://HOST:6379)', {
        field: 'body.queue',
      });
    if (b.walk_forward)
      throw new HttpProblem(422, 'queue: a walk-forward runs locally (drop queue or walk_forward)', { field: 'body.queue' });
    const e: QueuedEntry = {
      sweepId: newUlid(),
      state: 'running',
      done: 0,
      total: points.length,
      body: b,
      strategyId,
      points: points.length,
      result: null,
      error: null,
      abort: new AbortController(),
    };
    this.#entries.set(e.sweepId, e);
    // finished sweeps are kept for GET a while; the catalog answers for older ones (sweeps.ts)
    if (this.#entries.size > KEEP_FINISHED)
      for (const [id, old] of this.#entries) {
        if (this.#entries.size <= KEEP_FINISHED) break;
        if (old.state !== 'running') this.#entries.delete(id);
      }
    const ctx = this.#ctx;
    void runQueuedSweep(
      coordinator,
      ctx.catalog,
      {
        dataDir: ctx.opts.dataDir,
        datasetId: b.dataset_id,
        strategy: strategyId,
        points,
        seed: b.seed,
        costs: b.costs,
        session: b.session,
        force: false,
        workers: 1,
        artifacts: parseArtifactsMode(b.artifacts),
        sortKey: b.sort,
        sweepId: e.sweepId,
        signal: e.abort.signal,
        ...(b.date_range ? { dateRange: b.date_range } : {}),
        onProgress: (done, total) => {
          e.done = done;
          e.total = total;
        },
      },
      (id) => ctx.materialize(ctx.opts.dataDir, id),
    ).then(
      (r) => {
        e.result = r;
        e.state = e.abort.signal.aborted ? 'canceled' : 'succeeded';
      },
      (err: unknown) => {
        e.state = e.abort.signal.aborted ? 'canceled' : 'failed';
        if (e.state === 'failed') e.error = err instanceof Error ? err.message : String(err);
      },
    );
    return e;
  }

  status(sweepId: string): SweepStatus | null {
    const e = this.#entries.get(sweepId);
    if (!e) return null;
    const r = e.result;
    const results = r
      ? r.results
          .filter((p) => p.run_id !== null)
          .map((p) => ({ params: p.params, run_id: p.run_id, status: p.status, created: p.created, metrics: p.metrics, error: p.error }))
          .sort((a, b) => metricScore(b.metrics, e.body.sort) - metricScore(a.metrics, e.body.sort))
      : null;
    return {
      sweep_id: e.sweepId,
      job_id: null,
      status: e.state,
      progress: { done: e.done, total: e.total },
      dataset_id: e.body.dataset_id,
      strategy_id: e.strategyId,
      sort: e.body.sort,
      points: e.points,
      runs: results?.length ?? null,
      failed: results ? results.filter((p) => p.status !== 'succeeded').length : null,
      skipped: r?.skipped ?? [],
      results,
      walk_forward: null,
      error: e.error,
    };
  }

  /** Cancels a running queued sweep; false when it is not known here, a 409 when it has finished. */
  cancel(sweepId: string): boolean {
    const e = this.#entries.get(sweepId);
    if (!e) return false;
    if (e.state !== 'running') throw new HttpProblem(409, `sweep ${sweepId} has already finished (${e.state})`, { field: 'params.id' });
    e.abort.abort();
    return true;
  }
}
