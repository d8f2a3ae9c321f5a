// Inputs the chaos suite's DBN fuzz kept (test/fixtures/fuzz/, shrunk) and hand-made hostile
// headers: each is decoded or refused with a DbnError naming the file and an offset, without
// allocating by its length fields.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeOutcome } from '../../chaos/support/dbnMutator.ts';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'fuzz');

describe('dbn fuzz regressions (test/fixtures/fuzz)', () => {
  const files = readdirSync(DIR).sort();
  it('has the hand-made hostile headers', () => {
    for (const f of ['metadata-length-4GiB.dbn', 'record-length-0.dbn', 'version-9.dbn']) assert.ok(files.includes(f), f);
  });
  for (const f of files)
    it(`${f}: decoded or refused with a DbnError naming file and offset, heap bounded`, async () => {
      const input = new Uint8Array(readFileSync(join(DIR, f)));
      const heap0 = process.memoryUsage().heapUsed;
      for (const sizes of [[input.length || 1], [7, 64]]) {
        const r = await decodeOutcome(input, sizes, f, 0);
        assert.ok(r === 'decoded' || r === 'refused', `${f}: ${r}`);
        if (/4GiB|length-0|version-9|prelude-only|after-2262/.test(f)) assert.equal(r, 'refused', f);
      }
      assert.ok(process.memoryUsage().heapUsed - heap0 < 64 * 2 ** 20, 'no allocation sized by a length field');
    });
});
