/**
 * The baseline every engine figure stands beside: docs/backtest.md `sma-cross` (size SIZE, no
 * costs) written out by hand over the columns, in one pass with integer window sums.
 */
import type { BarSeries } from '../../src/engine/bars/barSeries.ts';

export const SIZE = 100;

export function handLoop(
  b: BarSeries,
  cash0: number,
  fast: number,
  slow: number,
): { finalEquity: number; fills: number; equity: Float64Array } {
  const n = b.length;
  const close = b.close;
  const open = b.open;
  const equity = new Float64Array(n);
  const posArr = new Float64Array(n);
  const cashArr = new Float64Array(n);
  const ring = new Float64Array(slow);
  let sumF = 0;
  let sumS = 0;
  let cash = cash0;
  let pos = 0;
  let pending = 0;
  let fills = 0;
  for (let i = 0; i < n; i++) {
    if (pending !== 0) {
      cash -= pending * open[i]! + 0;
      pos += pending;
      pending = 0;
      fills++;
    }
    const raw = Math.round(close[i]! * 1e9);
    const slot = i % slow;
    sumS += raw - (i >= slow ? ring[slot]! : 0);
    sumF += raw - (i >= fast ? ring[(i - fast) % slow]! : 0);
    ring[slot] = raw;
    if (i >= slow - 1 && i < n - 1) {
      const target = sumF * slow > sumS * fast ? SIZE : 0;
      if (target !== pos) pending = target - pos;
    }
    posArr[i] = pos;
    cashArr[i] = cash;
    equity[i] = cash + pos * close[i]!;
  }
  return { finalEquity: equity[n - 1]!, fills, equity };
}
