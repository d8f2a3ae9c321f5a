/** Refusals several routes share: the job queue's waiting room (429) and built-in strategies only (422). */
import { builtinStrategy } from '../strategies/index.ts';
import { queueFull, type ServerContext } from './context.ts';
import { HttpProblem } from './problem.ts';

/** 429 with Retry-After when a new job would have to wait and the waiting room is full. */
export function assertRoomForJob(ctx: ServerContext): void {
  if (queueFull(ctx))
    throw new HttpProblem(429, `${ctx.jobs.queued} jobs are waiting (at most ${ctx.opts.maxQueued}); try again later`, {
      headers: { 'Retry-After': '5' },
    });
}

/** 422 unless the strategy is one of the engine's own (the server runs no user code). */
export function assertBuiltinStrategy(strategyId: string): void {
  if (!builtinStrategy(strategyId))
    throw new HttpProblem(422, `strategy_id: '${strategyId}' is not a built-in strategy (the server runs built-in strategies only)`, {
      field: 'body.strategy_id',
    });
}
