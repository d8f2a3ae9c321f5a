// A workspace strategy: buy when RSI(n) dips below `oversold`, sell back to flat above `exit`.
// Run it with the "Run Backtest" code lens above defineStrategy, or from the editor title bar.
// The parameter schema (zod) is checked before the run; bad values are reported by field.
import { defineStrategy, z } from 'backtest-notebook';

export default defineStrategy({
  id: 'rsi-mean-reversion',
  description: 'Long after an RSI dip below oversold; flat again above exit. RTH-friendly.',
  params: z.strictObject({
    period: z.number().int().min(2).default(14),
    oversold: z.number().min(1).max(50).default(30),
    exit: z.number().min(30).max(99).default(55),
    size: z.number().positive().default(100),
  }).refine((p) => p.exit > p.oversold, { message: 'exit must be above oversold', path: ['exit'] }),
  onStart: (ctx, p) => ({ rsi: ctx.rsi(p.period) }),
  onBar(ctx, s, p) {
    if (!s.rsi.ready || ctx.isLastBar) return;
    if (ctx.position === 0 && s.rsi.value < p.oversold) ctx.targetPosition(p.size);
    else if (ctx.position > 0 && s.rsi.value > p.exit) ctx.targetPosition(0);
  },
});
