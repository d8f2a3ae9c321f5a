/**
 * The one zstd frame walker (RFC 8878: frame header, 3-byte block headers, optional 4-byte
 * checksum, skippable frames), without decompressing. Two thin callers: the DBN decoder splits a
 * compressed stream into per-frame slices for a fresh decompressor each (Node's streaming zstd
 * stops after the first frame; skippable frames are dropped), and the Databento download
 * (databento/zstdFrames.ts) proves a body ends exactly on a frame boundary. Garbage (bad magic,
 * reserved block type, oversized block or window) fails here early, through the caller's error.
 */
import { DbnError, hexBytes } from './errors.ts';

const MAGIC_BYTES = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd]);
/** Block_Maximum_Size is min(window, 128 KiB). */
const MAX_BLOCK = 128 * 1024;
/** Largest window accepted: zstd's own default decoder limit (windowLogMax 27). Databento uses <= 2 MiB. */
export const MAX_WINDOW = 128 * 1024 * 1024;

const S_MAGIC = 0;
const S_SKIP_SIZE = 1;
const S_SKIP_DATA = 2;
const S_FHD = 3;
const S_FH_REST = 4;
const S_BLOCK_HDR = 5;
const S_BLOCK_DATA = 6;
const S_CHECKSUM = 7;

/** A slice for the decompressor; `frameEnd` marks the last bytes of a frame. */
export interface FrameSegment {
  bytes: Uint8Array;
  frameEnd: boolean;
}

export function isZstdMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}

export function isSkippableMagic(b: Uint8Array): boolean {
  return b.length >= 4 && (b[0]! & 0xf0) === 0x50 && b[1] === 0x2a && b[2] === 0x4d && b[3] === 0x18;
}

/** Appends a slice, merged into the previous one when it continues it in the same buffer. */
function emit(out: FrameSegment[], bytes: Uint8Array, frameEnd: boolean): void {
  const last = out.length > 0 ? out[out.length - 1]! : null;
  if (
    last !== null &&
    !last.frameEnd &&
    last.bytes.buffer === bytes.buffer &&
    last.bytes.byteOffset + last.bytes.length === bytes.byteOffset
  ) {
    last.bytes = new Uint8Array(bytes.buffer, last.bytes.byteOffset, last.bytes.length + bytes.length);
    last.frameEnd = frameEnd;
    return;
  }
  out.push({ bytes, frameEnd });
}

/** Builds the caller's error for a structural problem at compressed byte `pos`. */
export type ZstdErrorFactory = (pos: number, expected: string, found: string) => Error;

export class ZstdFrameSplitter {
  /** Compressed bytes consumed so far. */
  pos = 0;
  /** Complete frames seen (skippable frames excluded). */
  frames = 0;
  /** Sum of the frames' declared content sizes; null once a frame did not declare one. */
  contentSize: bigint | null = 0n;
  private state = S_MAGIC;
  private need = 4;
  private readonly hdr = new Uint8Array(16);
  private hdrLen = 0;
  private lastBlock = false;
  private checksum = false;
  private fhd = 0;
  /** Frame header bytes (magic, descriptor, rest): handed on only once validated. */
  private readonly frameHeader = new Uint8Array(4 + 1 + 1 + 4 + 8);
  private frameHeaderLen = 0;
  /** Stream positions where the current frame and the current header began, and where the chunk being split began. */
  private frameStartPos = 0;
  private hdrStartPos = 0;
  private chunkStartPos = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private readonly name: string;
  private readonly error: ZstdErrorFactory | null;
  /** Decompressed offset, for error messages; the caller keeps it current. */
  decompressedOffset = 0;

  /** `name` labels errors; without `error` they are DbnErrors at the decompressed offset. */
  constructor(name: string, error?: ZstdErrorFactory) {
    this.name = name;
    this.error = error ?? null;
  }

  private fail(expected: string, found: string, at = this.pos): never {
    if (this.error) throw this.error(at, expected, found);
    throw new DbnError(this.name, this.decompressedOffset, `${expected} (zstd, compressed byte ${at})`, found);
  }

  /** True when everything fed so far forms whole frames (and at least one). */
  get complete(): boolean {
    return this.atFrameBoundary && this.frames > 0;
  }

