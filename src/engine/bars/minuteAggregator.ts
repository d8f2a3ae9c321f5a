/**
 * Streams trade / TBBO columns (already in merge order, docs/bars.md) into 1-minute bars.
 *
 * One minute is open at a time; records must arrive with non-decreasing ts_recv (the merge
 * guarantees it and derive refuses out-of-order files). The minute test is done on the u32
 * halves of ts_recv; BigInt is used only when a record crosses into a new minute.
 * A minute is emitted only if it holds at least one trade; quotes in trade-less minutes drop.
 */
import type { Mbp1Columns, TradeColumns } from '../dbn/columns.ts';
import { allocBarSeries, type BarSeries, NS_PER_MINUTE } from './barSeries.ts';
import type { InstrumentFilter } from './instrumentFilter.ts';

const NS_MINUTE = BigInt(NS_PER_MINUTE);
const PRICE_SCALE = 1e9;
const SIDE_ASK = 0x41; // 'A': sell aggressor
const SIDE_BID = 0x42; // 'B': buy aggressor

/** A TBBO source's metadata span [start, end); end null = open-ended. */
export interface QuoteSpan {
  start: bigint;
  end: bigint | null;
}

export interface MinuteAggregatorOptions {
  symbol: string;
  /** Spans of the dataset's TBBO sources; null or [] = no TBBO source (quote columns all null). */
  quoteSpans?: QuoteSpan[] | null;
  /** Initial row capacity (grows by doubling). */
  capacity?: number;
}

export class MinuteAggregator {
  private bars: BarSeries;
  private rows = 0;
  private readonly spans: QuoteSpan[];

  // Current minute [start, end) as u32 halves; end 0 = no minute open yet.
  private endHi = 0;
  private endLo = 0;
  private minuteTs = 0;
  private quoteActive = false;

  // Trade accumulators of the open minute.
  private tradeCount = 0;
  private open = 0;
  private high = 0;
  private low = 0;
  private close = 0;
  private volume = 0;
  private pv = 0;
  private buyVolume = 0;
  private sellVolume = 0;
  // Quote accumulators of the open minute.
  private quoteCount = 0;
  private bidClose = 0;
  private askClose = 0;
  private spreadSum = 0;
  private spreadMax = 0;
  private bidSzSum = 0;
  private askSzSum = 0;
  private imbSum = 0;
  private imbN = 0;

  constructor(opts: MinuteAggregatorOptions) {
    this.spans = opts.quoteSpans ?? [];
    this.bars = allocBarSeries(opts.symbol, Math.max(16, opts.capacity ?? 1024));
  }

  /** Returns how many of the records passed the filter. Trades (a TradeColumns batch, or the trade fields of TBBO records), records [from, to). */
  addTrades(b: TradeColumns, from = 0, to = b.length, filter?: InstrumentFilter): number {
    const ts = b.tsRecvU32;
    let kept = 0;
    for (let i = from; i < to; i++) {
      const hi = ts[2 * i + 1]!;
      const lo = ts[2 * i]!;
      if (filter !== undefined && !filter.matches(b.instrumentId[i]!, hi, lo)) continue;
      if (hi > this.endHi || (hi === this.endHi && lo >= this.endLo)) this.advance(hi, lo);
      this.trade(b.price[i]! / PRICE_SCALE, b.size[i]!, b.side[i]!);
      kept++;
    }
    return kept;
  }

  /** TBBO quotes of records [from, to); with `asTrades` (tbbo-only dataset) also their trade fields. */
  addQuotes(b: Mbp1Columns, from = 0, to = b.length, filter?: InstrumentFilter, asTrades = false): number {
    const ts = b.tsRecvU32;
    let kept = 0;
    for (let i = from; i < to; i++) {
      const hi = ts[2 * i + 1]!;
      const lo = ts[2 * i]!;
      if (filter !== undefined && !filter.matches(b.instrumentId[i]!, hi, lo)) continue;
      if (hi > this.endHi || (hi === this.endHi && lo >= this.endLo)) this.advance(hi, lo);
      kept++;
      if (asTrades) this.trade(b.price[i]! / PRICE_SCALE, b.size[i]!, b.side[i]!);
      const bid = b.bidPx[i]!;
      const ask = b.askPx[i]!;
      if (bid !== bid || ask !== ask) continue; // UNDEF_PRICE (NaN) on either side: not qualifying
      const bs = b.bidSz[i]!;
      const as = b.askSz[i]!;
      const spread = (ask - bid) / PRICE_SCALE;
      if (this.quoteCount === 0 || spread > this.spreadMax) this.spreadMax = spread;
      this.quoteCount++;
      this.bidClose = bid / PRICE_SCALE;
      this.askClose = ask / PRICE_SCALE;
      this.spreadSum += spread;
      this.bidSzSum += bs;
      this.askSzSum += as;
      if (bs + as > 0) {
        this.imbSum += (bs - as) / (bs + as);
        this.imbN++;
      }
    }
    return kept;
  }

