import type { BarSeries } from '../bars/barSeries.ts';

/** Zero-copy view of bars [from, to). */
export function sliceBars(b: BarSeries, from: number, to: number): BarSeries {
  const s = <T extends Float64Array | Int32Array>(a: T) => a.subarray(from, to) as T;
  return {
    symbol: b.symbol,
    length: to - from,
    ts: s(b.ts),
    open: s(b.open),
    high: s(b.high),
    low: s(b.low),
    close: s(b.close),
    volume: s(b.volume),
    tradeCount: s(b.tradeCount),
    vwap: s(b.vwap),
    buyVolume: s(b.buyVolume),
    sellVolume: s(b.sellVolume),
    quoteCount: s(b.quoteCount),
    bidClose: s(b.bidClose),
    askClose: s(b.askClose),
    spreadMean: s(b.spreadMean),
    spreadMax: s(b.spreadMax),
    bidSizeMean: s(b.bidSizeMean),
    askSizeMean: s(b.askSizeMean),
    imbalanceMean: s(b.imbalanceMean),
  };
}
