/**
 * The WebAssembly fill kernel (kernel/fill.wat): decodes runs of trade / mbp-1 records into
 * columns about 2x faster than the JS loops in columnar.ts (no bounds check per typed-array
 * access, one i64 load per timestamp, f64.convert_i64_s for prices).
 *
 * Records and columns share one linear memory per decoder, laid out once (it never grows, so
 * views stay valid): descriptors, the carry record, a staging area for bytes that arrive in
 * foreign buffers, input slots that file reads and zstd write into directly, then the column
 * sets. The batches handed to consumers are typed-array views into this memory.
 */
import type { Mbp1Columns, TradeColumns } from './columns.ts';
import { LITTLE_ENDIAN } from './columnar.ts';
import { WASM_BASE64 } from './kernel/fillWasm.ts';

interface FillExports {
  fillTrades(src: number, end: number, n: number, cap: number, head: number, len: number, desc: number, full: number): number;
  fillMbp1(src: number, end: number, n: number, cap: number, head: number, len: number, desc: number, full: number): number;
}

export interface KernelLayout {
  /** Rows per column set. */
  capacity: number;
  tradeSets: number;
  mbp1Sets: number;
  /** Input region: raw file reads and zstd output land here (no copy), cut into slots on request. */
  inputBytes: number;
}

const PAGE = 65536;
/** wasm32 with V8's default limit: 65536 pages (4 GiB). */
const MAX_PAGES = 65536;
const DESC_BYTES = 18 * 4;
const MAX_SETS = 48;
/** A record is at most 255 words (1020 bytes). */
const CARRY_AT = MAX_SETS * DESC_BYTES;
const CARRY_BYTES = 1024;
const STAGE_AT = Math.ceil((CARRY_AT + CARRY_BYTES) / 4096) * 4096;
/** Foreign bytes are copied in L2-sized pieces and decoded from there. */
export const STAGE_BYTES = 256 * 1024;

const TRADE_ROW_BYTES = 8 + 8 + 8 + 4 * 4 + 2 + 4;
const MBP1_ROW_BYTES = TRADE_ROW_BYTES + 8 + 8 + 4 * 4;

