/**
 * Streaming zstd decompression with bounded memory: Node's built-in zstd (node:zlib, Node ≥ 22.15;
 * every runtime btnb supports, VS Code's included). Concatenated frames, frames without a content
 * size and skippable frames are handled via ZstdFrameSplitter. (The pure-JS `fzstd` fallback is
 * gone: the chaos fuzz found a corrupt FSE table that sent it into an endless loop,
 * test/fixtures/fuzz/fzstd-fse-table-hang.dbn.)
 */
import * as zlib from 'node:zlib';
import { DbnError } from './errors.ts';
import { ZstdFrameSplitter, type FrameSegment } from './zstdFrames.ts';
import { zstdBinding, ZstdRing } from './zstdRing.ts';

/** 'native' = built-in zstd into owned buffers (zstdRing.ts), or through its public stream
 *  ('native-stream', also the fallback when the binding is not reachable). */
export type ZstdImpl = 'native' | 'native-stream';

export function nativeZstdAvailable(): boolean {
  return typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
}

/** The implementation used by default: the owned-buffer ring (measured faster: bench/decode.ts). */
export function defaultZstdImpl(): ZstdImpl {
  return process.env.BTNB_ZSTD === 'native-stream' ? 'native-stream' : 'native';
}

/** Native output chunk size, and the decompressed bytes allowed to wait for the decoder. */
const NATIVE_CHUNK = Number(process.env.BTNB_ZSTD_CHUNK) || 256 * 1024;
const QUEUE_HIGH = 4 * NATIVE_CHUNK;
/** Owned output ring (native): slot size and count. The pool thread can run RING_SLOTS - 1 slots ahead. */
const RING_SLOT = Number(process.env.BTNB_ZSTD_SLOT) || 1024 * 1024;
const RING_SLOTS = 4;

/** `count` buffers of `bytes` each for the ring's output, or null to let the ring allocate. */
export type OutputSlots = (count: number, bytes: number) => Uint8Array[] | null;

/** Decompresses a zstd byte stream; `compressedBytes`/`decompressedBytes` are kept current. */
export class ZstdStream {
  compressedBytes = 0;
  decompressedBytes = 0;
  readonly impl: ZstdImpl;
  private readonly name: string;
  private readonly splitter: ZstdFrameSplitter;

  private readonly ringSlot: number;
  private readonly outputSlots: OutputSlots | null;

  /**
   * `ringSlot`: output buffer size of the native ring (tests use small ones to cross slot
   * boundaries). `outputSlots`: where the ring may write instead of buffers of its own (the
   * decoder's kernel memory, so decompressed bytes are decoded where they land).
   */
  constructor(name: string, impl: ZstdImpl = defaultZstdImpl(), ringSlot = RING_SLOT, outputSlots: OutputSlots | null = null) {
    if (!nativeZstdAvailable())
      throw new DbnError(
        name,
        0,
        'a Node runtime with built-in zstd (node:zlib, Node >= 22.15)',
        `Node ${process.version}; decompress the file first (zstd -d)`,
      );
    this.name = name;
    this.impl = impl;
    this.ringSlot = ringSlot;
    this.outputSlots = outputSlots;
    this.splitter = new ZstdFrameSplitter(name);
  }

  private corrupt(err: unknown): DbnError {
    if (err instanceof DbnError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new DbnError(
      this.name,
      this.decompressedBytes,
      `a valid zstd stream (compressed byte ~${this.splitter.pos})`,
      `decompression error: ${msg}`,
    );
  }

  private truncated(): DbnError {
    return new DbnError(
      this.name,
      this.decompressedBytes,
      `the rest of the zstd frame (compressed stream ended at byte ${this.splitter.pos} inside frame ${this.splitter.frames + 1})`,
      'end of input',
    );
  }

  async *decompress(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const b = this.impl === 'native' ? zstdBinding() : null;
    if (b !== null) yield* this.ring(source, b);
    else yield* this.native(source);
  }

  /** Frame slices of `chunk`. A framing error is raised only after the slices before it were
   *  decompressed, so its offset is the exact decompressed position. */
  private *split(chunk: Uint8Array): Generator<FrameSegment> {
    const segs: FrameSegment[] = [];
    this.compressedBytes += chunk.length;
    let failure: DbnError | null = null;
    try {
      this.splitter.push(chunk, segs);
    } catch (e) {
      if (!(e instanceof DbnError)) throw e;
      failure = e;
    }
    yield* segs;
    if (failure) throw new DbnError(this.name, this.decompressedBytes, failure.expected, failure.found);
  }

  /**
   * The slices of `chunk` joined per frame: the splitter cuts at every block header (~40
   * slices per 4 MiB of input), and one zlib write + callback round trip per slice left the
   * pool thread idle between them (throughput halved). A framing error is re-raised after the
   * joined bytes before it were consumed, so its offset stays the exact decompressed position.
   */
  private *joined(chunk: Uint8Array): Generator<FrameSegment> {
    let parts: Uint8Array[] = [];
    let len = 0;
    const take = (frameEnd: boolean): FrameSegment => {
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, len);
      parts = [];
      len = 0;
      return { bytes, frameEnd };
    };
    let failure: DbnError | null = null;
    try {
      for (const seg of this.split(chunk)) {
        parts.push(seg.bytes);
        len += seg.bytes.length;
        if (seg.frameEnd) yield take(true);
      }
    } catch (e) {
      if (!(e instanceof DbnError)) throw e;
      failure = e;
    }
    if (parts.length > 0) yield take(false);
    if (failure) throw new DbnError(this.name, this.decompressedBytes, failure.expected, failure.found);
  }

