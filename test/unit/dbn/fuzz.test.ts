// Property test: thousands of mutated fixtures (seeded) never produce anything but a DbnError,
// never hang, and never make the decoder allocate beyond its caps.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { decodeStream } from '../../../src/engine/dbn/decoder.ts';
import { DbnError } from '../../../src/engine/dbn/errors.ts';
import { chunked, fixtureBytes, fixturePath, FIXTURES, prng } from './helpers.ts';

const CASES = 3000;

describe('dbn fuzz', function () {
  this.timeout(60000);
  const names = readdirSync(FIXTURES)
    .filter((f) => !f.endsWith('.dbz'))
    .sort();
  const raw = names.filter((f) => !f.endsWith('.zst')).map((f) => fixtureBytes(f));
  const zst = names.filter((f) => f.endsWith('.zst')).map((f) => new Uint8Array(readFileSync(fixturePath(f))));

  function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
    let b = src.slice();
    const ops = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < ops; k++) {
      const at = Math.floor(rnd() * Math.max(1, b.length));
      switch (Math.floor(rnd() * 6)) {
        case 0: // bit flips
          for (let i = 0; i < 1 + rnd() * 8; i++) {
            const j = Math.floor(rnd() * b.length);
            b[j] = b[j]! ^ (1 << Math.floor(rnd() * 8));
          }
          break;
        case 1: // truncation
          b = b.subarray(0, at);
          break;
        case 2: // length bytes: the prelude length or a record length byte
          if (rnd() < 0.3 && b.length >= 8) new DataView(b.buffer, b.byteOffset).setUint32(4, Math.floor(rnd() * 2 ** 32), true);
          else b[at] = [0, 1, 3, 4, 12, 20, 255][Math.floor(rnd() * 7)]!;
          break;
        case 3: {
          // splice in a range of another input
          const other = raw[Math.floor(rnd() * raw.length)]!;
          const from = Math.floor(rnd() * other.length);
          const piece = other.subarray(from, from + Math.floor(rnd() * 200));
          const out = new Uint8Array(b.length + piece.length);
          out.set(b.subarray(0, at));
          out.set(piece, at);
          out.set(b.subarray(at), at + piece.length);
          b = out;
          break;
        }
        case 4: // delete a range
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + Math.floor(rnd() * 64))]);
          break;
        default: // random byte overwrite run
          for (let i = at; i < Math.min(b.length, at + 1 + rnd() * 16); i++) b[i] = Math.floor(rnd() * 256);
      }
    }
    return b;
  }

  it(`${CASES} mutated inputs: DbnError or success, never another error, bounded memory`, async () => {
    const rnd = prng(20261125);
    const heap0 = process.memoryUsage().heapUsed;
    let failed = 0;
    let ok = 0;
    let peakHeap = 0;
    for (let i = 0; i < CASES; i++) {
      const compressed = rnd() < 0.3;
      const pool = compressed ? zst : raw;
      const input = mutate(pool[Math.floor(rnd() * pool.length)]!, rnd);
      const sizes = rnd() < 0.5 ? [input.length || 1] : [1 + Math.floor(rnd() * 64), 1 + Math.floor(rnd() * 512)];
      let records = 0;
      try {
        await decodeStream(
          chunked(input, sizes, i % 4),
          `case-${i}`,
          {
            onRecord: (r) => {
              records++;
              JSON.stringify(r);
            },
            onTrades: (b) => {
              assert.ok(b.length <= b.capacity);
            },
            onMbp1: (b) => {
              assert.ok(b.length <= b.capacity);
            },
          },
          { batchSize: 16, zstd: (['native', 'native-stream'] as const)[i % 2], fragmentVersion: rnd() < 0.1 ? 2 : undefined },
        );
        ok++;
      } catch (e) {
        if (!(e instanceof DbnError)) {
          throw new Error(
            `case ${i}: non-DbnError ${e instanceof Error ? e.stack : String(e)}\ninput: ${Buffer.from(input.subarray(0, 64)).toString('hex')}`,
          );
        }
        assert.equal(e.file, `case-${i}`);
        assert.ok(Number.isInteger(e.offset) && e.offset >= 0, e.message);
        failed++;
      }
      assert.ok(records < 1000, `case ${i}: ${records} records from a ${input.length}-byte input`);
      if (i % 250 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    assert.ok(failed > CASES / 4 && ok > CASES / 20, `both outcomes exercised (ok ${ok}, failed ${failed})`);
    // The metadata cap is 64 MiB and buffers grow only with data actually received: the heap never balloons.
    assert.ok(peakHeap - heap0 < 256 * 1024 * 1024, `heap grew by ${((peakHeap - heap0) / 2 ** 20).toFixed(0)} MiB`);
  });
});
