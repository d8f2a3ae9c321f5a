/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded through splitmix32 from
 * the run seed: deterministic across platforms and Node versions (32-bit integer math only).
 */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** seed: a non-negative integer below 2^53 (both 32-bit halves enter the state). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed: expected a non-negative integer below 2^53, got ${seed}`);
    let s = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296), 0x27d4eb2f);
    let v: number;
    [s, v] = splitmix32(s); this.a = v;
    [s, v] = splitmix32(s); this.b = v;
    [s, v] = splitmix32(s); this.c = v;
    [s, v] = splitmix32(s); this.d = v;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}
