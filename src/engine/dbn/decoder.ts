/**
 * DBN decoding entry points: a file path or a byte stream (e.g. a download), raw DBN or zstd
 * (auto-detected from the first bytes), decoded in bounded memory into columnar batches.
 */
import { open } from 'node:fs/promises';
import { DbnError } from './errors.ts';
import { looksLikeDbz, dbzError, type DbnMetadata } from './metadata.ts';
import { DbnStreamDecoder, type DecodeOptions, type DecodeSink, type DecodeSummary } from './streamDecoder.ts';
import { isSkippableMagic, isZstdMagic } from './zstdFrames.ts';
import { ZstdStream, type ZstdImpl } from './zstd.ts';

export { DbnError } from './errors.ts';
export type { DbnMetadata } from './metadata.ts';
export type { DecodeOptions, DecodeSink, DecodeSummary } from './streamDecoder.ts';
export type { DbnRecord } from './records.ts';
export { SCHEMA, schemaName, rtypeName, stypeName } from './enums.ts';

export interface StreamOptions extends DecodeOptions {
  /** zstd implementation (default: native when available). Benchmarks compare both. */
  zstd?: ZstdImpl;
  /** Stop after the metadata (readMetadata). */
  metadataOnly?: boolean;
}

/** Raw reads: two of these alternate in the decoder's input region, so raw DBN is read straight into kernel memory. */
const RAW_READ = 4 * 1024 * 1024;

/**
 * Reads the file in chunks, keeping one read in flight while the consumer works on the previous
 * chunk (reads run on the libuv pool, so I/O overlaps decoding). Once `slots()` gives two
 * buffers, reads alternate between them: safe because the raw decoder is done with a chunk,
 * and native zstd has consumed it, before asking for the next one. For raw DBN the slots are the decoder's own (in its kernel memory): no copy.
 * The first read is small so a wrong magic fails fast. Closes the file when done or abandoned.
 */
async function* readChunks(path: string, size: number, slots: () => Uint8Array[] | null): AsyncGenerator<Uint8Array> {
  const fh = await open(path, 'r');
  let next: Promise<{ bytesRead: number; buffer: Uint8Array }> | null = null;
  try {
    // Sequential reads from the current position (position null): works for pipes (/dev/stdin).
    const first = await fh.read(new Uint8Array(64 * 1024), 0, 64 * 1024, null);
    if (first.bytesRead === 0) return;
    let turn = 0;
    const readNext = () => {
      const pair = slots();
      if (pair === null) return fh.read(new Uint8Array(size), 0, size, null);
      const buf = pair[turn++ & 1]!;
      return fh.read(buf, 0, Math.min(size, buf.length), null);
    };
    next = readNext();
    yield first.buffer.subarray(0, first.bytesRead);
    for (;;) {
      const r: { bytesRead: number; buffer: Uint8Array } = await next;
      next = null;
      if (r.bytesRead === 0) return;
      next = readNext();
      yield r.buffer.subarray(0, r.bytesRead);
    }
  } finally {
    if (next) await next.catch(() => undefined);
    await fh.close();
  }
}

/** Decodes a DBN file (raw or zstd). Errors are DbnError naming the file and the byte offset. */
export async function decodeFile(path: string, sink: DecodeSink, opts: StreamOptions = {}): Promise<DecodeSummary> {
  // One pass over the file (works for pipes such as /dev/stdin too); buffers are reused once the
  // input is known to be raw DBN or native-zstd input.
  let slots: Uint8Array[] | null = null;
  return decodeSource(
    readChunks(path, RAW_READ, () => slots),
    path,
    sink,
    opts,
    (zstd, decoder) => {
      // Native zstd has consumed a chunk (its write callback ran) before the next one is asked
      // for, so read buffers can alternate there too: ~1/3 less ArrayBuffer churn (fewer
      // external-memory mark-compacts).
      if (!zstd) slots = decoder.inputSlots(2, RAW_READ) ?? [new Uint8Array(RAW_READ), new Uint8Array(RAW_READ)];
      else slots = [new Uint8Array(RAW_READ), new Uint8Array(RAW_READ)];
    },
  );
}

