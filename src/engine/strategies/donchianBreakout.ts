/**
 * `donchian-breakout`: turtle-style channel breakout with resting stop orders. While flat, a
 * buy stop rests at the highest high of the last `entry` bars (and, with allow_short, a sell
 * stop at the lowest low); in a position, a protective stop rests at the opposite `exit`
 * channel. Orders are re-placed every bar (cancel + submit), so a fill always comes from a
 * later bar trading through a level known when the order was placed (at the level, or at the
 * open when that bar gapped through it).
 */
import { z } from 'zod';
import { defineStrategy } from '../backtest/strategy.ts';

export const donchianBreakout = defineStrategy({
  id: 'donchian-breakout',
  description: 'Stop entries at the N-bar high/low channel, stop exits at the M-bar opposite channel.',
  params: z.strictObject({
    entry: z.number().int().min(1).default(20),
    exit: z.number().int().min(1).default(10),
    size: z.number().positive().finite().default(100),
    allow_short: z.boolean().default(false),
  }),
  onStart: (ctx, p) => ({
    entryHigh: ctx.highest(p.entry),
    entryLow: ctx.lowest(p.entry),
    exitHigh: ctx.highest(p.exit),
    exitLow: ctx.lowest(p.exit),
  }),
  onBar(ctx, s, p) {
    ctx.cancelAll();
    // an exit channel longer than the entry one is ready later: no order until both are
    if (!s.entryHigh.ready || !s.exitLow.ready || ctx.isLastBar) return;
    const pos = ctx.position;
    if (pos === 0) {
      ctx.buy(p.size, { stop: s.entryHigh.value });
      if (p.allow_short) ctx.sell(p.size, { stop: s.entryLow.value });
    } else if (pos > 0) {
      ctx.sell(pos, { stop: s.exitLow.value });
    } else {
      ctx.buy(-pos, { stop: s.exitHigh.value });
    }
  },
});
