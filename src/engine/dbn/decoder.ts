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

/** Raw reads use one reusable buffer: the decoder copies everything it keeps. */
const RAW_READ = 4 * 1024 * 1024;
const ZSTD_READ = 1024 * 1024;

/** Reads the file in chunks; a fresh buffer per chunk unless `reuse`. Closes the file when done or abandoned. */
async function* readChunks(path: string, size: number, reuseFrom: number): AsyncGenerator<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    let pos = 0;
    let shared: Uint8Array | null = null;
    for (let i = 0; ; i++) {
      // The first chunk is small so a wrong magic fails fast; later chunks may share a buffer.
      const want = i === 0 ? 64 * 1024 : size;
      const buf: Uint8Array = i >= reuseFrom ? (shared ??= new Uint8Array(size)) : new Uint8Array(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Decodes a DBN file (raw or zstd). Errors are DbnError naming the file and the byte offset. */
export async function decodeFile(path: string, sink: DecodeSink, opts: StreamOptions = {}): Promise<DecodeSummary> {
  // The raw path reuses its read buffer from the third chunk on; zstd input gets fresh buffers
  // because the decompressor may still hold a chunk while the next is read.
  return decodeSource(readChunks(path, RAW_READ, 2), path, sink, opts, () => readChunks(path, ZSTD_READ, Infinity));
}

/** Decodes a DBN byte stream (raw or zstd), e.g. an HTTP download. */
export function decodeStream(source: AsyncIterable<Uint8Array>, name: string, sink: DecodeSink, opts: StreamOptions = {}): Promise<DecodeSummary> {
  return decodeSource(source, name, sink, opts, null);
}

async function decodeSource(
  source: AsyncIterable<Uint8Array>,
  name: string,
  sink: DecodeSink,
  opts: StreamOptions,
  reopenForZstd: (() => AsyncIterable<Uint8Array>) | null,
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
    return await decodeDetected(it, rest, head, name, sink, opts, reopenForZstd);
  } finally {
    await it.return?.();
  }
}

async function decodeDetected(
  it: AsyncIterator<Uint8Array>,
  rest: AsyncIterable<Uint8Array>,
  head: Uint8Array,
  name: string,
  sink: DecodeSink,
  opts: StreamOptions,
  reopenForZstd: (() => AsyncIterable<Uint8Array>) | null,
): Promise<DecodeSummary> {
  const decoder = new DbnStreamDecoder(name, sink, opts);
  if (looksLikeDbz(head)) throw dbzError(name);
  const zstd = isZstdMagic(head) || isSkippableMagic(head);
  let input: AsyncIterable<Uint8Array> = rest;
  let z: ZstdStream | null = null;
  if (zstd) {
    z = new ZstdStream(name, opts.zstd);
    let compressed: AsyncIterable<Uint8Array> = rest;
    if (reopenForZstd) {
      await it.return?.();
      compressed = reopenForZstd();
    }
    input = z.decompress(compressed);
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
    return { metadata: decoder.metadata, recordCounts: {}, records: 0, skippedUnknown: 0, bytes: decoder.pos, compressedBytes: z ? z.compressedBytes : inputBytes, version: decoder.version, fragment: decoder.fragment, compression: z ? 'zstd' : 'none' };
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
