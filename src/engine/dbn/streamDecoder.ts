/**
 * The push-based DBN decoder core: decompressed chunks in, columnar batches (and optionally
 * per-record objects) out. Chunks may split records anywhere; a record cut by a chunk boundary
 * is completed in a small carry buffer (records are at most 1020 bytes). Memory is bounded by
 * the batch size, the carry buffer and the metadata cap.
 */
import type { Mbp1Columns, TradeColumns } from './columns.ts';
import {
  allocMbp1Columns,
  allocTradeColumns,
  DEFAULT_BATCH_SIZE,
  fillMbp1Run,
  fillMbp1RunAligned,
  fillTradeRun,
  fillTradeRunAligned,
  LITTLE_ENDIAN,
} from './columnar.ts';
import { rtypeName } from './enums.ts';
import { DbnError, hexBytes } from './errors.ts';
import { defaultKernel, FillKernel, STAGE_BYTES } from './fillKernel.ts';
import { dbzError, looksLikeDbz, parseMetadata, parsePrelude, PRELUDE_LENGTH, type DbnMetadata } from './metadata.ts';
import { decodeRecord, type DbnRecord } from './records.ts';

export interface DecodeSink {
  onMetadata?(meta: DbnMetadata): void;
  onTrades?(batch: TradeColumns): void | Promise<void>;
  onMbp1?(batch: Mbp1Columns): void | Promise<void>;
  /** Per-record objects: only for --json and small reads; when absent no objects are built. */
  onRecord?: (rec: DbnRecord) => void;
}

export interface DecodeOptions {
  /** Rows per columnar batch (default DEFAULT_BATCH_SIZE, 16384). */
  batchSize?: number;
  signal?: AbortSignal;
  /** Decode input without metadata (a fragment) as this DBN version. Inferred when absent. */
  fragmentVersion?: 1 | 2 | 3;
  /**
   * Fill only the columns bars are built from (instrumentId, tsRecv, price, size, side; TBBO
   * also bidPx, askPx, bidSz, askSz); the others hold unspecified values. The wasm kernel then
   * does about half the stores; the JS fallback fills every column either way.
   */
  barFieldsOnly?: boolean;
  /**
   * Batches in rotation (default 1): a batch handed to the sink is not written again until
   * `batchRing - 1` further batches of its type have been handed over, so a consumer may keep
   * that many without copying. Its column arrays must not be replaced.
   */
  batchRing?: number;
  /** Fill kernel: 'wasm' (fillKernel.ts, the default where WebAssembly runs) or the JS loops. */
  kernel?: 'wasm' | 'js';
}

/**
 * The decoder's input region (in kernel memory), cut into slots by its source: two raw reads
 * of 4 MiB (one in flight while the other is decoded), or the zstd ring's 4 x 1 MiB.
 */
const INPUT_BYTES = 8 * 1024 * 1024;

export interface DecodeSummary {
  metadata: DbnMetadata | null;
  /** Records per rtype (unknown rtypes included). */
  recordCounts: Record<number, number>;
  /** All records, including skipped unknown ones. */
  records: number;
  skippedUnknown: number;
  /** Decompressed DBN bytes. */
  bytes: number;
  /** Input bytes (equal to `bytes` for uncompressed input). */
  compressedBytes: number;
  /** DBN version: from the metadata, the caller (fragments), or inferred from a definition record. */
  version: 1 | 2 | 3 | null;
  fragment: boolean;
  compression: 'zstd' | 'none';
}

/** Smallest size of each known record type (v1 sizes where versions differ); 0 = unknown rtype. */
const BASE_SIZES: [number, number][] = [
  [0x00, 48],
  [0x01, 80],
  [0x0a, 368],
  [0x11, 56],
  [0x12, 40],
  [0x13, 360],
  [0x14, 112],
  [0x15, 80],
  [0x16, 80],
  [0x17, 80],
  [0x18, 64],
  [0x20, 56],
  [0x21, 56],
  [0x22, 56],
  [0x23, 56],
  [0x24, 56],
  [0xa0, 56],
  [0xb1, 80],
  [0xc0, 80],
  [0xc1, 80],
  [0xc2, 80],
  [0xc3, 80],
  [0xc4, 80],
];
const DEF_SIZE_VERSION: Record<number, 1 | 2 | 3> = { 360: 1, 400: 2, 520: 3 };
/** Record sizes that identify a fragment's first record, for the types whose layout changed across versions. */
const FRAGMENT_SIZES: Record<number, number[]> = {
  0x13: [360, 400, 520],
  0x15: [80, 320],
  0x16: [80, 176],
  0x17: [80, 320],
  0x18: [64, 80],
};

