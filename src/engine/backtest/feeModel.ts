/** Fees (docs/backtest.md): per unit + bps of notional, with a minimum applied to every fill. */
import type { Costs } from './types.ts';

/** Fee of a fill on its price after slippage: max(fee_min, |q|·per_unit + |q|·price·bps/1e4). */
export function fillFee(costs: Costs, absQty: number, price: number): number {
  const fee = absQty * costs.fee_per_unit + (absQty * price * costs.fee_bps) / 10_000;
  return fee > costs.fee_min ? fee : costs.fee_min;
}
