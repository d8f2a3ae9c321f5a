/**
 * K-way merge of several DBN sources by ts_recv, over columnar batches (docs/bars.md): among
 * equal ts_recv, sources are ordered by (first ts_recv, SHA-256) and records keep their order
 * within a file. The order is exact within a lane (sources of one schema: trades, or tbbo);
 * across lanes it is exact per minute only — a minute's trades and quotes both come before the
 * next minute's, which is all the bars depend on (trade and quote aggregates never mix within a
 * minute), and it turns the trades/tbbo interleave (one tbbo per trade, equal ts_recv) from
 * one-record runs into minute-long runs. Each source is decoded by its own streaming decoder; a decoder waits (its sink
 * promise) until the merge has consumed its batch, so memory is one batch per source.
 *
 * Records out of ts_recv order within a file are refused (sorting would need the whole file in
 * memory): the error names the file, the record's byte offset and both timestamps.
 */
import type { Mbp1Columns, TradeColumns } from '../dbn/columns.ts';
import { decodeFile, type DecodeSummary } from '../dbn/decoder.ts';
import { MBP1_RECORD_SIZE, TRADE_RECORD_SIZE } from '../dbn/encoder.ts';
import { u64FromHalves } from './instrumentFilter.ts';

export interface MergeSource {
  /** Absolute path of the raw file. */
  path: string;
  /** Name used in errors (the raw path relative to the data dir is fine). */
  name: string;
  sha256: string;
  schema: 'trades' | 'tbbo';
  /** Byte offset of the first record (for error offsets). */
  recordsOffset: number;
}

/**
 * Receives runs [from, to) of one source's batch, in merge order. The batch holds the decoded
 * columns (all, or only the bar fields with `barFieldsOnly`): one of the decoder's own batches,
 * no copy, which the decoder refills once the merge has released it.
 */
export type RunSink = (source: number, batch: TradeColumns | Mbp1Columns, from: number, to: number) => void;

export class OutOfOrderError extends Error {
  override name = 'OutOfOrderError';
}

/**
 * Batches a source may decode ahead of the merge. The decoder rotates READ_AHEAD + 1 batches
 * (DecodeOptions.batchRing): the merge holds up to READ_AHEAD while the decoder fills the next.
 */
const READ_AHEAD = 3;

class SourceStream {
  readonly index: number;
  readonly src: MergeSource;
  /** The batch at the head of the queue (what the merge reads), or null. */
  batch: TradeColumns | Mbp1Columns | null = null;
  pos = 0;
  ended = false;
  error: unknown = null;
  summary: DecodeSummary | null = null;
  records = 0;
  firstHi = -1;
  firstLo = 0;
  lastHi = -1;
  lastLo = 0;
  priority = 0;
  /** The minute [start, end) holding this source's head, as u32 halves: recomputed (BigInt) only when the head leaves it. */
  minStartHi = 1;
  minStartLo = 0;
  minEndHi = 0;
  minEndLo = 0;
  done: Promise<void>;
  readonly #queue: (TradeColumns | Mbp1Columns)[] = [];
  #release: (() => void) | null = null;
  #waiter: (() => void) | null = null;
  #closed: unknown = null;

  constructor(index: number, src: MergeSource, signal: AbortSignal, batchSize: number | undefined, barFieldsOnly: boolean) {
    this.index = index;
    this.src = src;
    const onBatch = (b: TradeColumns) => this.#onBatch(b);
    const sink = src.schema === 'trades' ? { onTrades: onBatch } : { onMbp1: onBatch };
    this.done = decodeFile(src.path, sink, { signal, batchSize, barFieldsOnly, batchRing: READ_AHEAD + 1 })
      .then(
        (s) => {
          this.summary = s;
        },
        (err: unknown) => {
          this.error ??= err;
        },
      )
      .finally(() => {
        this.ended = true;
        this.#wake();
      });
  }

