/**
 * POST /backtests: the seed's idempotent POST. The run's identity (input_hash) is computed here;
 * an identical queued, running or succeeded run is answered with 200 and no new job; otherwise
 * the run is created `queued` at once (visible to GET) and a backtest job child adopts it
 * (202 + Location). `Idempotency-Key` maps a key to the run it made for this server's lifetime.
 * Only built-in strategies run over HTTP: a path would let any client run code from the disk.
 */
import { resolveStrategy, runIdentity, type RunIdentity } from '../../backtest/runner.ts';
import { StrategyParamsError } from '../../backtest/strategy.ts';
import { CostsError } from '../../backtest/costs.ts';
import { ENGINE_VERSION } from '../../version.ts';
import type { RunRow } from '../../ports/catalog.ts';
import { BacktestAccepted, BacktestBody, Problem } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { assertBuiltinStrategy, assertRoomForJob } from '../guards.ts';

export function registerBacktests(app: TypedApp, ctx: ServerContext): void {
  const byKey = new Map<string, { hash: string; runId: string }>();
  const jobOfRun = new Map<string, string>();
  const accepted = (r: RunRow) => ({
    run_id: r.run_id,
    status: r.status,
    input_hash: r.input_hash,
    job_id: jobOfRun.get(r.run_id) ?? null,
  });

  app.post(
    '/backtests',
    {
      schema: {
        body: BacktestBody,
        response: { 200: BacktestAccepted, 202: BacktestAccepted, 400: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem },
      },
    },
    async (req, reply) => {
      const b = req.body;
      assertBuiltinStrategy(b.strategy_id);
      const strategy = await resolveStrategy(b.strategy_id);
      let id: RunIdentity;
      try {
        id = runIdentity(strategy, {
          datasetId: b.dataset_id,
          params: b.params,
          costs: b.costs,
          seed: b.seed,
          session: b.session,
          ...(b.date_range ? { dateRange: b.date_range } : {}),
        });
      } catch (e) {
        if (e instanceof StrategyParamsError) throw new HttpProblem(422, e.issues.join('; '), { field: 'body.params' });
        if (e instanceof CostsError) throw new HttpProblem(422, e.message, { field: 'body.costs' });
        if (e instanceof RangeError) throw new HttpProblem(422, e.message, { field: 'body.date_range' });
        throw e;
      }
      // From here to createRun nothing awaits: identical requests in flight are serialised by
      // this event loop, and createRun's transaction serialises them across processes.
      const key = req.headers['idempotency-key'];
      const keyed = typeof key === 'string' ? byKey.get(key) : undefined;
      if (keyed && keyed.hash !== id.hash)
        throw new HttpProblem(409, `Idempotency-Key '${String(key)}' was used for another request (run ${keyed.runId})`, {
          field: 'headers.idempotency-key',
        });
      const ds = ctx.catalog.getDataset(b.dataset_id);
      if (!ds) throw new HttpProblem(404, `dataset ${b.dataset_id} is not in the catalog`, { field: 'body.dataset_id' });
      if (ds.status !== 'ready' || !ds.bars_path)
        throw new HttpProblem(409, `dataset ${b.dataset_id} has no bars yet (status ${ds.status})`, { field: 'body.dataset_id' });
      const earlier = ctx.catalog.findRunsByInputHash([id.hash]).get(id.hash);
      if (earlier) return reply.code(200).header('Location', `/backtests/${earlier.run_id}`).send(accepted(earlier));
      assertRoomForJob(ctx);
      const { run, created } = ctx.catalog.createRun({
        input_hash: id.hash,
        dataset_id: b.dataset_id,
        symbol: ds.symbol,
        strategy_id: strategy.strategyId,
        params: id.params,
        seed: id.seed,
        costs: id.costs as unknown as Record<string, unknown>,
        session: id.session,
        code_hash: strategy.codeHash,
        engine_version: ENGINE_VERSION,
        sweep_id: null,
        tags: [],
      });
      if (typeof key === 'string') byKey.set(key, { hash: id.hash, runId: run.run_id });
      if (!created) return reply.code(200).header('Location', `/backtests/${run.run_id}`).send(accepted(run));
      const job = ctx.jobs.submit({
        kind: 'backtest',
        title: `backtest ${strategy.strategyId} ${JSON.stringify(id.params)}`,
        runId: run.run_id,
        params: {
          dataDir: ctx.opts.dataDir,
          datasetId: b.dataset_id,
          strategyId: strategy.strategyId,
          params: id.params,
          seed: id.seed,
          costs: b.costs,
          session: id.session,
          runId: run.run_id,
          ...(id.dateRange ? { dateRange: id.dateRange } : {}),
        },
      });
      jobOfRun.set(run.run_id, String(job.id));
      // a child that died (or a job canceled before it started) leaves the row to this process
      void job.outcome.then((o) => {
        const now = ctx.catalog.getRun(run.run_id);
        if (!now || (now.status !== 'queued' && now.status !== 'running')) return;
        if (o.status === 'canceled') ctx.catalog.markCanceled(run.run_id);
        else if (o.status === 'failed') ctx.catalog.markFailed(run.run_id, o.message);
      });
      return reply.code(202).header('Location', `/backtests/${run.run_id}`).send(accepted(run));
    },
  );
}
