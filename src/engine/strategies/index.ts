/** Built-in strategies by id. */
import type { StrategyDefinition } from '../backtest/strategy.ts';
import { smaCross } from './smaCross.ts';
import { bollingerReversion } from './bollingerReversion.ts';
import { donchianBreakout } from './donchianBreakout.ts';

export const BUILTIN_STRATEGIES: Readonly<Record<string, StrategyDefinition>> = {
  [smaCross.id]: smaCross,
  [bollingerReversion.id]: bollingerReversion,
  [donchianBreakout.id]: donchianBreakout,
};

export function builtinStrategy(id: string): StrategyDefinition | undefined {
  return Object.hasOwn(BUILTIN_STRATEGIES, id) ? BUILTIN_STRATEGIES[id] : undefined;
}

/** A built-in strategy's parameter defaults (what its schema fills in for a missing key). */
export function builtinDefaults(id: string): Record<string, unknown> | undefined {
  const shape = (
    builtinStrategy(id)?.params as { shape?: Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }> } | undefined
  )?.shape;
  if (!shape) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, field] of Object.entries(shape)) {
    const d = field.safeParse(undefined);
    if (d.success && d.data !== undefined) out[k] = d.data;
  }
  return out;
}
