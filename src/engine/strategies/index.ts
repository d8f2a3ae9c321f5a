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
