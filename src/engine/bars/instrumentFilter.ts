/**
 * Resolves records to a symbol through a file's metadata symbol mappings (docs/bars.md): by the
 * UTC date of ts_recv, intervals [start_date, end_date); a record no mapping covers gets its
 * instrument id (decimal string) as its symbol. Used on the hot path: the day bounds are kept as
 * u32 halves and only recomputed (with BigInt) when a record leaves the current UTC day.
 */
import type { DbnMetadata } from '../dbn/metadata.ts';

const NS_PER_DAY = 86_400_000_000_000n;

/** One resolved mapping: instrument `id` is `symbol` on UTC dates [startDate, endDate). */
export interface InstrumentInterval {
  id: number;
  symbol: string;
  startDate: number;
  endDate: number;
}

/**
 * Flattens DbnMetadata.mappings into (instrument id, symbol, dates). With stype_out =
 * instrument_id (the usual request: raw_symbol in, instrument_id out) the raw symbol is the
 * symbol and the interval's value is the id; with stype_in = instrument_id it is the reverse.
 */
export function resolveIntervals(meta: Pick<DbnMetadata, 'mappings' | 'stypeIn' | 'stypeOut'>): InstrumentInterval[] {
  const out: InstrumentInterval[] = [];
  const idIsInput = meta.stypeIn === 0 && meta.stypeOut !== 0;
  for (const m of meta.mappings) {
    for (const iv of m.intervals) {
      const idText = idIsInput ? m.rawSymbol : iv.symbol;
      const symbol = idIsInput ? iv.symbol : m.rawSymbol;
      if (!/^\d+$/.test(idText) || symbol === '') continue;
      out.push({ id: Number(idText), symbol, startDate: iv.startDate, endDate: iv.endDate });
    }
  }
  return out;
}

/** The symbols a file's metadata names (mapping order, deduplicated). */
export function mappedSymbols(meta: Pick<DbnMetadata, 'mappings' | 'stypeIn' | 'stypeOut'>): string[] {
  return [...new Set(resolveIntervals(meta).map((iv) => iv.symbol))];
}

/** YYYYMMDD of a UTC day number (days since 1970-01-01). */
export function dayToYmd(day: number): number {
  const d = new Date(day * 86_400_000);
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export class InstrumentFilter {
  readonly symbol: string;
  private readonly intervals: InstrumentInterval[];
  private readonly numericId: number;
  // Current UTC day [start, end) as u32 halves; start > end initially so the first record resolves.
  private dayStartHi = 1;
  private dayStartLo = 0;
  private dayEndHi = 0;
  private dayEndLo = 0;
  private matchIds = new Set<number>();
  private mappedIds = new Set<number>();
  private lastId = -1;
  private lastResult = false;
  /** Instrument ids that resolved to the symbol for at least one record. */
  readonly seenIds = new Set<number>();

  constructor(intervals: InstrumentInterval[], symbol: string) {
    this.intervals = intervals;
    this.symbol = symbol;
    this.numericId = /^\d+$/.test(symbol) ? Number(symbol) : -1;
  }

  /** True when record i of a batch (its ts_recv halves and instrument id) resolves to the symbol. */
  matches(instrumentId: number, tsHi: number, tsLo: number): boolean {
    if (
      tsHi < this.dayStartHi ||
      (tsHi === this.dayStartHi && tsLo < this.dayStartLo) ||
      tsHi > this.dayEndHi ||
      (tsHi === this.dayEndHi && tsLo >= this.dayEndLo)
    ) {
      this.enterDay(tsHi, tsLo);
    } else if (instrumentId === this.lastId) {
      return this.lastResult;
    }
    const r = this.matchIds.has(instrumentId) || (instrumentId === this.numericId && !this.mappedIds.has(instrumentId));
    if (r) this.seenIds.add(instrumentId);
    this.lastId = instrumentId;
    this.lastResult = r;
    return r;
  }

  private enterDay(tsHi: number, tsLo: number): void {
    const ts = (BigInt(tsHi) << 32n) | BigInt(tsLo);
    const day = ts / NS_PER_DAY;
    const start = day * NS_PER_DAY;
    const end = start + NS_PER_DAY;
    this.dayStartHi = Number(start >> 32n);
    this.dayStartLo = Number(start & 0xffffffffn);
    this.dayEndHi = Number(end >> 32n);
    this.dayEndLo = Number(end & 0xffffffffn);
    const ymd = dayToYmd(Number(day));
    this.matchIds = new Set();
    this.mappedIds = new Set();
    for (const iv of this.intervals) {
      if (ymd < iv.startDate || ymd >= iv.endDate) continue;
      this.mappedIds.add(iv.id);
      if (iv.symbol === this.symbol) this.matchIds.add(iv.id);
    }
    this.lastId = -1;
  }
}

/** A u64 held as u32 halves → BigInt (only at boundaries and in errors). */
export function u64FromHalves(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}
