/**
 * Synthetic DBN v3 data (`btnb data synth`): a trades file and a tbbo file for one symbol over
 * N XNYS trading days, byte-identical for the same options (seeded sfc32, fixed chunking, zstd
 * level 3). Metadata is XNAS.ITCH-shaped (raw_symbol → instrument_id, one mapping interval per
 * UTC date) but the dataset is `SYNTH` and publisher_id 0, so it is never mistaken for real data.
 * Instrument ids change from UTC date to UTC date on purpose: consumers must group by symbol.
 */
import * as zlib from 'node:zlib';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dayNumber, isoDate, localToUtcNs } from '../calendar/newYork.ts';
import { sessionBoundsNs } from '../calendar/xnys.ts';
import {
  encodeMetadata,
  MBP1_RECORD_SIZE,
  TRADE_RECORD_SIZE,
  type Mbp1RecordInput,
  UNDEF_PRICE,
  writeMbp1Record,
  writeTradeRecord,
} from '../dbn/encoder.ts';
import { SCHEMA } from '../dbn/enums.ts';
import type { SymbolMapping } from '../dbn/metadata.ts';
import { createAtomicWriteStream } from '../io/atomicWrite.ts';
import { dayToYmd } from '../bars/instrumentFilter.ts';
import { Sfc32 } from '../util/prng.ts';
import { initialState, simulateDay, TICK_RAW } from './synthSession.ts';

export const SYNTH_DATASET = 'SYNTH';
export const SYNTH_PUBLISHER_ID = 0;
const NS_PER_DAY = 86_400_000_000_000n;
const CHUNK_BYTES = 1 << 20;

export interface SynthOptions {
  symbol: string;
  /** First calendar date YYYY-MM-DD; non-trading days are skipped. */
  start: string;
  /** Number of XNYS trading days. */
  days: number;
  seed: number;
  outDir: string;
  /** zstd-compress (.dbn.zst, the default); false writes raw .dbn. */
  compress?: boolean;
  /** Mean trades per day; default: 20k–60k, varying by day. */
  tradesPerDay?: number;
}

export interface SynthResult {
  files: string[];
  trades: number;
  tradingDays: string[];
}

interface Plan {
  days: { day: number; openNs: number; closeNs: number }[];
  startNs: bigint;
  endNs: bigint;
  firstUtcDay: number;
  lastUtcDay: number;
}

function plan(opts: SynthOptions): Plan {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(opts.start);
  if (!m) throw new Error(`synth: --start '${opts.start}' is not a YYYY-MM-DD date`);
  if (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > 2600)
    throw new Error(`synth: --days must be an integer in 1..2600, got ${opts.days}`);
  if (!/^[A-Za-z0-9.\-_]{1,70}$/.test(opts.symbol))
    throw new Error(`synth: --symbol '${opts.symbol}' must be 1–70 characters of A–Z, 0–9, '.', '-', '_'`);
  let day = dayNumber(Number(m[1]), Number(m[2]), Number(m[3]));
  const days: Plan['days'] = [];
  for (let guard = 0; days.length < opts.days && guard < opts.days * 2 + 30; guard++, day++) {
    const b = sessionBoundsNs(day);
    if (b) days.push({ day, ...b });
  }
  if (days.length < opts.days) throw new Error(`synth: found only ${days.length} trading days from ${opts.start}`);
  // Metadata span: UTC midnight of the first session date to the UTC midnight after 20:00 New York
  // on the last one (post-market prints in winter fall on the next UTC date).
  const first = days[0]!;
  const last = days[days.length - 1]!;
  const firstUtcDay = first.day;
  const lastUtcDay = Math.floor((last.closeNs + 4 * 3600e9 + 3600e9) / 86400e9);
  return { days, startNs: BigInt(firstUtcDay) * NS_PER_DAY, endNs: BigInt(lastUtcDay + 1) * NS_PER_DAY, firstUtcDay, lastUtcDay };
}

function instrumentBase(symbol: string): number {
  let h = 2166136261;
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 16777619) >>> 0;
  return 1000 + (h % 50000) * 10;
}

function mappings(symbol: string, p: Plan): SymbolMapping[] {
  const base = instrumentBase(symbol);
  const intervals = [];
  for (let d = p.firstUtcDay; d <= p.lastUtcDay; d++) {
    intervals.push({ startDate: dayToYmd(d), endDate: dayToYmd(d + 1), symbol: String(base + (d - p.firstUtcDay)) });
  }
  return [{ rawSymbol: symbol, intervals }];
}