  /**
   * Takes a decoded batch: order check, queue it (the decoder does not write it again until the
   * merge has released it: its ring has one batch more than the queue holds). The decoder runs
   * on (its zstd work overlapping the merge) until READ_AHEAD batches wait; then it waits for
   * the merge to free one. Memory stays READ_AHEAD + 1 batches per source.
   */
  #onBatch(b: TradeColumns): Promise<void> | void {
    // After a failure the merge no longer reads: stop the decoder at its next batch.
    if (this.#closed !== null) throw this.#closed as Error;
    if (b.length === 0) return;
    this.#checkOrder(b);
    if (this.firstHi < 0) {
      this.firstHi = b.tsRecvU32[1]!;
      this.firstLo = b.tsRecvU32[0]!;
    }
    this.#queue.push(b);
    if (this.batch === null) {
      this.batch = b;
      this.pos = 0;
    }
    this.#wake();
    if (this.#queue.length >= READ_AHEAD)
      return new Promise<void>((res) => {
        this.#release = res;
      });
  }

  #checkOrder(b: TradeColumns): void {
    const ts = b.tsRecvU32;
    let pHi = this.lastHi;
    let pLo = this.lastLo;
    for (let i = 0; i < b.length; i++) {
      const hi = ts[2 * i + 1]!;
      const lo = ts[2 * i]!;
      if (hi < pHi || (hi === pHi && lo < pLo)) {
        const size = this.src.schema === 'trades' ? TRADE_RECORD_SIZE : MBP1_RECORD_SIZE;
        const n = this.records + i;
        const err = new OutOfOrderError(
          `${this.src.name}: byte ${this.src.recordsOffset + n * size} (record ${n}): ts_recv ${u64FromHalves(hi, lo)} is earlier than the previous record's ${u64FromHalves(pHi, pLo)}; ` +
            'records must be sorted by ts_recv (derive refuses out-of-order files rather than sorting them in memory)',
        );
        this.error = err;
        throw err;
      }
      pHi = hi;
      pLo = lo;
    }
    this.lastHi = pHi;
    this.lastLo = pLo;
    this.records += b.length;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  /** Resolves when a batch is available or the source has ended; rethrows its error. */
  async ready(): Promise<void> {
    while (this.batch === null && !this.ended)
      await new Promise<void>((res) => {
        this.#waiter = res;
      });
    if (this.error) throw this.error as Error;
  }

  /** The merge is done with the head batch: hand it back to the decoder, move to the next. */
  release(): void {
    this.#queue.shift();
    this.batch = this.#queue[0] ?? null;
    this.pos = 0;
    const r = this.#release;
    this.#release = null;
    r?.();
  }

  /** Frees everything and unblocks the decoder, which then stops with `reason` (after an error). */
  drain(reason: unknown): void {
    this.#closed = reason ?? new Error('merge stopped');
    this.#queue.length = 0;
    this.batch = null;
    const r = this.#release;
    this.#release = null;
    r?.();
  }
}

const NS_MINUTE = 60_000_000_000n;
/** Sets `s.minStart*`/`s.minEnd*` to the minute holding ts (hi, lo). */
function enterMinute(s: SourceStream, hi: number, lo: number): void {
  const ts = u64FromHalves(hi, lo);
  const start = ts - (ts % NS_MINUTE);
  const end = start + NS_MINUTE;
  s.minStartHi = Number(start >> 32n);
  s.minStartLo = Number(start & 0xffffffffn);
  s.minEndHi = Number(end >> 32n);
  s.minEndLo = Number(end & 0xffffffffn);
}

/**
 * First index in [from, b.length) whose ts_recv is not before (hi, lo) — or, with `orEqual`,
 * not at or before it; b.length if none. Binary search: a queued batch is sorted (#checkOrder).
 */
function firstNotBefore(ts: Uint32Array, from: number, to: number, hi: number, lo: number, orEqual: boolean): number {
  let a = from;
  let z = to;
  while (a < z) {
    const mid = (a + z) >>> 1;
    const h = ts[2 * mid + 1]!;
    const l = ts[2 * mid]!;
    if (h < hi || (h === hi && (l < lo || (orEqual && l === lo)))) a = mid + 1;
    else z = mid;
  }
  return a;
}

export interface MergeStats {
  /** Per source: records, first/last ts_recv (null if none), decode summary. */
  sources: { records: number; first: bigint | null; last: bigint | null; summary: DecodeSummary | null }[];
}

/** Streams every source once, calling `sink` with runs in merge order. */
/** `barFieldsOnly`: the batches hold only the columns bars use (DecodeOptions.barFieldsOnly). */
export async function mergeSources(
  sources: MergeSource[],
  sink: RunSink,
  opts: { signal?: AbortSignal; batchSize?: number; barFieldsOnly?: boolean } = {},
): Promise<MergeStats> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const streams = sources.map((s, i) => new SourceStream(i, s, ac.signal, opts.batchSize, opts.barFieldsOnly ?? false));
  try {
    await Promise.all(streams.map((s) => s.ready()));
    // Tie order: (first ts_recv, sha256). Sources without records never take part.
    const order = streams
      .filter((s) => s.batch !== null)
      .sort((a, b) =>
        a.firstHi !== b.firstHi
          ? a.firstHi - b.firstHi
          : a.firstLo !== b.firstLo
            ? a.firstLo - b.firstLo
            : a.src.sha256 < b.src.sha256
              ? -1
              : 1,
      );
    order.forEach((s, i) => {
      s.priority = i;
    });
    const live = order.slice();
    while (live.length > 0) {
      opts.signal?.throwIfAborted();
      // The head with the smallest (ts, priority) runs next.
      let best = live[0]!;
      let bHi = best.batch!.tsRecvU32[2 * best.pos + 1]!;
      let bLo = best.batch!.tsRecvU32[2 * best.pos]!;
      for (let k = 1; k < live.length; k++) {
        const s = live[k]!;
        const hi = s.batch!.tsRecvU32[2 * s.pos + 1]!;
        const lo = s.batch!.tsRecvU32[2 * s.pos]!;
        if (hi < bHi || (hi === bHi && (lo < bLo || (lo === bLo && s.priority < best.priority)))) {
          best = s;
          bHi = hi;
          bLo = lo;
        }
      }
      // How far it may run: up to the next head of its own lane (exact, with the tie rule), and
      // up to the end of the minute holding the next head of another lane (lanes only meet
      // at minute granularity, so a minute's records of both lanes stay before the next minute's).
      let nHi = -1,
        nLo = 0,
        nPri = -1;
      let mHi = -1,
        mLo = 0;
      for (const s of live) {
        if (s === best) continue;
        const hi = s.batch!.tsRecvU32[2 * s.pos + 1]!;
        const lo = s.batch!.tsRecvU32[2 * s.pos]!;
        if (s.src.schema === best.src.schema) {
          if (nHi < 0 || hi < nHi || (hi === nHi && (lo < nLo || (lo === nLo && s.priority < nPri)))) {
            nHi = hi;
            nLo = lo;
            nPri = s.priority;
          }
        } else {
          if (hi < s.minStartHi || (hi === s.minStartHi && lo < s.minStartLo) || hi > s.minEndHi || (hi === s.minEndHi && lo >= s.minEndLo))
            enterMinute(s, hi, lo);
          if (mHi < 0 || s.minEndHi < mHi || (s.minEndHi === mHi && s.minEndLo < mLo)) {
            mHi = s.minEndHi;
            mLo = s.minEndLo;
          }
        }
      }
      const b = best.batch!;
      let end = b.length;
      if (nHi >= 0 || mHi >= 0) {
        // The run ends at the first record at/after the same-lane bound (ties: by priority) or
        // at/after the other lane's minute end, whichever comes first.
        const ts = b.tsRecvU32;
        end = nHi >= 0 ? firstNotBefore(ts, best.pos + 1, b.length, nHi, nLo, best.priority < nPri) : b.length;
        if (mHi >= 0) end = firstNotBefore(ts, best.pos + 1, end, mHi, mLo, false);
      }
      sink(best.index, b, best.pos, end);
      best.pos = end;
      if (end === b.length) {
        best.release();
        await best.ready();
        if (best.batch === null) live.splice(live.indexOf(best), 1);
      }
    }
    await Promise.all(streams.map((s) => s.done));
    for (const s of streams) if (s.error) throw s.error as Error;
    return {
      sources: streams.map((s) => ({
        records: s.records,
        first: s.firstHi < 0 ? null : u64FromHalves(s.firstHi, s.firstLo),
        last: s.lastHi < 0 ? null : u64FromHalves(s.lastHi, s.lastLo),
        summary: s.summary,
      })),
    };
  } catch (err) {
    ac.abort(err);
    for (const s of streams) s.drain(err);
    await Promise.allSettled(streams.map((s) => s.done));
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
