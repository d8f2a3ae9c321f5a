/**
 * ULIDs (https://github.com/ulid/spec): 48-bit millisecond time + 80 random bits, 26 chars of
 * Crockford base32. Text order = time order; within one millisecond the factory increments
 * the random part, so ids from one factory are strictly increasing. Time and randomness are
 * injected, so tests get fixed ids.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;

export interface UlidSources {
  now?: () => number;
  random?: (bytes: number) => Uint8Array;
}

function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME) throw new Error(`ulid: time ${ms} is not an integer millisecond in [0, 2^48)`);
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32]! + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

/** 80 bits as 16 base32 chars (5 bits each) from 10 bytes. */
function encodeRandom(r: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | r[i]!;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** Adds one to an 80-bit big-endian counter in place; throws on overflow (2^80 ids in one ms). */
function increment(r: Uint8Array): void {
  for (let i = 9; i >= 0; i--) {
    if (r[i] !== 255) {
      r[i]! += 1;
      return;
    }
    r[i] = 0;
  }
  throw new Error('ulid: random part overflowed within one millisecond');
}

export function ulidFactory(sources: UlidSources = {}): () => string {
  const now = sources.now ?? Date.now;
  const random = sources.random ?? ((n: number) => randomBytes(n));
  let lastTime = -1;
  const last = new Uint8Array(10);
  return () => {
    let t = now();
    if (t <= lastTime) {
      t = lastTime; // clock went back or same ms: stay monotonic
      increment(last);
    } else {
      const r = random(10);
      if (r.length < 10) throw new Error(`ulid: random source returned ${r.length} bytes, expected 10`);
      last.set(r.subarray(0, 10));
      lastTime = t;
    }
    return encodeTime(t) + encodeRandom(last);
  };
}

/** Decodes the millisecond timestamp of a ULID. */
export function ulidTime(id: string): number {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) throw new Error(`ulid: '${id}' is not a 26-char Crockford base32 ULID`);
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + ALPHABET.indexOf(id[i]!);
  return t;
}

export const newUlid: () => string = ulidFactory();