  /**
   * Built-in zstd into a ring of owned buffers: each yielded buffer is reused once the consumer
   * asks for the next one. Input is fed before filled output is handed on, so the pool thread
   * keeps decompressing while the consumer works; the first output goes out as soon as the
   * first (small) read is decompressed, so readMetadata stops early. A framing error is raised
   * after all output before it was handed on: its offset is the exact decompressed position.
   */
  private async *ring(source: AsyncIterable<Uint8Array>, b: NonNullable<ReturnType<typeof zstdBinding>>): AsyncGenerator<Uint8Array> {
    let wake: (() => void) | null = null;
    const ring = new ZstdRing(
      b,
      this.ringSlot,
      RING_SLOTS,
      () => {
        const w = wake;
        wake = null;
        w?.();
      },
      this.outputSlots?.(RING_SLOTS, this.ringSlot) ?? null,
    );
    const it = source[Symbol.asyncIterator]();
    let segs: Iterator<FrameSegment> | null = null;
    let frameEnd = false;
    let inputDone = false;
    let yielded = false;
    let failure: DbnError | null = null;
    try {
      for (;;) {
        if (ring.error) throw this.corrupt(ring.error);
        if (ring.ready.length > 0 && (!yielded || !ring.needsInput || inputDone)) {
          const out = ring.ready.shift()!;
          this.decompressedBytes += out.length;
          yielded = true;
          yield out;
          ring.release(out);
          continue;
        }
        if (ring.needsInput && !inputDone) {
          if (frameEnd) {
            ring.endFrame();
            frameEnd = false;
          }
          let seg: IteratorResult<FrameSegment> | null = null;
          try {
            seg = segs?.next() ?? null;
          } catch (e) {
            if (!(e instanceof DbnError)) throw e;
            failure = e;
            inputDone = true;
            continue;
          }
          if (seg !== null && !seg.done) {
            frameEnd = seg.value.frameEnd;
            ring.feed(seg.value.bytes);
            continue;
          }
          if (!yielded) {
            ring.flush();
            if (ring.ready.length > 0) continue;
          }
          const next = await it.next();
          if (next.done) inputDone = true;
          else segs = this.split(next.value); // views of the chunk: no joining needed, the ring writes each
          continue;
        }
        if (inputDone && ring.needsInput) {
          ring.flush();
          if (ring.ready.length > 0) continue;
          if (failure) throw new DbnError(this.name, this.decompressedBytes, failure.expected, failure.found);
          if (!this.splitter.atFrameBoundary) throw this.truncated();
          return;
        }
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      ring.close();
      await it.return?.();
    }
  }

  /**
   * One zlib decompressor per frame (Node's stops at the end of a frame). Output arrives as
   * 'data' events into a small queue; above QUEUE_HIGH the decompressor is paused, so memory
   * stays bounded while the pool thread can decompress ahead of the decoder.
   */
  private async *native(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let d: zlib.ZstdDecompress | null = null;
    let wake: (() => void) | null = null;
    let error: unknown = null;
    let ended = false;
    const queue: Buffer[] = [];
    let queued = 0;
    const notify = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    const open = (): zlib.ZstdDecompress => {
      const z = zlib.createZstdDecompress({ chunkSize: NATIVE_CHUNK, readableHighWaterMark: NATIVE_CHUNK * 2 } as zlib.ZstdOptions);
      ended = false;
      z.on('data', (c: Buffer) => {
        queue.push(c);
        queued += c.length;
        if (queued >= QUEUE_HIGH) z.pause();
        notify();
      });
      z.on('end', () => {
        ended = true;
        notify();
      });
      z.on('error', (e) => {
        error = e;
        notify();
      });
      return z;
    };
    try {
      for await (const chunk of source) {
        for (const seg of this.joined(chunk)) {
          d ??= open();
          let written = false;
          d.write(seg.bytes, () => {
            written = true;
            notify();
          });
          if (seg.frameEnd) d.end();
          for (;;) {
            while (queue.length > 0) {
              const out = queue.shift()!;
              queued -= out.length;
              this.decompressedBytes += out.length;
              yield out;
            }
            if (error) throw this.corrupt(error);
            if (seg.frameEnd ? ended : written) break;
            if (d.isPaused()) d.resume();
            await new Promise<void>((r) => (wake = r));
          }
          if (seg.frameEnd) d = null;
        }
      }
      if (!this.splitter.atFrameBoundary) throw this.truncated();
    } finally {
      if (d) d.destroy();
    }
  }
}
