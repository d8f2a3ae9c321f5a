import { allocBarSeries, type BarSeries } from '../../../src/engine/bars/barSeries.ts';
import { defineStrategy, type StrategyDefinition } from '../../../src/engine/backtest/strategy.ts';
import type { StrategyContext } from '../../../src/engine/backtest/context.ts';
import { z } from 'zod';

export const MIN = 60_000_000_000;
export const ns = (iso: string) => Date.parse(iso) * 1e6;

/** Bars from [open, high, low, close] rows, one minute apart from `start` unless ts given. */
export function mkBars(rows: number[][], opts: { start?: string; ts?: number[]; spread?: number[] } = {}): BarSeries {
  const b = allocBarSeries('TEST', rows.length);
  const t0 = ns(opts.start ?? '2024-03-04T15:00:00Z');
  rows.forEach(([o, h, l, c], i) => {
    b.ts[i] = opts.ts ? opts.ts[i]! : t0 + i * MIN;
    b.open[i] = o!;
    b.high[i] = h!;
    b.low[i] = l!;
    b.close[i] = c!;
    b.volume[i] = 100;
    b.tradeCount[i] = 1;
    b.vwap[i] = c!;
    b.spreadMean[i] = opts.spread ? opts.spread[i]! : NaN;
    b.quoteCount[i] = opts.spread ? 1 : -1;
  });
  return b;
}

/** Bars whose OHLC all equal the close (for strategy-level tests). */
export function closesToBars(closes: number[], opts: { start?: string; ts?: number[] } = {}): BarSeries {
  return mkBars(
    closes.map((c) => [c, c, c, c]),
    opts,
  );
}

/** A scripted strategy: actions[i] runs at bar i. */
export function scripted(
  actions: Record<number, (ctx: StrategyContext) => void>,
  onFill?: StrategyDefinition['onFill'],
): StrategyDefinition {
  return defineStrategy({
    id: 'scripted',
    params: z.object({}),
    onBar(ctx) {
      actions[ctx.index]?.(ctx);
    },
    onFill,
  });
}
