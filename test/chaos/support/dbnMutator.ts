/**
 * Mutated DBN inputs for the fuzz probe, each a pure function of (fixture pool, case index): a
 * failing case can be rebuilt from its index. Mutations: bit flips, truncation (also at every
 * header offset), inserted/deleted/spliced bytes, the prelude's version and length fields, the
 * metadata's u16/u32 count fields and the first record's length byte overwritten with extreme
 * values, and corrupted or truncated zstd frames.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { decodeStream } from '../../../src/engine/dbn/decoder.ts';
import { DbnError } from '../../../src/engine/dbn/errors.ts';
import { uniformSource } from '../../../src/engine/util/prng.ts';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'dbn');

export interface Pool {
  names: string[];
  /** Raw DBN bytes (plain fixtures, and the zstd fixtures decompressed). */
  raw: Uint8Array[];
  /** zstd-compressed fixtures as stored. */
  zst: Uint8Array[];
}

export function loadPool(only: (name: string) => boolean = () => true): Pool {
  const names = readdirSync(FIXTURES)
    .filter((f) => !f.endsWith('.dbz') && only(f))
    .sort();
  const raw: Uint8Array[] = [];
  const zst: Uint8Array[] = [];
  for (const n of names) {
    const b = new Uint8Array(readFileSync(join(FIXTURES, n)));
    if (n.endsWith('.zst')) {
      zst.push(b);
      raw.push(new Uint8Array(zstdDecompressSync(b)));
    } else raw.push(b);
  }
  return { names, raw, zst };
}

const EXTREME16 = [0, 1, 0x7fff, 0xffff];
const EXTREME32 = [0, 1, 0x7fffffff, 0xffffffff, 0x40000000, 65_535];

/** Metadata length from the prelude (bytes 4..8), clamped to the input. */
function metaEnd(b: Uint8Array): number {
  if (b.length < 8) return b.length;
  return Math.min(b.length, 8 + new DataView(b.buffer, b.byteOffset).getUint32(4, true));
}

/** The header-truncation cases: every prefix of every plain fixture's prelude + metadata + first record. */
export function headerTruncations(pool: Pool): { input: Uint8Array; label: string }[] {
  const out: { input: Uint8Array; label: string }[] = [];
  pool.names.forEach((name, i) => {
    if (name.endsWith('.zst')) return;
    const b = pool.raw[i]!;
    const end = Math.min(b.length, metaEnd(b) + 64);
    for (let k = 0; k < end; k++) out.push({ input: b.subarray(0, k), label: `${name} cut at ${k}` });
  });
  return out;
}

export interface FuzzCase {
  input: Uint8Array;
  compressed: boolean;
  /** How to chunk the stream (sizes cycle). */
  sizes: number[];
}

