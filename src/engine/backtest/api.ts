/**
 * What a user strategy file can import as `backtest-notebook` (the alias the loader provides):
 * the strategy API and the engine's own zod instance.
 */
export { defineStrategy } from './strategy.ts';
export type { StrategyDefinition, FillInfo } from './strategy.ts';
export type { StrategyContext, OrderOptions, PriceField } from './context.ts';
export { z } from 'zod';