  /** Fails unless the input ended on a frame boundary, saying what was cut. */
  finish(): void {
    if (this.complete) return;
    const what = this.frames === 0 && this.pos === 0 ? 'a zstd frame' : `more of zstd frame ${this.frames + 1} (${this.describeState()})`;
    this.fail(what, 'end of stream');
  }

  private describeState(): string {
    switch (this.state) {
      case S_MAGIC:
        return 'frame magic';
      case S_FHD:
      case S_FH_REST:
        return 'frame header';
      case S_BLOCK_HDR:
        return 'block header';
      case S_SKIP_SIZE:
        return 'skippable frame size';
      default:
        return `${this.need} more bytes of block data or checksum`;
    }
  }

  /**
   * Splits `chunk`, appending decompressor slices to `out`. Slices are views of `chunk` where
   * possible (a header cut by a chunk boundary is a copy), and adjacent views are merged: a
   * chunk inside one frame comes out as one slice, with no copy.
   */
  push(chunk: Uint8Array, out: FrameSegment[] | null = null): void {
    let i = 0;
    const n = chunk.length;
    this.chunk = chunk;
    this.chunkStartPos = this.pos;
    while (i < n) {
      const st = this.state;
      if (st === S_SKIP_DATA || st === S_BLOCK_DATA || st === S_CHECKSUM) {
        const take = Math.min(this.need, n - i);
        const endOfState = take === this.need;
        if (st !== S_SKIP_DATA && out !== null) {
          const frameEnd = endOfState && (st === S_CHECKSUM || (st === S_BLOCK_DATA && this.lastBlock && !this.checksum));
          emit(out, chunk.subarray(i, i + take), frameEnd);
        }
        i += take;
        this.pos += take;
        this.need -= take;
        if (endOfState) this.afterData(st);
        continue;
      }
      // header states: collect `need` bytes into hdr
      const take = Math.min(this.need, n - i);
      if (this.hdrLen === 0) {
        this.hdrStartPos = this.pos;
        if (st === S_MAGIC) this.frameStartPos = this.pos;
      }
      this.hdr.set(chunk.subarray(i, i + take), this.hdrLen);
      this.hdrLen += take;
      this.need -= take;
      i += take;
      this.pos += take;
      if (this.need === 0) this.afterHeader(out);
    }
  }

  /** The input bytes from stream position `from` to the current position: a view of the chunk when they all lie in it, else `copy`. */
  private bytesSince(from: number, copy: () => Uint8Array): Uint8Array {
    if (from < this.chunkStartPos) return copy();
    const end = this.pos - this.chunkStartPos;
    return this.chunk.subarray(end - (this.pos - from), end);
  }

  private afterData(st: number): void {
    if (st === S_SKIP_DATA) return this.expect(S_MAGIC, 4); // a skippable frame is not counted
    if (st === S_CHECKSUM) return this.nextFrame();
    if (!this.lastBlock) return this.expect(S_BLOCK_HDR, 3);
    if (this.checksum) return this.expect(S_CHECKSUM, 4);
    this.nextFrame();
  }

  private nextFrame(): void {
    this.frames++;
    this.expect(S_MAGIC, 4);
  }

  private expect(state: number, need: number): void {
    this.state = state;
    this.need = need;
    this.hdrLen = 0;
  }

