/**
 * Node's built-in zstd decompressor driven through its binding, writing into a small ring of
 * output buffers owned here. The public stream (zlib.createZstdDecompress) allocates a fresh
 * output Buffer per chunk and runs the Readable machinery per chunk: for the 655 MB bench:ingest
 * input that is thousands of ArrayBuffers to collect and ~0.4 s of main-thread callbacks. Here
 * the pool thread decompresses into a free slot while the consumer reads a filled one, and no
 * memory is allocated per chunk.
 */
import * as zlib from 'node:zlib';

interface ZstdHandle {
  init(params: Uint32Array, pledgedSrcSize: undefined, writeState: Uint32Array, onWritten: () => void, dictionary: undefined): void;
  write(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number, code?: string) => void;
  /** Kept on the handle while a write runs: the handle (not this object) is what the native side keeps alive. */
  inBuf?: Uint8Array | null;
  outBuf?: Uint8Array | null;
}
interface ZlibBinding {
  ZstdDecompress: new () => ZstdHandle;
}

let binding: ZlibBinding | null | undefined;

/** process.binding() warns (DEP0111) only under --pending-deprecation; then the public stream is used instead. */
function pendingDeprecation(): boolean {
  return (
    process.execArgv.includes('--pending-deprecation') ||
    (process.env.NODE_OPTIONS ?? '').includes('--pending-deprecation') ||
    process.env.NODE_PENDING_DEPRECATION === '1'
  );
}

/**
 * Node majors whose internal zstd handle (init/write signatures) this module was written and
 * tested against. The binding is not a public API: under any other runtime (e.g. the Node
 * inside VS Code's Electron) a different signature could abort the process natively, so there
 * the public stream is used — slower, never wrong. BTNB_ZSTD_RING=1 forces the ring (tests).
 */
const RING_NODE_MAJORS: readonly number[] = [24];

export function ringSupported(version = process.versions.node, env = process.env): boolean {
  if (env.BTNB_ZSTD_RING === '1') return true;
  if (env.BTNB_ZSTD_RING === '0') return false;
  return RING_NODE_MAJORS.includes(Number(version.split('.')[0]));
}

/** The zlib binding when this runtime is one the ring supports and it exposes zstd, else null (then the public stream is used). */
export function zstdBinding(): ZlibBinding | null {
  if (binding === undefined) {
    binding = null;
    try {
      const b =
        pendingDeprecation() || !ringSupported()
          ? undefined
          : ((process as { binding?: (name: string) => unknown }).binding?.('zlib') as Partial<ZlibBinding> | undefined);
      if (typeof b?.ZstdDecompress === 'function' && typeof zlib.constants.ZSTD_d_windowLogMax === 'number') binding = b as ZlibBinding;
    } catch {
      // not exposed by this runtime: the stream fallback
    }
  }
  return binding;
}

const ZSTD_E_CONTINUE = 0;
const EMPTY = new Uint8Array(0);
/** Init parameters: one slot per ZSTD_d_* id, all 0xffffffff = "library default" (as node:zlib does). */
function defaultParams(): Uint32Array {
  const ids = Object.entries(zlib.constants)
    .filter(([k]) => k.startsWith('ZSTD_d_'))
    .map(([, v]) => v);
  return new Uint32Array(Math.max(...ids) + 1).fill(0xffffffff);
}

/**
 * One native decompression context and its output ring. The owner feeds input slices
 * (`feed`, each kept unchanged until `needsInput`), takes filled buffers (`take`) and gives
 * each back (`release`) when done with it; `onChange` runs after every native write.
 */
export class ZstdRing {
  /** Filled output, in order, waiting for the consumer. */
  readonly ready: Uint8Array[] = [];
  error: Error | null = null;
  /** Decompressed bytes produced so far. */
  produced = 0;
  private readonly handle: ZstdHandle;
  private readonly state = new Uint32Array(2);
  private readonly free: Uint8Array[] = [];
  private out: Uint8Array | null = null;
  private outOff = 0;
  private input: Uint8Array = EMPTY;
  private inOff = 0;
  private inLen = 0;
  private busy = false;
  private closed = false;
  /** The last write filled its output: the context may hold more, so write again (even without input). */
  private drain = false;
  private readonly onChange: () => void;

