/** BarSeries rows as plain objects with the Parquet column names (for `data show` and JSON; not hot). */
import type { BarSeries } from './barSeries.ts';

const nul = (x: number): number | null => (Number.isNaN(x) ? null : x);

export function barRows(b: BarSeries, limit = b.length, offset = 0): Record<string, string | number | null>[] {
  const out: Record<string, string | number | null>[] = [];
  const end = Math.min(b.length, offset + limit);
  for (let r = offset; r < end; r++) {
    const q = b.quoteCount[r]!;
    out.push({
      ts: new Date(b.ts[r]! / 1e6).toISOString(),
      symbol: b.symbol,
      open: b.open[r]!,
      high: b.high[r]!,
      low: b.low[r]!,
      close: b.close[r]!,
      volume: b.volume[r]!,
      trade_count: b.tradeCount[r]!,
      vwap: nul(b.vwap[r]!),
      buy_volume: b.buyVolume[r]!,
      sell_volume: b.sellVolume[r]!,
      quote_count: q < 0 ? null : q,
      bid_close: nul(b.bidClose[r]!),
      ask_close: nul(b.askClose[r]!),
      spread_mean: nul(b.spreadMean[r]!),
      spread_max: nul(b.spreadMax[r]!),
      bid_size_mean: nul(b.bidSizeMean[r]!),
      ask_size_mean: nul(b.askSizeMean[r]!),
      imbalance_mean: nul(b.imbalanceMean[r]!),
    });
  }
  return out;
}
