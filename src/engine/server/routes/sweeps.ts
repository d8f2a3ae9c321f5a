/**
 * Parameter sweeps over HTTP: POST /sweeps queues a `sweep` job (the job child runs the grid on
 * the sweep pool of `btnb sweep`), GET /sweeps/{id} answers its status, progress and — when it
 * is done — the same `results` as `btnb sweep --json`, DELETE /sweeps/{id} cancels it.
 *
 * A sweep is known by its job id from the start and by its sweep id (the runs' sweep_id) once
 * the job has started. Finished sweeps stay in memory for the server's lifetime; a sweep id this
 * server has not run (an earlier server, the CLI, the extension) is rebuilt from the catalog's
 * runs of that sweep (its points the strategy refused are not in the catalog, so not reported).
 * Only built-in strategies run over HTTP, as for POST /backtests.
 */
import { runIdentity, resolveStrategy } from '../../backtest/runner.ts';
import { StrategyParamsError } from '../../backtest/strategy.ts';
import { CostsError } from '../../backtest/costs.ts';
import { METRIC_KEYS } from '../../backtest/statistics.ts';
import { GridError, gridFromRecord, gridPoints, gridSize, metricScore, parseArtifactsMode, type Grid } from '../../sweep/grid.ts';
import type { Job, JobOutcome } from '../../jobs/jobQueue.ts';
import type { RunRow } from '../../ports/catalog.ts';
import { Problem, SweepAccepted, SweepBody, SweepId, SweepStatus } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { assertBuiltinStrategy, assertRoomForJob } from '../guards.ts';
import { QueuedSweeps } from './queuedSweeps.ts';

type Point = SweepStatus['results'] extends (infer P)[] | null ? P : never;

interface SweepEntry {
  job: Job<'sweep'>;
  sweepId: string | null;
  datasetId: string;
  strategyId: string;
  sort: string;
  points: number;
  outcome: JobOutcome<'sweep'> | undefined;
  /** Filled from the outcome once (plain sweeps; walk-forward fold runs are read from the catalog). */
  view: Pick<SweepStatus, 'results' | 'skipped' | 'walk_forward' | 'runs' | 'failed'> | undefined;
}

/** The sweep job logs `sweep <ULID>: N combinations …` when it starts (jobs/sweepJob.ts). */
const SWEEP_LOG = /^sweep ([0-9A-HJKMNP-TV-Z]{26}):/;

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function gridField(e: GridError): string {
  const m = /^grid ([A-Za-z_][A-Za-z0-9_]*)[: ]/.exec(e.message) ?? /^grid: '([^']*)' is not a parameter name/.exec(e.message);
  return m ? `body.grid.${m[1]}` : 'body.grid';
}

function bestFirst(points: Point[], sort: string): Point[] {
  return [...points].sort((a, b) => metricScore(b.metrics, sort) - metricScore(a.metrics, sort));
}