  private afterHeader(out: FrameSegment[] | null): void {
    const h = this.hdr;
    switch (this.state) {
      case S_MAGIC: {
        if (isZstdMagic(h)) {
          this.frameHeader.set(MAGIC_BYTES, 0);
          this.frameHeaderLen = 4;
          return this.expect(S_FHD, 1);
        }
        if (isSkippableMagic(h)) return this.expect(S_SKIP_SIZE, 4);
        return this.fail('a zstd frame magic (28 b5 2f fd)', hexBytes(h, 0, 4), this.pos - 4);
      }
      case S_SKIP_SIZE: {
        const size = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
        if (size === 0) return this.expect(S_MAGIC, 4);
        return this.expect(S_SKIP_DATA, size);
      }
      case S_FHD: {
        const fhd = h[0]!;
        if (fhd & 0x08) this.fail('a zstd frame header descriptor with the reserved bit clear', `0x${fhd.toString(16)}`);
        this.fhd = fhd;
        const fcsFlag = fhd >> 6;
        const single = (fhd >> 5) & 1;
        this.checksum = ((fhd >> 2) & 1) === 1;
        const did = fhd & 3;
        const rest = (single ? 0 : 1) + [0, 1, 2, 4][did]! + (fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!);
        this.frameHeader[this.frameHeaderLen++] = fhd;
        if (rest === 0) {
          if (out !== null)
            emit(
              out,
              this.bytesSince(this.frameStartPos, () => this.frameHeader.slice(0, this.frameHeaderLen)),
              false,
            );
          return this.expect(S_BLOCK_HDR, 3);
        }
        return this.expect(S_FH_REST, rest);
      }
      case S_FH_REST: {
        // Bound the decoder's window allocation before any decompressor sees the frame.
        const fhd = this.fhd;
        const single = (fhd >> 5) & 1;
        let window: number;
        if (!single) {
          const wd = h[0]!;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        } else {
          const at = [0, 1, 2, 4][fhd & 3]!;
          const fcsFlag = fhd >> 6;
          window =
            fcsFlag === 0
              ? h[at]!
              : fcsFlag === 1
                ? (h[at]! | (h[at + 1]! << 8)) + 256
                : fcsFlag === 2
                  ? (h[at]! | (h[at + 1]! << 8) | (h[at + 2]! << 16)) + h[at + 3]! * 2 ** 24
                  : (h[at]! | (h[at + 1]! << 8) | (h[at + 2]! << 16)) +
                    h[at + 3]! * 2 ** 24 +
                    (h[at + 4]! + h[at + 5]! * 256 + h[at + 6]! * 65536 + h[at + 7]! * 2 ** 24) * 2 ** 32;
        }
        if (window > MAX_WINDOW) this.fail(`a zstd window of at most ${MAX_WINDOW} bytes`, `${window}`);
        this.addContentSize(h, this.hdrLen);
        this.frameHeader.set(h.subarray(0, this.hdrLen), this.frameHeaderLen);
        this.frameHeaderLen += this.hdrLen;
        if (out !== null)
          emit(
            out,
            this.bytesSince(this.frameStartPos, () => this.frameHeader.slice(0, this.frameHeaderLen)),
            false,
          );
        return this.expect(S_BLOCK_HDR, 3);
      }
      case S_BLOCK_HDR: {
        const v = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        this.lastBlock = (v & 1) === 1;
        const type = (v >> 1) & 3;
        const size = v >>> 3;
        if (type === 3) this.fail('a zstd block type 0-2', 'reserved block type 3');
        if (size > MAX_BLOCK) this.fail(`a zstd block size <= ${MAX_BLOCK}`, String(size));
        const data = type === 1 ? 1 : size;
        const ends = data === 0 && this.lastBlock && !this.checksum; // an empty last block ends the frame
        if (out !== null)
          emit(
            out,
            this.bytesSince(this.hdrStartPos, () => h.slice(0, 3)),
            ends,
          );
        if (data === 0) {
          if (!this.lastBlock) return this.expect(S_BLOCK_HDR, 3);
          if (this.checksum) return this.expect(S_CHECKSUM, 4);
          return this.nextFrame();
        }
        return this.expect(S_BLOCK_DATA, data);
      }
    }
  }

  /** Adds the frame content size the header declares (its last field), or makes the sum unknown. */
  private addContentSize(h: Uint8Array, len: number): void {
    const flag = this.fhd >>> 6;
    const fcs = flag === 0 ? (this.fhd & 0x20 ? 1 : 0) : flag === 1 ? 2 : flag === 2 ? 4 : 8;
    if (fcs === 0) {
      this.contentSize = null;
      return;
    }
    if (this.contentSize === null) return;
    let v = 0n;
    for (let k = fcs - 1; k >= 0; k--) v = (v << 8n) | BigInt(h[len - fcs + k]!);
    if (fcs === 2) v += 256n;
    this.contentSize += v;
  }

  /** True when the input ended cleanly between frames. */
  get atFrameBoundary(): boolean {
    return this.state === S_MAGIC && this.hdrLen === 0;
  }
}