const PH_START = 0;
const PH_META = 1;
const PH_RECORDS = 2;
const FLUSH_NONE = 0;
const FLUSH_TRADES = 1;
const FLUSH_MBP1 = 2;
const MAX_RECORD = 255 * 4;

export class DbnStreamDecoder {
  metadata: DbnMetadata | null = null;
  version: 1 | 2 | 3 | null = null;
  fragment = false;
  /** Set once the metadata is parsed (or a fragment recognised). */
  headerDone = false;
  /** Decompressed bytes pushed so far. */
  pos = 0;
  readonly counts = new Float64Array(256);
  skippedUnknown = 0;

  private readonly name: string;
  private readonly sink: DecodeSink;
  private readonly opts: DecodeOptions;
  private phase = PH_START;
  private head = new Uint8Array(1024);
  private headLen = 0;
  /** The wasm kernel, or null for the JS loops. */
  private readonly k: FillKernel | null = null;
  /** A record cut by a chunk boundary is completed at carry[carryAt..] (in kernel memory with the kernel). */
  private readonly carry: Uint8Array;
  private readonly carryView: DataView;
  private readonly carryWords: Uint32Array | null;
  private readonly carryAt: number;
  private carryLen = 0;
  private readonly minLen = new Int32Array(256);
  private tsOut = false;
  private trades: TradeColumns | null = null;
  private mbp1: Mbp1Columns | null = null;
  private readonly tradeRing: TradeColumns[] = [];
  private readonly mbp1Ring: Mbp1Columns[] = [];
  private tradeTurn = 0;
  private mbp1Turn = 0;
  private readonly full: boolean;
  private pendingFlush = FLUSH_NONE;