  private trade(price: number, size: number, side: number): void {
    if (this.tradeCount === 0) {
      this.open = price;
      this.high = price;
      this.low = price;
    } else {
      if (price > this.high) this.high = price;
      if (price < this.low) this.low = price;
    }
    this.close = price;
    this.tradeCount++;
    this.volume += size;
    this.pv += price * size;
    if (side === SIDE_BID) this.buyVolume += size;
    else if (side === SIDE_ASK) this.sellVolume += size;
  }

  /** Closes the open minute and opens the one holding ts (hi, lo). */
  private advance(hi: number, lo: number): void {
    if (this.endHi !== 0 || this.endLo !== 0) this.flush();
    const ts = (BigInt(hi) << 32n) | BigInt(lo);
    const start = ts - (ts % NS_MINUTE);
    const end = start + NS_MINUTE;
    this.endHi = Number(end >> 32n);
    this.endLo = Number(end & 0xffffffffn);
    this.minuteTs = Number(start);
    this.quoteActive = false;
    for (const s of this.spans) {
      if (start + NS_MINUTE > s.start && (s.end === null || start < s.end)) {
        this.quoteActive = true;
        break;
      }
    }
  }

  private flush(): void {
    if (this.tradeCount > 0) {
      if (this.rows === this.bars.length) this.grow();
      const b = this.bars;
      const r = this.rows++;
      b.ts[r] = this.minuteTs;
      b.open[r] = this.open;
      b.high[r] = this.high;
      b.low[r] = this.low;
      b.close[r] = this.close;
      b.volume[r] = this.volume;
      b.tradeCount[r] = this.tradeCount;
      b.vwap[r] = this.volume > 0 ? this.pv / this.volume : NaN;
      b.buyVolume[r] = this.buyVolume;
      b.sellVolume[r] = this.sellVolume;
      const q = this.quoteActive ? this.quoteCount : -1;
      b.quoteCount[r] = q;
      const has = q > 0;
      b.bidClose[r] = has ? this.bidClose : NaN;
      b.askClose[r] = has ? this.askClose : NaN;
      b.spreadMean[r] = has ? this.spreadSum / q : NaN;
      b.spreadMax[r] = has ? this.spreadMax : NaN;
      b.bidSizeMean[r] = has ? this.bidSzSum / q : NaN;
      b.askSizeMean[r] = has ? this.askSzSum / q : NaN;
      b.imbalanceMean[r] = has && this.imbN > 0 ? this.imbSum / this.imbN : NaN;
    }
    this.tradeCount = 0;
    this.volume = 0;
    this.pv = 0;
    this.buyVolume = 0;
    this.sellVolume = 0;
    this.quoteCount = 0;
    this.spreadSum = 0;
    this.spreadMax = 0;
    this.bidSzSum = 0;
    this.askSzSum = 0;
    this.imbSum = 0;
    this.imbN = 0;
  }

  private grow(): void {
    const old = this.bars;
    const next = allocBarSeries(old.symbol, old.length * 2);
    copyRows(old, next, this.rows);
    this.bars = next;
  }

  /** Rows emitted so far (the open minute not included). */
  get rowCount(): number {
    return this.rows;
  }

  /** Closes the last minute and returns the bars, trimmed to their length. */
  finish(): BarSeries {
    if (this.endHi !== 0 || this.endLo !== 0) this.flush();
    this.endHi = 0;
    this.endLo = 0;
    const out = allocBarSeries(this.bars.symbol, this.rows);
    copyRows(this.bars, out, this.rows);
    return out;
  }
}

type NumericColumn = Exclude<keyof BarSeries, 'symbol' | 'length'>;
const NUMERIC_COLUMNS: NumericColumn[] = [
  'ts',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'tradeCount',
  'vwap',
  'buyVolume',
  'sellVolume',
  'quoteCount',
  'bidClose',
  'askClose',
  'spreadMean',
  'spreadMax',
  'bidSizeMean',
  'askSizeMean',
  'imbalanceMean',
];

function copyRows(from: BarSeries, to: BarSeries, rows: number): void {
  for (const c of NUMERIC_COLUMNS) (to[c] as Float64Array).set((from[c] as Float64Array).subarray(0, rows));
}