  /** Slots are allocated on first need (readMetadata and small files use one), unless given. */
  private readonly slotBytes: number;
  private unallocated: number;
  /** Every slot handed out so far, to map a released view back to its slot. */
  private readonly slots: Uint8Array[] = [];

  /** `given`: the consumer's own output buffers (e.g. in the decoder's kernel memory), used instead of allocating. */
  constructor(b: ZlibBinding, slotBytes: number, slots: number, onChange: () => void, given: Uint8Array[] | null = null) {
    this.slotBytes = slotBytes;
    this.unallocated = given ? 0 : slots;
    if (given) {
      this.free.push(...given.slice().reverse());
      this.slots.push(...given);
    }
    this.onChange = onChange;
    const h = new b.ZstdDecompress();
    h.onerror = (message) => {
      this.busy = false;
      this.error = new Error(message);
      this.onChange();
    };
    h.init(defaultParams(), undefined, this.state, () => this.written(), undefined);
    this.handle = h;
  }

  /** True when the last input was fully consumed and nothing is pending in the context. */
  get needsInput(): boolean {
    return !this.busy && this.inLen === 0 && !this.drain;
  }

  feed(bytes: Uint8Array): void {
    this.input = bytes;
    this.inOff = 0;
    this.inLen = bytes.length;
    this.pump();
  }

  /** After a frame's last byte was consumed: the next frame starts in a clean context. */
  endFrame(): void {
    this.handle.reset();
  }

  /** Moves the partly filled slot to `ready` (end of input, or the first output: readMetadata needs little). */
  flush(): void {
    if (this.out !== null && this.outOff > 0 && !this.busy) {
      this.ready.push(this.out.subarray(0, this.outOff));
      this.out = null;
    }
  }

  /** The consumer is done with a buffer from `ready`: its slot is free again. */
  release(buf: Uint8Array): void {
    const slot = this.slots.find(
      (s) => s.buffer === buf.buffer && buf.byteOffset >= s.byteOffset && buf.byteOffset < s.byteOffset + s.length,
    );
    if (slot === undefined) throw new Error('internal: released a buffer that is not a ring slot');
    this.free.push(slot);
    this.pump();
  }

  close(): void {
    // A write still running keeps the handle (and its buffers) alive; native close waits for it,
    // and no write may start after it (its callback still runs).
    this.closed = true;
    this.handle.close();
  }

  private pump(): void {
    if (this.busy || this.closed || this.error !== null || (this.inLen === 0 && !this.drain)) return;
    if (this.out === null) {
      let slot = this.free.pop();
      if (slot === undefined && this.unallocated > 0) {
        this.unallocated--;
        slot = new Uint8Array(this.slotBytes);
        this.slots.push(slot);
      }
      if (slot === undefined) return;
      this.out = slot;
      this.outOff = 0;
    }
    this.busy = true;
    const h = this.handle;
    h.inBuf = this.input;
    h.outBuf = this.out;
    h.write(ZSTD_E_CONTINUE, this.input, this.inOff, this.inLen, this.out, this.outOff, this.out.length - this.outOff);
  }

  private written(): void {
    this.busy = false;
    const out = this.out!;
    const availOut = this.state[0]!;
    const availIn = this.state[1]!;
    const used = this.inLen - availIn;
    const have = out.length - this.outOff - availOut;
    this.inOff += used;
    this.inLen = availIn;
    this.outOff += have;
    this.produced += have;
    this.drain = availOut === 0;
    if (availOut === 0) {
      this.ready.push(out);
      this.out = null;
    } else if (used === 0 && have === 0 && this.inLen > 0) {
      this.error = new Error('the decompressor stopped consuming input');
    }
    if (this.inLen === 0) {
      this.input = EMPTY;
      this.inOff = 0;
    }
    this.handle.inBuf = null;
    this.handle.outBuf = null;
    this.pump();
    this.onChange();
  }
}