export function fuzzCase(pool: Pool, seed: number, i: number): FuzzCase {
  const rnd = uniformSource(seed * 1_000_003 + i);
  const compressed = rnd() < 0.25;
  const src = (compressed ? pool.zst : pool.raw)[Math.floor(rnd() * (compressed ? pool.zst.length : pool.raw.length))]!;
  let b = src.slice();
  const ops = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    const dv = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (Math.floor(rnd() * 10)) {
      case 0: // bit flips anywhere
        for (let j = 0; j < 1 + rnd() * 8; j++) {
          const x = Math.floor(rnd() * b.length);
          b[x] = b[x]! ^ (1 << Math.floor(rnd() * 8));
        }
        break;
      case 1: // truncation
        b = b.subarray(0, at);
        break;
      case 2: // prelude: version byte or metadata length
        if (b.length >= 8) {
          if (rnd() < 0.5) b[3] = [0, 1, 2, 3, 4, 9, 255][Math.floor(rnd() * 7)]!;
          else dv().setUint32(4, EXTREME32[Math.floor(rnd() * EXTREME32.length)]!, true);
        }
        break;
      case 3: {
        // a u16/u32 field inside the metadata (counts, lengths, schema, stype) to an extreme
        const end = compressed ? Math.min(b.length, 64) : metaEnd(b);
        if (end > 12) {
          const off = 8 + Math.floor(rnd() * (end - 12));
          if (rnd() < 0.5) dv().setUint16(off, EXTREME16[Math.floor(rnd() * EXTREME16.length)]!, true);
          else dv().setUint32(off, EXTREME32[Math.floor(rnd() * EXTREME32.length)]!, true);
        }
        break;
      }
      case 4: {
        // the record-length byte (units of 4) or rtype of a record near the start of the body
        const m = metaEnd(b);
        if (!compressed && m < b.length)
          b[Math.min(b.length - 1, m + (rnd() < 0.7 ? 0 : 1))] = [0, 1, 2, 3, 4, 12, 20, 255][Math.floor(rnd() * 8)]!;
        break;
      }
      case 5: {
        // splice in a range of another input
        const other = pool.raw[Math.floor(rnd() * pool.raw.length)]!;
        const from = Math.floor(rnd() * other.length);
        const piece = other.subarray(from, from + Math.floor(rnd() * 200));
        const out = new Uint8Array(b.length + piece.length);
        out.set(b.subarray(0, at));
        out.set(piece, at);
        out.set(b.subarray(at), at + piece.length);
        b = out;
        break;
      }
      case 6: {
        // delete a range
        const n = Math.min(Math.floor(rnd() * 64), b.length - at);
        const out = new Uint8Array(b.length - n);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + n), at);
        b = out;
        break;
      }
      case 7: // zstd frame header (magic, descriptor, window) corrupted
        if (compressed && b.length > 6) b[Math.floor(rnd() * Math.min(18, b.length))] = Math.floor(rnd() * 256);
        else b[at] = Math.floor(rnd() * 256);
        break;
      case 8: // zstd: drop the last bytes of the frame (checksum, last block)
        b = b.subarray(0, Math.max(0, b.length - 1 - Math.floor(rnd() * 16)));
        break;
      default: // a run of random bytes
        for (let j = at; j < Math.min(b.length, at + 1 + rnd() * 16); j++) b[j] = Math.floor(rnd() * 256);
    }
  }
  const sizes = rnd() < 0.5 ? [b.length || 1] : [1 + Math.floor(rnd() * 64), 1 + Math.floor(rnd() * 512)];
  return { input: b, compressed, sizes };
}

async function* chunks(input: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  let k = 0;
  while (at < input.length) {
    const n = sizes[k++ % sizes.length]!;
    yield input.subarray(at, at + n);
    at += n;
  }
}

/** 'decoded', 'refused' (a DbnError naming the file and an offset), or what went wrong instead. */
export async function decodeOutcome(input: Uint8Array, sizes: number[], name: string, i: number): Promise<string> {
  let records = 0;
  try {
    await decodeStream(
      chunks(input, sizes),
      name,
      {
        onRecord: () => {
          records++;
        },
        onTrades: () => undefined,
        onMbp1: () => undefined,
      },
      { batchSize: 16, zstd: (['native', 'native-stream'] as const)[i % 2] },
    );
  } catch (e) {
    if (!(e instanceof DbnError)) return `non-DbnError ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    if (e.file !== name || !Number.isInteger(e.offset) || e.offset < 0) return `DbnError without file/offset: ${e.message}`;
    return 'refused';
  }
  if (records > 100_000) return `${records} records from ${input.length} bytes`;
  return 'decoded';
}

/** Shrinks a failing input: drops chunks (halves, then smaller) while `fails` still holds. */
export async function shrink(input: Uint8Array, fails: (b: Uint8Array) => Promise<boolean>): Promise<Uint8Array> {
  let cur = input;
  for (let size = cur.length >> 1; size >= 1; size >>= 1) {
    for (let at = 0; at + size <= cur.length;) {
      const cand = new Uint8Array(cur.length - size);
      cand.set(cur.subarray(0, at));
      cand.set(cur.subarray(at + size), at);
      if (await fails(cand)) cur = cand;
      else at += size;
    }
  }
  return cur;
}
