import assert from 'node:assert/strict';
import { ulidFactory, ulidTime } from '../../../src/engine/catalog/ulid.ts';

describe('catalog/ulid', () => {
  it('encodes time and randomness as the spec example does', () => {
    // Spec: 48-bit time then 80-bit randomness, Crockford base32, most significant first.
    const id = ulidFactory({ now: () => 1469918176385, random: () => new Uint8Array(10) })();
    assert.equal(id, '01ARYZ6S410000000000000000');
    const all1 = ulidFactory({ now: () => 2 ** 48 - 1, random: () => new Uint8Array(10).fill(255) })();
    assert.equal(all1, '7ZZZZZZZZZZZZZZZZZZZZZZZZZ');
    const r = new Uint8Array([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23]);
    // 0x0123456789abcdef0123 as 16 base32 digits (computed with Python's big integers).
    assert.equal(ulidFactory({ now: () => 0, random: () => r })(), '000000000004HMASW9NF6YY093');
    assert.equal(ulidTime(id), 1469918176385);
  });

  it('is strictly increasing within a millisecond and when the clock goes back', () => {
    let t = 1000;
    const next = ulidFactory({ now: () => t, random: () => new Uint8Array(10).fill(0xff).map((v, i) => (i === 9 ? 0xfd : v)) });
    const a = next();
    const b = next();
    t = 999;
    const c = next();
    assert.ok(a < b && b < c, `${a} < ${b} < ${c}`);
    assert.equal(ulidTime(c), 1000);
    assert.throws(() => next(), /overflowed/);
    t = 1001;
    assert.equal(ulidTime(next()), 1001);
    assert.throws(() => ulidTime('not-a-ulid'), /not a 26-char/);
  });
});
