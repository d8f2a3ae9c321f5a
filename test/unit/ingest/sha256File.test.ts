// sha256File reads through two alternating 1 MiB buffers: sizes around the buffer boundaries
// must hash like crypto over the whole bytes.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File, withTempDir } from '../../../src/engine/io/files.ts';

describe('sha256File at read-buffer boundaries', () => {
  it('0, 1, 1 MiB - 1, 1 MiB, 1 MiB + 1, 2 MiB, 5 MiB + 3 bytes', async () => {
    await withTempDir(async (d) => {
      const MiB = 1 << 20;
      for (const n of [0, 1, MiB - 1, MiB, MiB + 1, 2 * MiB, 5 * MiB + 3]) {
        const b = new Uint8Array(n);
        for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 13)) & 0xff;
        const p = join(d, `f${n}`);
        writeFileSync(p, b);
        assert.equal(await sha256File(p), createHash('sha256').update(b).digest('hex'), `${n} bytes`);
      }
    });
  });
});
