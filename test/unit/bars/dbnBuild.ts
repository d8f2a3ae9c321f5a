/** Test helpers: real DBN bytes from compact record specs (via the project's encoder). */
import { strict as assert } from 'node:assert';
import {
  encodeMetadata,
  MBP1_RECORD_SIZE,
  TRADE_RECORD_SIZE,
  UNDEF_PRICE,
  writeMbp1Record,
  writeTradeRecord,
} from '../../../src/engine/dbn/encoder.ts';
import type { SymbolMapping } from '../../../src/engine/dbn/metadata.ts';
import type { BarSeries } from '../../../src/engine/bars/barSeries.ts';

/** 2024-03-04T14:30:00Z in ns: a minute boundary. */
export const T0 = 1_709_562_600_000_000_000n;
export const S = 1_000_000_000n;
export const MIN = 60n * S;

export interface TradeSpec {
  ts: bigint;
  px: number; // dollars
  sz: number;
  side: 'A' | 'B' | 'N';
  id?: number;
}
export interface QuoteSpec extends TradeSpec {
  bid: number | null; // null = UNDEF_PRICE
  ask: number | null;
  bsz: number;
  asz: number;
}

/** Dollars → raw 1e-9 exactly (prices in tests have at most 4 decimals). */
export function raw(px: number): bigint {
  return BigInt(Math.round(px * 10000)) * 100000n;
}

export interface FileSpec {
  schema: 'trades' | 'tbbo';
  start?: bigint;
  end?: bigint | null;
  dataset?: string;
  mappings?: SymbolMapping[];
  symbols?: string[];
}

const DEFAULT_ID = 42;

export function defaultMappings(symbol = 'TEST', id = DEFAULT_ID): SymbolMapping[] {
  return [{ rawSymbol: symbol, intervals: [{ startDate: 20240101, endDate: 20250101, symbol: String(id) }] }];
}

export function dbnBytes(spec: FileSpec, records: (TradeSpec | QuoteSpec)[]): Uint8Array {
  const schema = spec.schema === 'trades' ? 4 : 3;
  const meta = encodeMetadata({
    version: 3,
    dataset: spec.dataset ?? 'XNAS.ITCH',
    schema,
    start: spec.start ?? T0 - 3600n * S,
    end: spec.end === undefined ? T0 + 24n * 3600n * S : spec.end,
    stypeIn: 1,
    stypeOut: 0,
    symbols: spec.symbols ?? (spec.mappings ?? defaultMappings()).map((m) => m.rawSymbol),
    mappings: spec.mappings ?? defaultMappings(),
  });
  const size = spec.schema === 'trades' ? TRADE_RECORD_SIZE : MBP1_RECORD_SIZE;
  const out = new Uint8Array(meta.length + records.length * size);
  out.set(meta, 0);
  const view = new DataView(out.buffer);
  let off = meta.length;
  let seq = 1;
  for (const r of records) {
    const base = {
      publisherId: 2,
      instrumentId: r.id ?? DEFAULT_ID,
      tsEvent: r.ts - 1000n,
      price: raw(r.px),
      size: r.sz,
      action: 0x54,
      side: r.side.charCodeAt(0),
      flags: 0x81,
      depth: 0,
      tsRecv: r.ts,
      tsInDelta: 500,
      sequence: seq++,
    };
    if (spec.schema === 'trades') off = writeTradeRecord(view, off, base);
    else {
      const q = r as QuoteSpec;
      off = writeMbp1Record(view, off, {
        ...base,
        bidPx: q.bid === null ? UNDEF_PRICE : raw(q.bid),
        askPx: q.ask === null ? UNDEF_PRICE : raw(q.ask),
        bidSz: q.bsz,
        askSz: q.asz,
        bidCt: 1,
        askCt: 1,
      });
    }
  }
  return out;
}

/** Expected row, null = SQL null. */
export interface ExpectedBar {
  ts: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trade_count: number;
  vwap: number;
  buy_volume: number;
  sell_volume: number;
  quote_count: number | null;
  bid_close: number | null;
  ask_close: number | null;
  spread_mean: number | null;
  spread_max: number | null;
  bid_size_mean: number | null;
  ask_size_mean: number | null;
  imbalance_mean: number | null;
}

export const NO_QUOTES = {
  quote_count: null,
  bid_close: null,
  ask_close: null,
  spread_mean: null,
  spread_max: null,
  bid_size_mean: null,
  ask_size_mean: null,
  imbalance_mean: null,
} as const;
export const EMPTY_QUOTES = { ...NO_QUOTES, quote_count: 0 } as const;

function close(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected null (NaN), got ${actual}`);
    return;
  }
  const tol = Math.max(1e-12, Math.abs(expected) * 1e-9);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);
}

/** Compares a BarSeries with hand-computed rows (doubles: relative 1e-9, absolute floor 1e-12). */
export function assertBars(bars: BarSeries, expected: ExpectedBar[]): void {
  assert.equal(bars.length, expected.length, `row count: expected ${expected.length}, got ${bars.length}`);
  expected.forEach((e, r) => {
    const at = `row ${r}`;
    assert.equal(BigInt(bars.ts[r]!), e.ts, `${at} ts`);
    close(bars.open[r]!, e.open, `${at} open`);
    close(bars.high[r]!, e.high, `${at} high`);
    close(bars.low[r]!, e.low, `${at} low`);
    close(bars.close[r]!, e.close, `${at} close`);
    assert.equal(bars.volume[r], e.volume, `${at} volume`);
    assert.equal(bars.tradeCount[r], e.trade_count, `${at} trade_count`);
    close(bars.vwap[r]!, e.vwap, `${at} vwap`);
    assert.equal(bars.buyVolume[r], e.buy_volume, `${at} buy_volume`);
    assert.equal(bars.sellVolume[r], e.sell_volume, `${at} sell_volume`);
    assert.equal(bars.quoteCount[r], e.quote_count === null ? -1 : e.quote_count, `${at} quote_count`);
    close(bars.bidClose[r]!, e.bid_close, `${at} bid_close`);
    close(bars.askClose[r]!, e.ask_close, `${at} ask_close`);
    close(bars.spreadMean[r]!, e.spread_mean, `${at} spread_mean`);
    close(bars.spreadMax[r]!, e.spread_max, `${at} spread_max`);
    close(bars.bidSizeMean[r]!, e.bid_size_mean, `${at} bid_size_mean`);
    close(bars.askSizeMean[r]!, e.ask_size_mean, `${at} ask_size_mean`);
    close(bars.imbalanceMean[r]!, e.imbalance_mean, `${at} imbalance_mean`);
  });
}