/** Decodes a DBN byte stream (raw or zstd), e.g. an HTTP download. */
export function decodeStream(
  source: AsyncIterable<Uint8Array>,
  name: string,
  sink: DecodeSink,
  opts: StreamOptions = {},
): Promise<DecodeSummary> {
  return decodeSource(source, name, sink, opts, null);
}

async function decodeSource(
  source: AsyncIterable<Uint8Array>,
  name: string,
  sink: DecodeSink,
  opts: StreamOptions,
  onFormat: ((zstd: boolean, decoder: DbnStreamDecoder) => void) | null,
): Promise<DecodeSummary> {
  const it = source[Symbol.asyncIterator]();
  // Peek at least 12 bytes (zstd magic, DBZ header) before choosing the path.
  const peeked: Uint8Array[] = [];
  let peekLen = 0;
  try {
    while (peekLen < 12) {
      const r = await it.next();
      if (r.done) break;
      if (r.value.length === 0) continue;
      peeked.push(r.value.slice());
      peekLen += r.value.length;
    }
  } catch (e) {
    throw wrapIo(e, name);
  }
  const head = concat(peeked, peekLen);
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      if (head.length > 0) yield head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    },
  };
  try {
    return await decodeDetected(rest, head, name, sink, opts, onFormat);
  } finally {
    await it.return?.();
  }
}

async function decodeDetected(
  rest: AsyncIterable<Uint8Array>,
  head: Uint8Array,
  name: string,
  sink: DecodeSink,
  opts: StreamOptions,
  onFormat: ((zstd: boolean, decoder: DbnStreamDecoder) => void) | null,
): Promise<DecodeSummary> {
  const decoder = new DbnStreamDecoder(name, sink, opts);
  if (looksLikeDbz(head)) throw dbzError(name);
  const zstd = isZstdMagic(head) || isSkippableMagic(head);
  onFormat?.(zstd, decoder);
  let input: AsyncIterable<Uint8Array> = rest;
  let z: ZstdStream | null = null;
  if (zstd) {
    z = new ZstdStream(name, opts.zstd, undefined, (count, bytes) => decoder.inputSlots(count, bytes));
    input = z.decompress(rest);
  }
  let inputBytes = 0;
  try {
    for await (const chunk of input) {
      inputBytes += chunk.length;
      await decoder.push(chunk);
      if (opts.metadataOnly && decoder.headerDone) break;
    }
  } catch (e) {
    throw wrapIo(e, name);
  }
  if (opts.metadataOnly) {
    if (!decoder.headerDone) await decoder.finish(0, 'none'); // throws the precise truncation error
    return {
      metadata: decoder.metadata,
      recordCounts: {},
      records: 0,
      skippedUnknown: 0,
      bytes: decoder.pos,
      compressedBytes: z ? z.compressedBytes : inputBytes,
      version: decoder.version,
      fragment: decoder.fragment,
      compression: z ? 'zstd' : 'none',
    };
  }
  return decoder.finish(z ? z.compressedBytes : inputBytes, z ? 'zstd' : 'none');
}

function wrapIo(e: unknown, name: string): unknown {
  if (e instanceof DbnError || (e instanceof Error && e.name === 'AbortError')) return e;
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E') && !e.message.includes(name)) {
    e.message = `${name}: ${e.message}`;
  }
  return e;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Reads only as much of the file as the metadata needs (decompressing a zstd prefix if needed). */
export async function readMetadata(path: string): Promise<DbnMetadata> {
  const s = await decodeFile(path, {}, { metadataOnly: true });
  if (!s.metadata) throw new DbnError(path, 0, 'DBN metadata (this is a fragment: records without a metadata header)', 'a record header');
  return s.metadata;
}
