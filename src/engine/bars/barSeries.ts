/**
 * 1-minute bars in memory, column by column (the in-memory form of bars-1m.parquet, docs/bars.md).
 * Nulls: doubles use NaN; quoteCount uses -1 for null (no TBBO source covers that minute).
 * ts is the minute start in ns UTC as a float64: every multiple of 60 s in ns is a multiple of
 * 2^11, so it is exact in a double up to 2^64.
 */
export interface BarSeries {
  symbol: string;
  length: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  /** int64 in Parquet; exact as a double below 2^53. */
  volume: Float64Array;
  tradeCount: Int32Array;
  vwap: Float64Array;
  buyVolume: Float64Array;
  sellVolume: Float64Array;
  quoteCount: Int32Array;
  bidClose: Float64Array;
  askClose: Float64Array;
  spreadMean: Float64Array;
  spreadMax: Float64Array;
  bidSizeMean: Float64Array;
  askSizeMean: Float64Array;
  imbalanceMean: Float64Array;
}

export const BAR_COLUMNS = [
  'ts',
  'symbol',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'trade_count',
  'vwap',
  'buy_volume',
  'sell_volume',
  'quote_count',
  'bid_close',
  'ask_close',
  'spread_mean',
  'spread_max',
  'bid_size_mean',
  'ask_size_mean',
  'imbalance_mean',
] as const;

export const NS_PER_MINUTE = 60_000_000_000;

export function allocBarSeries(symbol: string, length: number): BarSeries {
  const f = () => new Float64Array(length);
  return {
    symbol,
    length,
    ts: f(),
    open: f(),
    high: f(),
    low: f(),
    close: f(),
    volume: f(),
    tradeCount: new Int32Array(length),
    vwap: f(),
    buyVolume: f(),
    sellVolume: f(),
    quoteCount: new Int32Array(length),
    bidClose: f(),
    askClose: f(),
    spreadMean: f(),
    spreadMax: f(),
    bidSizeMean: f(),
    askSizeMean: f(),
    imbalanceMean: f(),
  };
}
