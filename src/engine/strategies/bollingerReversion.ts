/**
 * `bollinger-reversion`: mean reversion on Bollinger bands of closes. Flat and close < lower
 * band → go long `size`; long and close ≥ middle → flat. With allow_short, the mirror image
 * (close > upper → short; short and close ≤ middle → flat). Market orders, filled at the next
 * bar's open; nothing is submitted at the last bar.
 */
import { z } from 'zod';
import { defineStrategy } from '../backtest/strategy.ts';

export const bollingerReversion = defineStrategy({
  id: 'bollinger-reversion',
  description: 'Buy below the lower Bollinger band, exit at the middle (mirror for shorts).',
  params: z.strictObject({
    period: z.number().int().min(2).default(20),
    k: z.number().positive().finite().default(2),
    size: z.number().positive().finite().default(100),
    allow_short: z.boolean().default(false),
  }),
  onStart: (ctx, p) => ({ bands: ctx.bollinger(p.period, p.k) }),
  onBar(ctx, { bands }, p) {
    if (!bands.ready || ctx.isLastBar) return;
    const c = ctx.close();
    const pos = ctx.position;
    let target = pos;
    if (pos === 0) {
      if (c < bands.lower) target = p.size;
      else if (p.allow_short && c > bands.upper) target = -p.size;
    } else if (pos > 0 && c >= bands.middle) target = 0;
    else if (pos < 0 && c <= bands.middle) target = 0;
    if (target !== pos) ctx.targetPosition(target);
  },
});