  constructor(name: string, sink: DecodeSink, opts: DecodeOptions = {}) {
    this.name = name;
    this.sink = sink;
    this.opts = opts;
    const batch = opts.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batch) || batch < 1 || batch > 1 << 24)
      throw new RangeError(`batchSize must be an integer in [1, 2^24], got ${batch}`);
    const ring = opts.batchRing ?? 1;
    if (!Number.isInteger(ring) || ring < 1 || ring > 16) throw new RangeError(`batchRing must be an integer in [1, 16], got ${ring}`);
    this.full = !opts.barFieldsOnly;
    // Without a columnar sink (metadata reads, --json objects) nothing is filled: no kernel memory.
    if ((sink.onTrades || sink.onMbp1) && (opts.kernel ?? defaultKernel()) === 'wasm') {
      try {
        this.k = new FillKernel({
          capacity: batch,
          tradeSets: sink.onTrades ? ring : 0,
          mbp1Sets: sink.onMbp1 ? ring : 0,
          inputBytes: INPUT_BYTES,
        });
      } catch (e) {
        // Only layouts beyond wasm32's 4 GiB (huge batch sizes) fall back; an explicit request fails.
        if (opts.kernel === 'wasm' || !(e instanceof RangeError)) throw e;
      }
    }
    if (this.k !== null) {
      this.tradeRing.push(...this.k.tradeSets);
      this.mbp1Ring.push(...this.k.mbp1Sets);
      this.carry = this.k.u8;
      this.carryView = this.k.view;
      this.carryWords = null;
      this.carryAt = this.k.carryAt;
    } else {
      for (let i = 0; sink.onTrades && i < ring; i++) this.tradeRing.push(allocTradeColumns(batch));
      for (let i = 0; sink.onMbp1 && i < ring; i++) this.mbp1Ring.push(allocMbp1Columns(batch));
      this.carry = new Uint8Array(MAX_RECORD);
      this.carryView = new DataView(this.carry.buffer);
      this.carryWords = LITTLE_ENDIAN ? new Uint32Array(this.carry.buffer) : null;
      this.carryAt = 0;
    }
    this.trades = this.tradeRing[0] ?? null;
    this.mbp1 = this.mbp1Ring[0] ?? null;
  }

  private err(offset: number, expected: string, found?: string): DbnError {
    return new DbnError(this.name, offset, expected, found);
  }

  /** The fill kernel in use: 'wasm' or 'js'. */
  get kernel(): 'wasm' | 'js' {
    return this.k !== null ? 'wasm' : 'js';
  }

  /**
   * `count` buffers of `bytes` inside the kernel's memory for the byte source to fill (file
   * reads, zstd output): chunks pushed from them are decoded in place, others are copied in
   * first. Null with the JS kernel or if they do not fit (8 MiB in all). One source per
   * decoder: every call hands out the same region. A slot's bytes must stay unchanged until
   * the push of that chunk has resolved.
   */
  inputSlots(count: number, bytes: number): Uint8Array[] | null {
    return this.k !== null ? this.k.inputSlots(count, bytes) : null;
  }

  /** Feeds the next chunk of decompressed DBN bytes. The chunk may be reused after this resolves. */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.opts.signal?.aborted) throw this.opts.signal.reason;
    let c: Uint8Array | null = chunk;
    this.pos += chunk.length;
    if (this.phase !== PH_RECORDS) {
      c = this.pushHead(chunk);
      if (c === null || c.length === 0) return;
    }
    const start = this.pos - c.length; // stream offset of c[0]
    const k = this.k;
    if (k === null) return this.records(new DataView(c.buffer, c.byteOffset, c.byteLength), c, 0, c.length, start);
    if (c.buffer === k.memory.buffer) return this.records(k.view, k.u8, c.byteOffset, c.byteOffset + c.length, start);
    // Foreign bytes: decode them from the staging area, an L2-sized piece at a time.
    for (let i = 0; i < c.length; i += STAGE_BYTES) {
      const piece = c.subarray(i, i + STAGE_BYTES);
      k.u8.set(piece, k.stageAt);
      await this.records(k.view, k.u8, k.stageAt, k.stageAt + piece.length, start + i);
    }
  }

  /**
   * Decodes the records in u8[from, end) (stream offset `start` at `from`): first completes a
   * record carried over from the previous chunk, then keeps the cut record at the end.
   */
  private async records(v: DataView, u8: Uint8Array, from: number, end: number, start: number): Promise<void> {
    const base = start - from; // stream offset = base + address
    let off = from;
    if (this.carryLen > 0) {
      const at = this.carryAt;
      const recLen = this.carry[at]! * 4;
      const take = Math.min(recLen - this.carryLen, end - from);
      this.carry.set(u8.subarray(from, from + take), at + this.carryLen);
      this.carryLen += take;
      off += take;
      if (this.carryLen < recLen) return;
      const recStart = start - (this.carryLen - take);
      await this.run(this.carryView, this.carry, this.carryWords, at, at + recLen, recStart - at);
      this.carryLen = 0;
    }
    // Word view for 4-aligned records with the JS kernel (the common case: v3 pads metadata to 8,
    // and chunks from files and zlib start aligned). Misaligned records use the DataView path.
    const words =
      this.k === null && LITTLE_ENDIAN && (u8.byteOffset & 3) === 0 ? new Uint32Array(u8.buffer, u8.byteOffset, u8.length >>> 2) : null;
    off = await this.run(v, u8, words, off, end, base);
    const rest = end - off;
    if (rest > 0) {
      const lenWord = u8[off]!;
      if (lenWord < 4) throw this.err(base + off, 'a record length of at least 16 bytes (length byte >= 4)', `length byte ${lenWord}`);
      this.carry.set(u8.subarray(off, end), this.carryAt);
      this.carryLen = rest;
    }
  }

  /** Metadata / fragment detection. Returns the bytes left for the record phase, or null. */
  private pushHead(chunk: Uint8Array): Uint8Array | null {
    let used = 0;
    if (this.phase === PH_START) {
      if (this.headLen === 0 && chunk.length >= PRELUDE_LENGTH) {
        if (!this.detect(chunk)) return chunk; // a fragment: everything is records
      } else {
        used = this.append(chunk, 0, PRELUDE_LENGTH - this.headLen);
        if (this.headLen < PRELUDE_LENGTH) return null;
        if (!this.detect(this.head.subarray(0, PRELUDE_LENGTH))) {
          const rest = new Uint8Array(PRELUDE_LENGTH + chunk.length - used);
          rest.set(this.head.subarray(0, PRELUDE_LENGTH));
          rest.set(chunk.subarray(used), PRELUDE_LENGTH);
          this.headLen = 0;
          return rest;
        }
      }
    }
    if (this.headLen < PRELUDE_LENGTH) used += this.append(chunk, used, PRELUDE_LENGTH - this.headLen);
    const total = PRELUDE_LENGTH + parsePrelude(this.head, this.name).length;
    used += this.append(chunk, used, total - this.headLen);
    if (this.headLen < total) return null;
    const meta = parseMetadata(this.head.subarray(0, total), this.name);
    this.head = new Uint8Array(0);
    this.headLen = 0;
    this.setMetadata(meta);
    return chunk.subarray(used);
  }

  /** Copies up to `max` bytes of `chunk[from..]` into the head buffer (grown on demand, capped by the caller's `max`). */
  private append(chunk: Uint8Array, from: number, max: number): number {
    const take = Math.max(0, Math.min(max, chunk.length - from));
    const want = this.headLen + take;
    if (want > this.head.length) {
      const grown = new Uint8Array(Math.max(want, Math.min(this.head.length * 2, 80 << 20)));
      grown.set(this.head.subarray(0, this.headLen));
      this.head = grown;
    }
    this.head.set(chunk.subarray(from, from + take), this.headLen);
    this.headLen += take;
    return take;
  }

  /** Decides between DBN metadata and a fragment from the first >= 8 bytes. True = metadata. */
  private detect(b: Uint8Array): boolean {
    if (b[0] === 0x44 && b[1] === 0x42 && b[2] === 0x4e) {
      parsePrelude(b, this.name); // validates version and length early
      this.phase = PH_META;
      return true;
    }
    if (looksLikeDbz(b)) throw dbzError(this.name);
    const lenWord = b[0]!;
    const rtype = b[1]!;
    const size = lenWord * 4;
    let version: 1 | 2 | 3 | null = this.opts.fragmentVersion ?? null;
    if (version === null) {
      const sizes = FRAGMENT_SIZES[rtype] ?? [BASE_SIZES.find(([r]) => r === rtype)?.[1]];
      if (!sizes.includes(size)) {
        throw this.err(
          0,
          'DBN magic "DBN" (44 42 4E), a zstd frame, or a record fragment starting with a known record header',
          hexBytes(b, 0, 8),
        );
      }
      if (rtype === 0x13) version = DEF_SIZE_VERSION[size]!;
    }
    this.version = version;
    this.fragment = true;
    this.setMetadata(null);
    return false;
  }

  private setMetadata(meta: DbnMetadata | null): void {
    this.metadata = meta;
    if (meta) this.version = meta.version;
    this.tsOut = meta?.tsOut ?? false;
    const extra = this.tsOut ? 8 : 0;
    for (const [r, s] of BASE_SIZES) this.minLen[r] = s + extra;
    this.phase = PH_RECORDS;
    this.headerDone = true;
    if (meta) this.sink.onMetadata?.(meta);
  }

  private async run(v: DataView, u8: Uint8Array, w: Uint32Array | null, off: number, end: number, base: number): Promise<number> {
    for (;;) {
      off = this.scan(v, u8, w, off, end, base);
      const f = this.pendingFlush;
      if (f === FLUSH_NONE) return off;
      this.pendingFlush = FLUSH_NONE;
      if (f === FLUSH_TRADES) await this.flushTrades();
      else await this.flushMbp1();
    }
  }

  /** Hands the trades batch to the sink, then moves on to the next batch of the ring. */
  private async flushTrades(): Promise<void> {
    const b = this.trades!;
    if (b.length === 0) return;
    const r = this.sink.onTrades!(b);
    if (r) await r;
    const ring = this.tradeRing;
    const next = ring.length === 1 ? b : ring[(this.tradeTurn = (this.tradeTurn + 1) % ring.length)]!;
    next.length = 0;
    this.trades = next;
  }

  private async flushMbp1(): Promise<void> {
    const b = this.mbp1!;
    if (b.length === 0) return;
    const r = this.sink.onMbp1!(b);
    if (r) await r;
    const ring = this.mbp1Ring;
    const next = ring.length === 1 ? b : ring[(this.mbp1Turn = (this.mbp1Turn + 1) % ring.length)]!;
    next.length = 0;
    this.mbp1 = next;
  }

  /** Decodes complete records in [off, end); stops early when a batch must be flushed. */
  private scan(v: DataView, u8: Uint8Array, w: Uint32Array | null, off: number, end: number, base: number): number {
    const counts = this.counts;
    const minLen = this.minLen;
    const trades = this.trades;
    const mbp1 = this.mbp1;
    const k = this.k;
    const onRecord = this.sink.onRecord;
    while (off < end) {
      const lenWord = u8[off]!;
      const len = lenWord * 4;
      if (len < 16) throw this.err(base + off, 'a record length of at least 16 bytes (length byte >= 4)', `length byte ${lenWord}`);
      if (off + len > end) break;
      const rtype = u8[off + 1]!;
      const min = minLen[rtype]!;
      if (min === 0) {
        this.skippedUnknown++;
        counts[rtype] = counts[rtype]! + 1;
        off += len;
        continue;
      }
      if (len < min)
        throw this.err(
          base + off,
          `at least ${min} bytes for a ${rtypeName(rtype)} record (rtype ${rtype})`,
          `${len} bytes (length byte ${lenWord})`,
        );
      const runEnd = onRecord ? off + len : end;
      if (rtype === 0 && trades) {
        if (mbp1 && mbp1.length > 0) {
          this.pendingFlush = FLUSH_MBP1; // keep batches in stream order
          return off;
        }
        if (onRecord) onRecord(decodeRecord(v, u8, off, len, this.tsOut));
        const stop =
          k !== null
            ? k.fillTrades(trades, off, runEnd, lenWord, 0, this.full)
            : w !== null && (off & 3) === 0
              ? fillTradeRunAligned(w, off >>> 2, runEnd >>> 2, trades, lenWord, 0) * 4
              : fillTradeRun(v, u8, off, runEnd, trades, lenWord, 0);
        counts[0] = counts[0]! + (stop - off) / len;
        off = stop;
        if (trades.length === trades.capacity) {
          this.pendingFlush = FLUSH_TRADES;
          return off;
        }
        continue;
      }
      if (rtype === 1 && mbp1) {
        if (trades && trades.length > 0) {
          this.pendingFlush = FLUSH_TRADES;
          return off;
        }
        if (onRecord) onRecord(decodeRecord(v, u8, off, len, this.tsOut));
        const stop =
          k !== null
            ? k.fillMbp1(mbp1, off, runEnd, lenWord, this.full)
            : w !== null && (off & 3) === 0
              ? fillMbp1RunAligned(w, off >>> 2, runEnd >>> 2, mbp1, lenWord) * 4
              : fillMbp1Run(v, u8, off, runEnd, mbp1, lenWord);
        counts[1] = counts[1]! + (stop - off) / len;
        off = stop;
        if (mbp1.length === mbp1.capacity) {
          this.pendingFlush = FLUSH_MBP1;
          return off;
        }
        continue;
      }
      if (onRecord) onRecord(decodeRecord(v, u8, off, len, this.tsOut));
      counts[rtype] = counts[rtype]! + 1;
      off += len;
    }
    return off;
  }

  /** Ends the stream: checks nothing is cut short and flushes the last batches. */
  async finish(compressedBytes: number, compression: 'zstd' | 'none'): Promise<DecodeSummary> {
    if (this.phase === PH_START) {
      if (this.headLen === 0) throw this.err(0, 'DBN magic "DBN" or a zstd frame', 'empty input');
      const b = this.head.subarray(0, this.headLen);
      if (b[0] === 0x44 && b[1] === 0x42 && b[2] === 0x4e) {
        throw this.err(this.headLen, 'the 8-byte DBN prelude ("DBN", version, length)', `end of input after ${this.headLen} bytes`);
      }
      throw this.err(0, 'DBN magic "DBN" (44 42 4E), a zstd frame, or a record fragment', `${this.headLen} bytes: ${hexBytes(b, 0, 8)}`);
    }
    if (this.phase === PH_META) {
      const { length } = parsePrelude(this.head, this.name);
      throw this.err(
        this.headLen,
        `metadata of ${length} bytes (ending at byte ${PRELUDE_LENGTH + length})`,
        `end of input after ${this.headLen} bytes`,
      );
    }
    if (this.carryLen > 0) {
      const lenWord = this.carry[this.carryAt]!;
      throw this.err(
        this.pos - this.carryLen,
        `${lenWord * 4} bytes for a ${rtypeName(this.carryLen > 1 ? this.carry[this.carryAt + 1]! : -1)} record (length byte ${lenWord})`,
        `${this.carryLen} bytes before the end of input (truncated)`,
      );
    }
    if (this.trades) await this.flushTrades();
    if (this.mbp1) await this.flushMbp1();
    const recordCounts: Record<number, number> = {};
    let records = 0;
    for (let r = 0; r < 256; r++) {
      const n = this.counts[r]!;
      if (n > 0) {
        recordCounts[r] = n;
        records += n;
      }
    }
    return {
      metadata: this.metadata,
      recordCounts,
      records,
      skippedUnknown: this.skippedUnknown,
      bytes: this.pos,
      compressedBytes,
      version: this.version,
      fragment: this.fragment,
      compression,
    };
  }
}
