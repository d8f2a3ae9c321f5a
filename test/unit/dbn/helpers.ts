import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'dbn');

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

/** The fixture's raw DBN bytes (zstd fixtures decompressed with Node's zlib, all frames). */
export function fixtureBytes(name: string): Uint8Array {
  const raw = readFileSync(fixturePath(name));
  if (!name.endsWith('.zst')) return new Uint8Array(raw);
  // zstdDecompressSync handles concatenated frames (the streaming class does not).
  return new Uint8Array(zstdDecompressSync(raw));
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