export function registerSweeps(app: TypedApp, ctx: ServerContext): void {
  const byJob = new Map<string, SweepEntry>();
  const queued = new QueuedSweeps(ctx);
  const bySweep = new Map<string, SweepEntry>();

  /** The job's result in the `btnb sweep --json` shape (snake_case, best first, refusals apart). */
  const viewOf = (e: SweepEntry, o: JobOutcome<'sweep'>): SweepEntry['view'] => {
    if (o.status !== 'succeeded') return undefined;
    const r = o.result;
    const skipped = r.runs.filter((p) => p.runId === '' && p.error !== undefined).map((p) => ({ params: p.params, error: p.error! }));
    const ran = r.runs.filter((p) => p.runId !== '');
    const results = ran.map((p) => {
      // walk-forward fold runs come back without metrics: the catalog has them
      const row = p.metrics === null ? ctx.catalog.getRun(p.runId) : undefined;
      return {
        params: p.params,
        run_id: p.runId,
        status: row?.status ?? p.status,
        created: p.created,
        metrics: p.metrics ?? row?.metrics ?? null,
        error: p.error ?? row?.error ?? null,
      };
    });
    const wf = r.walkForward;
    return {
      results: wf ? results : bestFirst(results, e.sort),
      skipped,
      runs: results.length,
      failed: results.filter((p) => p.status !== 'succeeded').length,
      walk_forward: wf
        ? {
            folds: wf.folds.map((f) => ({
              fold: f.fold,
              train_start: f.trainStart,
              train_end: f.trainEnd,
              test_start: f.testStart,
              test_end: f.testEnd,
              params: f.params,
              train_score: f.trainScore,
              test_return: f.testReturn,
              run_id: f.runId,
            })),
            metrics: wf.metrics,
          }
        : null,
    };
  };

  const statusOf = (e: SweepEntry): SweepStatus => {
    const p = e.job.lastProgress;
    const done = e.outcome?.status === 'succeeded';
    return {
      sweep_id: e.sweepId,
      job_id: String(e.job.id),
      status: e.job.state,
      progress: { done: p?.done ?? (done ? e.points : 0), total: p?.total ?? e.points },
      dataset_id: e.datasetId,
      strategy_id: e.strategyId,
      sort: e.sort,
      points: e.points,
      runs: e.view?.runs ?? null,
      failed: e.view?.failed ?? null,
      skipped: e.view?.skipped ?? [],
      results: e.view?.results ?? null,
      walk_forward: e.view?.walk_forward ?? null,
      error: e.outcome?.status === 'failed' ? e.outcome.message : null,
    };
  };

  /** A sweep this server did not run: its catalog runs (own and reused). */
  const fromCatalog = (sweepId: string): SweepStatus | null => {
    const rows: RunRow[] = ctx.catalog.listRuns({ sweepId });
    if (rows.length === 0) return null;
    const sort = 'sharpe';
    const open = rows.filter((r) => r.status === 'queued' || r.status === 'running').length;
    const results = bestFirst(
      rows.map((r) => ({
        params: r.params,
        run_id: r.run_id,
        status: r.status,
        created: r.sweep_id === sweepId,
        metrics: r.metrics,
        error: r.error,
      })),
      sort,
    );
    const failed = rows.filter((r) => r.status !== 'succeeded').length;
    return {
      sweep_id: sweepId,
      job_id: null,
      status: open > 0 ? 'running' : rows.some((r) => r.status === 'canceled') ? 'canceled' : 'succeeded',
      progress: { done: rows.length - open, total: rows.length },
      dataset_id: rows[0]!.dataset_id,
      strategy_id: rows[0]!.strategy_id,
      sort,
      points: null,
      runs: rows.length,
      failed,
      skipped: [],
      results: open > 0 ? null : results,
      walk_forward: null,
      error: null,
    };
  };

  const find = (id: string): SweepEntry | undefined => (ULID.test(id) ? bySweep.get(id) : byJob.get(id));

  app.post(
    '/sweeps',
    {
      schema: {
        body: SweepBody,
        response: { 202: SweepAccepted, 400: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem },
      },
    },
    async (req, reply) => {
      const b = req.body;
      assertBuiltinStrategy(b.strategy_id);
      let grid: Grid;
      try {
        grid = gridFromRecord(b.grid);
      } catch (e) {
        if (e instanceof GridError) throw new HttpProblem(422, e.message, { field: gridField(e) });
        throw e;
      }
      for (const [k] of grid)
        if (Object.hasOwn(b.fixed, k)) throw new HttpProblem(422, `${k} is both in grid and in fixed`, { field: `body.fixed.${k}` });
      if (!(METRIC_KEYS as readonly string[]).includes(b.sort))
        throw new HttpProblem(422, `sort: expected a metrics key (${METRIC_KEYS.join(', ')}), got '${b.sort}'`, { field: 'body.sort' });
      try {
        parseArtifactsMode(b.artifacts);
      } catch (e) {
        if (e instanceof GridError) throw new HttpProblem(422, e.message, { field: 'body.artifacts' });
        throw e;
      }
      const strategy = await resolveStrategy(b.strategy_id);
      // The strategy's schema skips points it refuses (e.g. slow ≤ fast); a grid without one
      // valid point is refused with the schema's messages. Costs and dates are checked once.
      const points = gridPoints(grid, b.fixed);
      let firstRefusal: string | null = null;
      let valid = false;
      for (const params of points) {
        try {
          runIdentity(strategy, {
            datasetId: b.dataset_id,
            params,
            costs: b.costs,
            seed: b.seed,
            session: b.session,
            ...(b.date_range ? { dateRange: b.date_range } : {}),
          });
          valid = true;
          break;
        } catch (e) {
          if (e instanceof StrategyParamsError) firstRefusal ??= e.issues.join('; ');
          else if (e instanceof CostsError) throw new HttpProblem(422, e.message, { field: 'body.costs' });
          else if (e instanceof RangeError) throw new HttpProblem(422, e.message, { field: 'body.date_range' });
          else throw e;
        }
      }
      if (!valid)
        throw new HttpProblem(422, `no point of the grid is valid for ${strategy.strategyId}: ${firstRefusal ?? 'empty grid'}`, {
          field: 'body.grid',
        });
      const ds = ctx.catalog.getDataset(b.dataset_id);
      if (!ds) throw new HttpProblem(404, `dataset ${b.dataset_id} is not in the catalog`, { field: 'body.dataset_id' });
      if (ds.status !== 'ready' || !ds.bars_path)
        throw new HttpProblem(409, `dataset ${b.dataset_id} has no bars yet (status ${ds.status})`, { field: 'body.dataset_id' });
      if (b.queue) {
        const q = queued.start(b, points, strategy.strategyId);
        return reply.code(202).header('Location', `/sweeps/${q.sweepId}`).send({ sweep_id: q.sweepId, job_id: null, status: 'running' });
      }
      assertRoomForJob(ctx);
      const job = ctx.jobs.submit({
        kind: 'sweep',
        title: `sweep ${strategy.strategyId} ${JSON.stringify(b.grid)} (${gridSize(grid)} points)`,
        params: {
          dataDir: ctx.opts.dataDir,
          datasetId: b.dataset_id,
          strategyId: strategy.strategyId,
          seed: b.seed,
          costs: b.costs,
          session: b.session,
          grid: b.grid,
          fixed: b.fixed,
          sort: b.sort,
          artifacts: b.artifacts,
          ...(b.walk_forward ? { walkForward: { trainDays: b.walk_forward.train_days, testDays: b.walk_forward.test_days } } : {}),
          ...(b.date_range ? { dateRange: b.date_range } : {}),
        },
      });
      const entry: SweepEntry = {
        job,
        sweepId: null,
        datasetId: b.dataset_id,
        strategyId: strategy.strategyId,
        sort: b.sort,
        points: points.length,
        outcome: undefined,
        view: undefined,
      };
      const known = (sweepId: string) => {
        if (entry.sweepId !== null) return;
        entry.sweepId = sweepId;
        bySweep.set(sweepId, entry);
      };
      const onLog = (_level: string, text: string) => {
        const m = SWEEP_LOG.exec(text);
        if (m) known(m[1]!);
      };
      job.on('log', onLog);
      byJob.set(String(job.id), entry);
      void job.outcome.then((o) => {
        job.off('log', onLog);
        if (o.status === 'succeeded') known(o.result.sweepId);
        entry.view = viewOf(entry, o);
        entry.outcome = o;
      });
      return reply
        .code(202)
        .header('Location', `/sweeps/${job.id}`)
        .send({ sweep_id: null, job_id: String(job.id), status: job.state });
    },
  );

  app.get('/sweeps/:id', { schema: { params: SweepId, response: { 200: SweepStatus, 400: Problem, 404: Problem } } }, (req) => {
    const e = find(req.params.id);
    if (e) return statusOf(e);
    const q = queued.status(req.params.id);
    if (q) return q;
    const rebuilt = ULID.test(req.params.id) ? fromCatalog(req.params.id) : null;
    if (!rebuilt)
      throw new HttpProblem(404, `sweep ${req.params.id} is not known (no job, no runs in the catalog)`, { field: 'params.id' });
    return rebuilt;
  });

  app.delete(
    '/sweeps/:id',
    { schema: { params: SweepId, response: { 202: SweepAccepted, 400: Problem, 404: Problem, 409: Problem } } },
    async (req, reply) => {
      const e = find(req.params.id);
      if (!e && queued.cancel(req.params.id)) return reply.code(202).send({ sweep_id: req.params.id, job_id: null, status: 'canceled' });
      // a queued sweep followed since this server's start (it was submitted before a restart)
      if (!e && ctx.coordinator && ULID.test(req.params.id) && ctx.coordinator.openCount(req.params.id) > 0) {
        await ctx.coordinator.cancel(req.params.id);
        return reply.code(202).send({ sweep_id: req.params.id, job_id: null, status: 'canceled' });
      }
      if (!e) {
        if (ULID.test(req.params.id) && fromCatalog(req.params.id))
          throw new HttpProblem(409, `sweep ${req.params.id} is not running on this server`, { field: 'params.id' });
        throw new HttpProblem(404, `sweep ${req.params.id} is not known`, { field: 'params.id' });
      }
      if (e.job.state !== 'queued' && e.job.state !== 'running')
        throw new HttpProblem(409, `sweep ${req.params.id} has already finished (${e.job.state})`, { field: 'params.id' });
      e.job.cancel();
      return reply.code(202).send({ sweep_id: e.sweepId, job_id: String(e.job.id), status: e.job.state });
    },
  );
}