/** The slice of the WebAssembly JS API used here (the engine's type libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly cannot run (e.g. node --jitless) or the host is big-endian. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = LITTLE_ENDIAN && wasmApi !== undefined ? new wasmApi.Module(Buffer.from(WASM_BASE64, 'base64')) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled ?? null;
}

/** Which fill kernel decoders use by default: BTNB_DBN_KERNEL=js|wasm overrides (benchmarks, tests). */
export function defaultKernel(env = process.env): 'wasm' | 'js' {
  const v = env.BTNB_DBN_KERNEL;
  if (v === 'js') return 'js';
  return kernelModule() !== null ? 'wasm' : 'js';
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

export class FillKernel {
  readonly memory: WasmMemory;
  readonly u8: Uint8Array;
  readonly view: DataView;
  /** The carry record's bytes: [carryAt, carryAt + carryBytes), clear of the descriptors and the staging area. */
  readonly carryAt = CARRY_AT;
  readonly carryBytes = CARRY_BYTES;
  readonly stageAt = STAGE_AT;
  readonly stageBytes = STAGE_BYTES;
  private readonly inputAt: number;
  private readonly inputBytes: number;
  readonly tradeSets: TradeColumns[] = [];
  readonly mbp1Sets: Mbp1Columns[] = [];
  private readonly exports: FillExports;
  /** Per column set: its descriptor address and the arrays it was laid out with. */
  private readonly desc = new Map<TradeColumns, { at: number; price: Float64Array; tsRecv: Uint32Array; side: Uint8Array }>();

  /** Throws (RangeError) when the layout does not fit in 4 GiB or WebAssembly is unavailable. */
  constructor(layout: KernelLayout) {
    const mod = kernelModule();
    if (mod === null) throw new RangeError('WebAssembly fill kernel unavailable on this runtime');
    const { capacity: cap, tradeSets, mbp1Sets } = layout;
    if (tradeSets + mbp1Sets > MAX_SETS) throw new RangeError(`at most ${MAX_SETS} column sets, got ${tradeSets + mbp1Sets}`);
    let at = align(STAGE_AT + STAGE_BYTES, 64);
    this.inputAt = at;
    this.inputBytes = layout.inputBytes;
    at = align(at + layout.inputBytes, 64);
    const setsAt = at;
    const tradeBytes = align(cap * TRADE_ROW_BYTES, 64);
    const mbp1Bytes = align(cap * MBP1_ROW_BYTES, 64);
    at += tradeSets * tradeBytes + mbp1Sets * mbp1Bytes;
    const pages = Math.ceil(at / PAGE);
    if (pages > MAX_PAGES) throw new RangeError(`decoder memory of ${at} bytes exceeds 4 GiB`);
    this.memory = new wasmApi!.Memory({ initial: pages, maximum: pages });
    this.exports = new wasmApi!.Instance(mod, { env: { memory: this.memory } }).exports as FillExports;
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.view = new DataView(buf);
    at = setsAt;
    let d = 0;
    for (let i = 0; i < tradeSets; i++, at += tradeBytes) this.tradeSets.push(this.layOut(at, cap, false, d++ * DESC_BYTES));
    for (let i = 0; i < mbp1Sets; i++, at += mbp1Bytes) this.mbp1Sets.push(this.layOut(at, cap, true, d++ * DESC_BYTES) as Mbp1Columns);
  }

  /** `count` slots of `bytes` each in the input region (each call hands out the same region), or null if it is too small. */
  inputSlots(count: number, bytes: number): Uint8Array[] | null {
    const stride = align(bytes, 64);
    if (count * stride > this.inputBytes) return null;
    return Array.from({ length: count }, (_, i) => new Uint8Array(this.memory.buffer, this.inputAt + i * stride, bytes));
  }

  /** Column views for one set at `at`: 8-byte columns first, so every view is aligned. */
  private layOut(at: number, cap: number, mbp1: boolean, descAt: number): TradeColumns | Mbp1Columns {
    const buf = this.memory.buffer;
    let p = at;
    const take = (bytes: number) => {
      const a = p;
      p += bytes * cap;
      return a;
    };
    const tsE = take(8);
    const tsR = take(8);
    const price = take(8);
    const bidPx = mbp1 ? take(8) : 0;
    const askPx = mbp1 ? take(8) : 0;
    const inst = take(4);
    const size = take(4);
    const tid = take(4);
    const seq = take(4);
    const bidSz = mbp1 ? take(4) : 0;
    const askSz = mbp1 ? take(4) : 0;
    const bidCt = mbp1 ? take(4) : 0;
    const askCt = mbp1 ? take(4) : 0;
    const pub = take(2);
    const act = take(1);
    const side = take(1);
    const fl = take(1);
    const dep = take(1);
    const addrs = [pub, inst, tsE, tsR, price, size, act, side, fl, dep, tid, seq, bidPx, askPx, bidSz, askSz, bidCt, askCt];
    new Uint32Array(buf, descAt, mbp1 ? 18 : 12).set(addrs.slice(0, mbp1 ? 18 : 12));
    const t: TradeColumns = {
      length: 0,
      capacity: cap,
      publisherId: new Uint16Array(buf, pub, cap),
      instrumentId: new Uint32Array(buf, inst, cap),
      tsEvent: new BigUint64Array(buf, tsE, cap),
      tsEventU32: new Uint32Array(buf, tsE, 2 * cap),
      tsRecv: new BigUint64Array(buf, tsR, cap),
      tsRecvU32: new Uint32Array(buf, tsR, 2 * cap),
      price: new Float64Array(buf, price, cap),
      size: new Uint32Array(buf, size, cap),
      action: new Uint8Array(buf, act, cap),
      side: new Uint8Array(buf, side, cap),
      flags: new Uint8Array(buf, fl, cap),
      depth: new Uint8Array(buf, dep, cap),
      tsInDelta: new Int32Array(buf, tid, cap),
      sequence: new Uint32Array(buf, seq, cap),
    };
    const set: TradeColumns | Mbp1Columns = mbp1
      ? {
          ...t,
          bidPx: new Float64Array(buf, bidPx, cap),
          askPx: new Float64Array(buf, askPx, cap),
          bidSz: new Uint32Array(buf, bidSz, cap),
          askSz: new Uint32Array(buf, askSz, cap),
          bidCt: new Uint32Array(buf, bidCt, cap),
          askCt: new Uint32Array(buf, askCt, cap),
        }
      : t;
    this.desc.set(set, { at: descAt, price: set.price, tsRecv: set.tsRecvU32, side: set.side });
    return set;
  }

  private descOf(b: TradeColumns): number {
    const d = this.desc.get(b);
    // The kernel writes at the addresses laid out above: a batch whose arrays were swapped out
    // would silently receive nothing. Consumers keep batches (DecodeOptions.batchRing) instead.
    if (d === undefined || d.price !== b.price || d.tsRecv !== b.tsRecvU32 || d.side !== b.side) {
      throw new Error('internal: a decoder batch was not laid out by this kernel or its column arrays were replaced');
    }
    return d.at;
  }

  /**
   * Appends the run of `rtype` records of `lenWord` words at memory address `off` (up to `end`)
   * to `b`; every column when `full`, else the bar columns. Returns the address after the run.
   */
  fillTrades(b: TradeColumns, off: number, end: number, lenWord: number, rtype: number, full: boolean): number {
    const n0 = b.length;
    const n = this.exports.fillTrades(off, end, n0, b.capacity, lenWord | (rtype << 8), lenWord * 4, this.descOf(b), full ? 1 : 0);
    b.length = n;
    return off + (n - n0) * lenWord * 4;
  }

  fillMbp1(b: Mbp1Columns, off: number, end: number, lenWord: number, full: boolean): number {
    const n0 = b.length;
    const n = this.exports.fillMbp1(off, end, n0, b.capacity, lenWord | (1 << 8), lenWord * 4, this.descOf(b), full ? 1 : 0);
    b.length = n;
    return off + (n - n0) * lenWord * 4;
  }
}
