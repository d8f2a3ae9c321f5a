/**
 * `sma-cross` exactly per contracts §3: at bar i ≥ slow − 1 the target is +size when
 * SMA_fast(i) > SMA_slow(i), else −size with allow_short, else 0; one market order for
 * target − position, never at the last bar. The comparison is exact: Σfast·slow > Σslow·fast
 * on raw fixed-point closes (raw = round(close·1e9)), in doubles while every product stays
 * below 2^53 (checked per bar), otherwise with BigInt.
 */
import { z } from 'zod';
import { defineStrategy } from '../backtest/strategy.ts';

const MAX_EXACT = 2 ** 53;

export const smaCrossParams = z.strictObject({
  fast: z.number().int().min(1),
  slow: z.number().int().min(2),
  size: z.number().positive().finite().default(100),
  allow_short: z.boolean().default(false),
}).refine((p) => p.slow > p.fast, { message: 'slow must be greater than fast', path: ['slow'] });

interface State {
  ring: Float64Array;
  sumFast: number;
  sumSlow: number;
  big: boolean;
  bigFast: bigint;
  bigSlow: bigint;
}

/** Exact sign of a·b − c·d for integers a, c (|a|, |c| < 2^53) and small positive b, d. */
function greater(sumFast: number, slow: number, sumSlow: number, fast: number): boolean {
  const l = sumFast * slow;
  const r = sumSlow * fast;
  if (l < MAX_EXACT && l > -MAX_EXACT && r < MAX_EXACT && r > -MAX_EXACT) return l > r;
  return BigInt(sumFast) * BigInt(slow) > BigInt(sumSlow) * BigInt(fast);
}

export const smaCross = defineStrategy({
  id: 'sma-cross',
  description: 'Long (or short) while the fast SMA of closes is above (below) the slow SMA; contracts §3.',
  params: smaCrossParams,
  onStart(_ctx, p): State {
    return { ring: new Float64Array(p.slow), sumFast: 0, sumSlow: 0, big: false, bigFast: 0n, bigSlow: 0n };
  },
  onBar(ctx, s, p) {
    const i = ctx.index;
    const slow = p.slow;
    const fast = p.fast;
    const raw = Math.round(ctx.close() * 1e9);
    const ring = s.ring;
    const slot = i % slow;
    const outSlow = i >= slow ? ring[slot]! : 0;
    const outFast = i >= fast ? ring[(i - fast) % slow]! : 0;
    ring[slot] = raw;
    if (!s.big) {
      s.sumFast += raw - outFast;
      s.sumSlow += raw - outSlow;
      // Sums of integers stay exact while below 2^53; beyond, continue in BigInt from the window.
      if (s.sumSlow >= MAX_EXACT || s.sumSlow <= -MAX_EXACT || s.sumFast >= MAX_EXACT || s.sumFast <= -MAX_EXACT
        || raw >= MAX_EXACT / slow || raw <= -MAX_EXACT / slow) {
        s.big = true;
        s.bigFast = 0n;
        s.bigSlow = 0n;
        const m = Math.min(i + 1, slow);
        for (let k = 0; k < m; k++) {
          const v = BigInt(ring[(i - k) % slow]!);
          s.bigSlow += v;
          if (k < fast) s.bigFast += v;
        }
      }
    } else {
      const r = BigInt(raw);
      s.bigFast += r - BigInt(outFast);
      s.bigSlow += r - BigInt(outSlow);
    }
    if (i < slow - 1 || ctx.isLastBar) return;
    const up = s.big ? s.bigFast * BigInt(slow) > s.bigSlow * BigInt(fast) : greater(s.sumFast, slow, s.sumSlow, fast);
    const target = up ? p.size : p.allow_short ? -p.size : 0;
    const pos = ctx.position;
    if (target !== pos) ctx.order(target - pos);
  },
});
