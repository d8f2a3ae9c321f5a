/**
 * Slippage (docs/backtest.md): moves the reference price against the order's side.
 * fixed: ± ref·bps/1e4; half-spread: ± spread_mean/2 of the fill bar (0 when null);
 * random: ± ref·u·max_bps/1e4 with u uniform in [0, 1) drawn from the run's seeded PRNG, one
 * draw per slipped fill (so the draws, and the result, depend only on the seed and the fills).
 */
import type { Costs } from './types.ts';
import { Sfc32 } from '../util/prng.ts';

const MODEL_FIXED = 0;
const MODEL_HALF_SPREAD = 1;
const MODEL_RANDOM = 2;

export class FillModel {
  /** Whether `slip` reads the bar's spread (half-spread model); otherwise callers may pass NaN. */
  readonly usesSpread: boolean;
  private readonly model: number;
  private readonly bps: number;
  private readonly rng: Sfc32;

  constructor(costs: Costs, seed: number) {
    this.model = costs.slippage_model === 'fixed' ? MODEL_FIXED : costs.slippage_model === 'half-spread' ? MODEL_HALF_SPREAD : MODEL_RANDOM;
    this.usesSpread = this.model === MODEL_HALF_SPREAD;
    this.bps = costs.slippage_bps;
    this.rng = new Sfc32(seed);
  }

  /** Slipped price of a buy (sign +1) or sell (sign −1) whose reference price is `ref`. */
  slip(ref: number, sign: number, spreadMean: number): number {
    if (this.model === MODEL_FIXED) return this.bps === 0 ? ref : ref * (1 + (sign * this.bps) / 10_000);
    if (this.model === MODEL_HALF_SPREAD) return spreadMean === spreadMean ? ref + (sign * spreadMean) / 2 : ref;
    return ref * (1 + (sign * this.rng.next() * this.bps) / 10_000);
  }
}
