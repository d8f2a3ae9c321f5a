/**
 * `sma-cross` exactly per docs/backtest.md: at bar i ≥ slow − 1 the target is +size when
 * SMA_fast(i) > SMA_slow(i), else −size with allow_short, else 0; one market order for
 * target − position, never at the last bar. The comparison is exact: Σfast·slow > Σslow·fast
 * on raw fixed-point closes (raw = round(close·1e9)): window sums in doubles while they stay
 * below 2^53 (checked per bar), the comparison in doubles unless it is a near-tie (then BigInt).
 */
import { z } from 'zod';
import { defineStrategy } from '../backtest/strategy.ts';

const MAX_EXACT = 2 ** 53;

export const smaCrossParams = z
  .strictObject({
    fast: z.number().int().min(1),
    slow: z.number().int().min(2),
    size: z.number().positive().finite().default(100),
    allow_short: z.boolean().default(false),
  })
  .refine((p) => p.slow > p.fast, { message: 'slow must be greater than fast', path: ['slow'] });

interface State {
  /** raw closes of the last `slow` bars; never-written slots are 0, so the first sums need no branch. */
  ring: Float64Array;
  /** ring slot of bar i (i mod slow), advanced without a division. */
  slot: number;
  /** |raw| below this keeps every window sum below 2^53 (exact in doubles). */
  rawLimit: number;
  sumFast: number;
  sumSlow: number;
  big: boolean;
  bigFast: bigint;
  bigSlow: bigint;
  // params and bar bounds copied in once: one monomorphic object on the hot path
  fast: number;
  slow: number;
  /** first bar with a full slow window (slow − 1) and the last bar (no order there). */
  first: number;
  last: number;
  long: number;
  flat: number;
}

/** Relative bound on the rounding of two products and their difference (a few ulps, generous). */
const TIE_EPS = 2 ** -50;

/**
 * Exact `a·b > c·d` for integers a, c (|a|, |c| < 2^53) and positive integers b, d. Each
 * double product is within 2^-53 (relative) of the exact one, so when they differ by more
 * than TIE_EPS of their size the double comparison is already exact; only near-ties (equal
 * SMAs, e.g. flat prices) take the exact BigInt path. On a 0.01 price grid two different
 * products differ by ≥ 1e7 in 1e18, far outside the tie band.
 */
function greater(sumFast: number, slow: number, sumSlow: number, fast: number): boolean {
  const l = sumFast * slow;
  const r = sumSlow * fast;
  const d = l - r;
  const m = (l < 0 ? -l : l) + (r < 0 ? -r : r);
  if (d > m * TIE_EPS) return true;
  if (d < -m * TIE_EPS) return false;
  if (m < 2 ** 53) return l > r; // both products exact
  return BigInt(sumFast) * BigInt(slow) > BigInt(sumSlow) * BigInt(fast);
}

/** The BigInt path (kept out of onBar so the hot function stays small enough to inline). */
function bigStep(s: State, raw: number, outFast: number, outSlow: number, slot: number, fast: number, slow: number): boolean {
  if (!s.big) {
    // Switch over: rebuild the window sums exactly from the ring (raw is already stored at slot).
    s.big = true;
    s.bigFast = 0n;
    s.bigSlow = 0n;
    for (let k = 0; k < slow; k++) {
      let j = slot - k;
      if (j < 0) j += slow;
      const v = BigInt(s.ring[j]!);
      s.bigSlow += v;
      if (k < fast) s.bigFast += v;
    }
  } else {
    const r = BigInt(raw);
    s.bigFast += r - BigInt(outFast);
    s.bigSlow += r - BigInt(outSlow);
  }
  return s.bigFast * BigInt(slow) > s.bigSlow * BigInt(fast);
}

export const smaCross = defineStrategy({
  id: 'sma-cross',
  description: 'Long (or short) while the fast SMA of closes is above (below) the slow SMA; docs/backtest.md.',
  params: smaCrossParams,
  onStart(ctx, p): State {
    return {
      ring: new Float64Array(p.slow),
      slot: 0,
      rawLimit: MAX_EXACT / p.slow,
      sumFast: 0,
      sumSlow: 0,
      big: false,
      bigFast: 0n,
      bigSlow: 0n,
      fast: p.fast,
      slow: p.slow,
      first: p.slow - 1,
      last: ctx.length - 1,
      long: p.size,
      flat: p.allow_short ? -p.size : 0,
    };
  },
  onBar(ctx, s) {
    const slow = s.slow;
    const fast = s.fast;
    const raw = Math.round(ctx.close() * 1e9);
    const ring = s.ring;
    const slot = s.slot;
    let fastSlot = slot - fast;
    if (fastSlot < 0) fastSlot += slow;
    const outSlow = ring[slot]!;
    const outFast = ring[fastSlot]!;
    ring[slot] = raw;
    s.slot = slot + 1 === slow ? 0 : slot + 1;
    let up: boolean;
    if (!s.big && raw < s.rawLimit && raw > -s.rawLimit) {
      const sumFast = s.sumFast + raw - outFast;
      const sumSlow = s.sumSlow + raw - outSlow;
      s.sumFast = sumFast;
      s.sumSlow = sumSlow;
      const i = ctx.index;
      if (i < s.first || i === s.last) return;
      up = greater(sumFast, slow, sumSlow, fast);
    } else {
      // Rare: prices so large that window sums could leave the exact range of doubles.
      up = bigStep(s, raw, outFast, outSlow, slot, fast, slow);
      const i = ctx.index;
      if (i < s.first || i === s.last) return;
    }
    const target = up ? s.long : s.flat;
    const pos = ctx.position;
    if (target !== pos) ctx.order(target - pos);
  },
});
