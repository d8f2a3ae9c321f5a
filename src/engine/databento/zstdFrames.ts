// Streaming zstd frame walker (RFC 8878 §3.1): follows frame and block headers without
// decompressing, so a download can be proven to end exactly on a frame boundary. A body cut
// short by a proxy or a clean-but-early close (no Content-Length, chunked) is caught here.
// Why not zlib.createZstdDecompress: Node's zstd stream stops after the FIRST frame and
// silently ignores the rest, so it can neither count nor validate multi-frame streams.

export class ZstdFrameError extends Error {
  override name = 'ZstdFrameError';
  readonly offset: number;
  readonly expected: string;
  constructor(offset: number, expected: string, got: string) {
    super(`zstd stream: at byte ${offset} expected ${expected}, got ${got}`);
    this.offset = offset;
    this.expected = expected;
  }
}

const MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;
const MAX_BLOCK = 128 * 1024;

// States: what the bytes in `hdr` (or the skip counter) are.
const S_MAGIC = 0;
const S_FHD = 1; // frame header descriptor (1 byte)
const S_FRAME_HEADER_REST = 2;
const S_BLOCK_HEADER = 3;
const S_SKIP = 4; // block content, checksum, skippable payload
const S_SKIPPABLE_SIZE = 5;

export class ZstdFrameWalker {
  /** Complete frames seen (skippable frames excluded). */
  frames = 0;
  /** Sum of declared frame content sizes; null once a frame did not declare one. */
  contentSize: bigint | null = 0n;
  /** Total bytes fed. */
  offset = 0;

  private state = S_MAGIC;
  private readonly hdr = new Uint8Array(16);
  private hdrLen = 0;
  private hdrNeed = 4;
  private skip = 0;
  private afterSkip = S_MAGIC;
  private checksum = false;
  private endsFrame = false;
  private fhd = 0;

  /** Feeds the next bytes; throws ZstdFrameError at the first structural error. */
  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === S_SKIP) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        this.offset += take;
        if (this.skip === 0) this.skipDone();
        continue;
      }
      const take = Math.min(this.hdrNeed - this.hdrLen, n - i);
      this.hdr.set(chunk.subarray(i, i + take), this.hdrLen);
      this.hdrLen += take;
      i += take;
      this.offset += take;
      if (this.hdrLen === this.hdrNeed) this.parseHeader();
    }
  }

  /** True when everything fed so far forms whole frames (and at least one frame). */
  get complete(): boolean {
    return this.state === S_MAGIC && this.hdrLen === 0 && this.frames > 0;
  }

  /** Throws unless the stream ended on a frame boundary, naming where it was cut. */
  finish(): void {
    if (this.complete) return;
    const where = this.frames === 0 && this.offset === 0 ? 'a zstd frame' : `more of zstd frame ${this.frames + 1} (${this.describeState()})`;
    throw new ZstdFrameError(this.offset, where, 'end of stream');
  }

  private describeState(): string {
    switch (this.state) {
      case S_MAGIC:
        return 'frame magic';
      case S_FHD:
      case S_FRAME_HEADER_REST:
        return 'frame header';
      case S_BLOCK_HEADER:
        return 'block header';
      case S_SKIPPABLE_SIZE:
        return 'skippable frame size';
      default:
        return `${this.skip} more bytes of block data or checksum`;
    }
  }

  private enter(state: number, need = 0): void {
    this.state = state;
    this.hdrLen = 0;
    this.hdrNeed = state === S_MAGIC ? 4 : state === S_BLOCK_HEADER ? 3 : state === S_FHD ? 1 : state === S_SKIPPABLE_SIZE ? 4 : need;
  }

  private parseHeader(): void {
    const h = this.hdr;
    const at = this.offset - this.hdrLen;
    switch (this.state) {
      case S_MAGIC: {
        const m = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
        if (m === MAGIC) return this.enter(S_FHD);
        if ((m & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) return this.enter(S_SKIPPABLE_SIZE);
        throw new ZstdFrameError(at, 'zstd frame magic 28 B5 2F FD', hex(h, 4));
      }
      case S_SKIPPABLE_SIZE: {
        const size = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
        return this.skipThen(size, S_MAGIC);
      }
      case S_FHD: {
        const fhd = h[0]!;
        if (fhd & 0x08) throw new ZstdFrameError(at, 'frame header descriptor with reserved bit 3 clear', `0x${fhd.toString(16)}`);
        this.fhd = fhd;
        this.checksum = (fhd & 0x04) !== 0;
        const rest = this.fcsSize() + (fhd & 0x20 ? 0 : 1) + [0, 1, 2, 4][fhd & 0x03]!;
        if (rest === 0) return this.frameHeaderDone();
        return this.enter(S_FRAME_HEADER_REST, rest);
      }
      case S_FRAME_HEADER_REST:
        return this.frameHeaderDone();
      case S_BLOCK_HEADER: {
        const v = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        const last = v & 1;
        const type = (v >>> 1) & 3;
        const size = v >>> 3;
        if (type === 3) throw new ZstdFrameError(at, 'a block type 0-2', 'reserved block type 3');
        if (size > MAX_BLOCK) throw new ZstdFrameError(at, `a block size <= ${MAX_BLOCK}`, String(size));
        const payload = type === 1 ? 1 : size;
        // the last block is followed by the optional 4-byte content checksum; the frame counts once both are in
        if (last) return this.skipThen(payload + (this.checksum ? 4 : 0), S_MAGIC, true);
        return this.skipThen(payload, S_BLOCK_HEADER);
      }
    }
  }

  private fcsSize(): number {
    const flag = this.fhd >>> 6;
    return flag === 0 ? (this.fhd & 0x20 ? 1 : 0) : flag === 1 ? 2 : flag === 2 ? 4 : 8;
  }

  private frameHeaderDone(): void {
    const fcs = this.fcsSize();
    if (fcs === 0) this.contentSize = null;
    else if (this.contentSize !== null) {
      const start = this.hdrNeed - fcs;
      let v = 0n;
      for (let k = fcs - 1; k >= 0; k--) v = (v << 8n) | BigInt(this.hdr[start + k]!);
      if (fcs === 2) v += 256n;
      this.contentSize += v;
    }
    this.enter(S_BLOCK_HEADER);
  }

  private skipThen(bytes: number, next: number, endsFrame = false): void {
    this.afterSkip = next;
    this.endsFrame = endsFrame;
    if (bytes === 0) return this.skipDone();
    this.skip = bytes;
    this.state = S_SKIP;
    this.hdrLen = 0;
  }

  private skipDone(): void {
    if (this.endsFrame) this.frames++;
    this.endsFrame = false;
    this.enter(this.afterSkip);
  }
}

function hex(b: Uint8Array, n: number): string {
  return Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}
