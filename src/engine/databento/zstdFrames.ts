/**
 * A download's zstd framing: proves a body ends exactly on a frame boundary, so a body cut short
 * by a proxy or a clean-but-early close (no Content-Length, chunked) is caught. A thin caller of
 * the one frame walker (dbn/zstdFrames.ts) with errors at compressed byte offsets.
 * (Node's zstd stream cannot do this: it stops after the first frame and ignores the rest.)
 */
import { ZstdFrameSplitter } from '../dbn/zstdFrames.ts';

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

export class ZstdFrameWalker {
  readonly #frames = new ZstdFrameSplitter('download', (pos, expected, found) => new ZstdFrameError(pos, expected, found));

  /** Complete frames seen (skippable frames excluded). */
  get frames(): number {
    return this.#frames.frames;
  }
  /** Sum of declared frame content sizes; null once a frame did not declare one. */
  get contentSize(): bigint | null {
    return this.#frames.contentSize;
  }
  /** Total bytes fed. */
  get offset(): number {
    return this.#frames.pos;
  }
  /** True when everything fed so far forms whole frames (and at least one frame). */
  get complete(): boolean {
    return this.#frames.complete;
  }

  /** Feeds the next bytes; throws ZstdFrameError at the first structural error. */
  push(chunk: Uint8Array): void {
    this.#frames.push(chunk);
  }

  /** Throws unless the stream ended on a frame boundary, naming where it was cut. */
  finish(): void {
    this.#frames.finish();
  }
}