/** The file's chunks: metadata, then records day by day in 1 MiB buffers. */
async function* chunks(opts: SynthOptions, p: Plan, schema: 'trades' | 'tbbo', counter: { trades: number }): AsyncGenerator<Uint8Array> {
  yield encodeMetadata({
    version: 3,
    dataset: SYNTH_DATASET,
    schema: schema === 'trades' ? SCHEMA.trades : SCHEMA.tbbo,
    start: p.startNs,
    end: p.endNs,
    stypeIn: 1,
    stypeOut: 0,
    symbols: [opts.symbol],
    mappings: mappings(opts.symbol, p),
  });
  const rng = new Sfc32(opts.seed);
  const state = initialState(rng);
  const base = instrumentBase(opts.symbol);
  const size = schema === 'trades' ? TRADE_RECORD_SIZE : MBP1_RECORD_SIZE;
  let buf = new Uint8Array(CHUNK_BYTES);
  let view = new DataView(buf.buffer);
  let off = 0;
  const rec: Mbp1RecordInput = {
    publisherId: SYNTH_PUBLISHER_ID,
    instrumentId: 0,
    tsEvent: 0n,
    price: 0n,
    size: 0,
    action: 0x54,
    side: 0,
    flags: 0,
    depth: 0,
    tsRecv: 0n,
    tsInDelta: 0,
    sequence: 0,
    bidPx: 0n,
    askPx: 0n,
    bidSz: 0,
    askSz: 0,
    bidCt: 0,
    askCt: 0,
  };
  for (const d of p.days) {
    const n = opts.tradesPerDay ?? 20_000 + rng.int(40_001);
    const tape = simulateDay(rng, state, d.day, d.openNs, d.closeNs, n);
    const localMidnight = BigInt(localToUtcNs(d.day, 0));
    for (let i = 0; i < tape.length; i++) {
      const tsRecv = localMidnight + BigInt(tape.tsRecv[i]!);
      rec.tsRecv = tsRecv;
      rec.tsEvent = tsRecv - BigInt(tape.latency[i]!);
      rec.instrumentId = base + (Number(tsRecv / NS_PER_DAY) - p.firstUtcDay);
      rec.price = BigInt(tape.price[i]! * TICK_RAW);
      rec.size = tape.size[i]!;
      rec.side = tape.side[i]!;
      rec.flags = tape.flags[i]!;
      rec.tsInDelta = tape.tsInDelta[i]!;
      rec.sequence = tape.sequence[i]!;
      if (off + size > buf.length) {
        yield buf.subarray(0, off);
        buf = new Uint8Array(CHUNK_BYTES);
        view = new DataView(buf.buffer);
        off = 0;
      }
      if (schema === 'trades') {
        off = writeTradeRecord(view, off, rec);
      } else {
        rec.bidPx = tape.bid[i]! < 0 ? UNDEF_PRICE : BigInt(tape.bid[i]! * TICK_RAW);
        rec.askPx = tape.ask[i]! < 0 ? UNDEF_PRICE : BigInt(tape.ask[i]! * TICK_RAW);
        rec.bidSz = tape.bidSz[i]!;
        rec.askSz = tape.askSz[i]!;
        rec.bidCt = tape.bidCt[i]!;
        rec.askCt = tape.askCt[i]!;
        off = writeMbp1Record(view, off, rec);
      }
    }
    counter.trades += tape.length;
  }
  if (off > 0) yield buf.subarray(0, off);
}

export function nativeZstdCompress(): boolean {
  return typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
}

export function synthFileName(opts: Pick<SynthOptions, 'symbol' | 'start' | 'days' | 'seed'>, schema: string, compress: boolean): string {
  return `${opts.symbol}.${opts.start}.${opts.days}d.seed${opts.seed}.${schema}.dbn${compress ? '.zst' : ''}`;
}

/** Writes `<outDir>/<symbol>.<start>.<days>d.seed<seed>.{trades,tbbo}.dbn[.zst]` atomically. */
export async function synthesize(opts: SynthOptions): Promise<SynthResult> {
  const p = plan(opts);
  // Compressed where the running Node has zstd (22.15+ / 24), else raw .dbn.
  const compress = (opts.compress ?? true) && nativeZstdCompress();
  await mkdir(opts.outDir, { recursive: true });
  const files: string[] = [];
  let trades = 0;
  for (const schema of ['trades', 'tbbo'] as const) {
    const path = join(opts.outDir, synthFileName(opts, schema, compress));
    const counter = { trades: 0 };
    const out = createAtomicWriteStream(path, { fsync: false });
    const source = Readable.from(chunks(opts, p, schema, counter), { objectMode: false });
    try {
      if (compress) {
        const zc = zlib.constants as unknown as Record<string, number>;
        await pipeline(
          source,
          zlib.createZstdCompress({ params: { [zc.ZSTD_c_compressionLevel!]: 3, [zc.ZSTD_c_checksumFlag!]: 1 } }),
          out,
        );
      } else {
        await pipeline(source, out);
      }
      await out.commit();
    } catch (err) {
      await out.abort();
      throw err;
    }
    trades = counter.trades;
    files.push(path);
  }
  return { files, trades, tradingDays: p.days.map((d) => isoDate(d.day)) };
}
