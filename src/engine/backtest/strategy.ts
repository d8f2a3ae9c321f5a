/**
 * The strategy API: `defineStrategy({ id, params, onStart, onBar, onFill, onEnd })`.
 *
 * `params` is a zod schema; the engine validates the run's params with it (bad params → one
 * StrategyParamsError listing every issue) and passes the parsed value (defaults filled) to
 * every callback. `onStart(ctx, params)` creates indicators and returns the run's state
 * object, handed to every later callback — so a definition holds no per-run state and can be
 * run many times (sweeps) in one process.
 */
import { mapStack } from './sourceMap.ts';
import type { z } from 'zod';
import type { StrategyContext } from './context.ts';

export interface FillInfo {
  fillId: number;
  orderId: number;
  side: 'buy' | 'sell';
  /** > 0 */
  qty: number;
  price: number;
  fee: number;
  /** bar index of the fill (fills happen at that bar's open, before its onBar). */
  bar: number;
}

// `any` defaults: a definition of any params/state type is assignable here (the hooks take P and
// S as arguments, so `unknown` would reject every concrete strategy).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface StrategyDefinition<P = any, S = any> {
  id: string;
  description?: string;
  params: z.ZodType<P>;
  onStart?(this: void, ctx: StrategyContext, params: P): S;
  onBar(this: void, ctx: StrategyContext, state: S, params: P): void;
  /** Called after each fill is booked; `fill` is reused between calls (copy what you keep). */
  onFill?(this: void, ctx: StrategyContext, fill: FillInfo, state: S, params: P): void;
  onEnd?(this: void, ctx: StrategyContext, state: S, params: P): void;
}

export function defineStrategy<Schema extends z.ZodType, S = undefined>(def: {
  id: string;
  description?: string;
  params: Schema;
  onStart?(this: void, ctx: StrategyContext, params: z.output<Schema>): S;
  onBar(this: void, ctx: StrategyContext, state: S, params: z.output<Schema>): void;
  onFill?(this: void, ctx: StrategyContext, fill: FillInfo, state: S, params: z.output<Schema>): void;
  onEnd?(this: void, ctx: StrategyContext, state: S, params: z.output<Schema>): void;
}): StrategyDefinition<z.output<Schema>, S> {
  if (typeof def?.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(def.id)) {
    throw new TypeError(
      `defineStrategy: id must be a non-empty string of letters, digits, '.', '_' or '-', got ${JSON.stringify(def?.id)}`,
    );
  }
  if (!def.params || typeof (def.params as { safeParse?: unknown }).safeParse !== 'function') {
    throw new TypeError(`defineStrategy(${def.id}): params must be a zod schema`);
  }
  if (typeof def.onBar !== 'function') throw new TypeError(`defineStrategy(${def.id}): onBar must be a function`);
  return def as StrategyDefinition<z.output<Schema>, S>;
}

export class StrategyParamsError extends Error {
  override name = 'StrategyParamsError';
  readonly issues: string[];
  constructor(strategyId: string, issues: string[]) {
    super(`invalid params for strategy '${strategyId}':\n${issues.map((s) => `  - ${s}`).join('\n')}`);
    this.issues = issues;
  }
}

/** A strategy callback threw: the run fails with the callback, bar and the original stack. */
export class StrategyError extends Error {
  override name = 'StrategyError';
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    const inner = cause instanceof Error ? mapStack(cause.stack ?? `${cause.name}: ${cause.message}`) : String(cause);
    this.stack = `${this.name}: ${message}\n${inner}`;
  }
}

/** Validates params with the strategy's schema; returns the parsed value or throws listing every issue. */
export function parseParams<P>(def: StrategyDefinition<P>, params: unknown): P {
  const r = def.params.safeParse(params ?? {});
  if (r.success) return r.data;
  const shape = (def.params as { shape?: Record<string, unknown> }).shape;
  const known = shape ? Object.keys(shape) : [];
  const issues = r.error.issues.map((iss) => {
    if (iss.code === 'unrecognized_keys') {
      const keys = (iss as { keys?: string[] }).keys ?? [];
      return `${keys.join(', ')}: unknown parameter${keys.length > 1 ? 's' : ''}${known.length ? ` (expected ${known.join(', ')})` : ''}`;
    }
    const path = iss.path.length ? iss.path.map(String).join('.') : '(params)';
    return `${path}: ${iss.message}`;
  });
  throw new StrategyParamsError(def.id, issues);
}
