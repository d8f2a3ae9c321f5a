// Bad input never crashes or hangs: each case is a DbnError naming the file, the byte offset
// (in the decompressed stream) and what was expected there.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync, openSync, ftruncateSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { decodeFile, decodeStream, readMetadata } from '../../../src/engine/dbn/decoder.ts';
import { DbnError } from '../../../src/engine/dbn/errors.ts';
import { fixtureBytes, fixturePath } from './helpers.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'btnb-dbn-bad-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Same error (offset, message) from every zstd implementation that can read the file. */
async function expectDbnError(p: string, offset: number, re: RegExp): Promise<DbnError> {
  let first: DbnError | null = null;
  for (const zstd of ['native', 'native-stream'] as const) {
    let caught: unknown;
    try {
      await decodeFile(p, { onTrades: () => {}, onRecord: () => {} }, { zstd });
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof DbnError, `expected a DbnError (${zstd}), got ${String(caught)}`);
    assert.equal(caught.file, p);
    assert.equal(caught.offset, offset, `${zstd}: ${caught.message}`);
    assert.match(caught.message, re);
    assert.ok(caught.message.startsWith(`${p}: byte ${offset}: expected `), caught.message);
    if (first !== null) assert.equal(caught.message, first.message, zstd);
    first ??= caught;
  }
  return first!;
}

const trades = fixtureBytes('test_data.trades.dbn'); // v2: metadata 345, records at 353 and 401, 449 bytes

describe('dbn bad input', () => {
  it('empty file', async () => {
    await expectDbnError(file('empty.dbn', new Uint8Array(0)), 0, /DBN magic "DBN" or a zstd frame, found empty input/);
  });
  it('wrong magic (a zip file)', async () => {
    await expectDbnError(
      file('x.zip', Uint8Array.from([0x50, 0x4b, 3, 4, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0])),
      0,
      /expected DBN magic.*found 50 4b 03 04/,
    );
  });
  it('a short garbage file (< 8 bytes)', async () => {
    await expectDbnError(file('short', Uint8Array.from([1, 2, 3])), 0, /found 3 bytes: 01 02 03/);
  });
  it('version 0 and version 4', async () => {
    for (const v of [0, 4]) {
      const b = trades.slice();
      b[3] = v;
      await expectDbnError(file(`v${v}.dbn`, b), 3, new RegExp(`DBN version 1, 2 or 3, found ${v}`));
    }
  });
  it('truncated prelude and truncated metadata', async () => {
    await expectDbnError(file('pre.dbn', trades.subarray(0, 5)), 5, /8-byte DBN prelude/);
    await expectDbnError(
      file('meta.dbn', trades.subarray(0, 100)),
      100,
      /metadata of 345 bytes \(ending at byte 353\), found end of input after 100 bytes/,
    );
  });
  it('metadata length beyond the file, and beyond the 64 MiB cap', async () => {
    const b = trades.slice();
    new DataView(b.buffer).setUint32(4, 100000, true);
    await expectDbnError(file('len.dbn', b), 449, /metadata of 100000 bytes/);
    new DataView(b.buffer).setUint32(4, 0xfffffff0, true);
    await expectDbnError(file('cap.dbn', b), 4, /64 MiB cap/);
  });
  it('readMetadata reports the same truncation', async () => {
    await assert.rejects(readMetadata(file('rm.dbn', trades.subarray(0, 300))), /byte 300: expected metadata of 345 bytes/);
  });
  it('record length < 16 bytes', async () => {
    const b = trades.slice();
    b[401] = 3;
    await expectDbnError(file('rl.dbn', b), 401, /record length of at least 16 bytes \(length byte >= 4\), found length byte 3/);
  });
  it("record length below its type's size", async () => {
    const b = trades.slice();
    b[353] = 11;
    await expectDbnError(file('rs.dbn', b), 353, /at least 48 bytes for a mbp-0 record \(rtype 0\), found 44 bytes/);
  });
  it('record running past the end (truncated file), also inside zstd', async () => {
    await expectDbnError(
      file('cut.dbn', trades.subarray(0, 440)),
      401,
      /48 bytes for a mbp-0 record \(length byte 12\), found 39 bytes before the end of input/,
    );
    await expectDbnError(
      file('cut.dbn.zst', new Uint8Array(zstdCompressSync(trades.subarray(0, 420)))),
      401,
      /found 19 bytes before the end/,
    );
  });
  it('truncated zstd stream', async () => {
    const z = new Uint8Array(zstdCompressSync(trades));
    const e = await expectDbnError(file('t.zst', z.subarray(0, z.length - 10)), 0, /the rest of the zstd frame/);
    assert.match(e.message, /found end of input/);
  });
  it('corrupt zstd: reserved block type, and damaged block contents', async () => {
    const z = new Uint8Array(zstdCompressSync(fixtureBytes('test_data.definition.dbn')));
    const hdr = 4 + 1 + 1 + 2; // magic, FHD, window, FCS(2) for this frame: found by parsing below
    void hdr;
    const fhd = z[4]!;
    const fcs = [(fhd >> 5) & 1 ? 1 : 0, 2, 4, 8][fhd >> 6]!;
    const blockAt = 5 + ((fhd >> 5) & 1 ? 0 : 1) + fcs;
    const r = z.slice();
    r[blockAt] = r[blockAt]! | 0b110;
    await expectDbnError(file('r.zst', r), 0, /(zstd block type 0-2.*found reserved block type 3)|(valid zstd stream.*corruption)/);
    const d = z.slice();
    for (let i = blockAt + 10; i < blockAt + 40; i++) d[i] = d[i]! ^ 0x5a;
    const p = file('d.zst', d);
    await assert.rejects(
      decodeFile(p, {}),
      (e: unknown) => e instanceof DbnError && e.file === p && /zstd|record|metadata|DBN/.test(e.message),
    );
  });
  it('a zstd frame asking for a window beyond 128 MiB is refused before any allocation', async () => {
    // magic, FHD (no single segment, no checksum), window descriptor: exponent 20 -> 2^30
    const b = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0x01, 0x00, 0x00]);
    await expectDbnError(file('w.zst', b), 0, /zstd window of at most 134217728 bytes .*found 1073741824/);
    // single segment with a 4 GiB content size
    const s = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 1, 0, 0, 0, 0x01, 0, 0]);
    await expectDbnError(file('s.zst', s), 0, /found 4294967296/);
  });
  it('garbage after the last zstd frame', async () => {
    const z = new Uint8Array(zstdCompressSync(trades));
    const g = new Uint8Array(z.length + 8);
    g.set(z);
    g.set([1, 2, 3, 4, 5, 6, 7, 8], z.length);
    await expectDbnError(file('g.zst', g), 449, /zstd frame magic \(28 b5 2f fd\) \(zstd, compressed byte \d+\), found 01 02 03 04/);
  });
  it('a 1 GB garbage file fails on the magic without reading it', async () => {
    const p = join(dir, 'garbage.bin');
    const fd = openSync(p, 'w');
    writeSync(fd, Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]));
    ftruncateSync(fd, 1 << 30); // sparse: 1 GiB
    closeSync(fd);
    await expectDbnError(p, 0, /found de ad be ef/);
  });
  it('a 1 GB garbage stream: at most the first chunk is pulled', async () => {
    let pulled = 0;
    async function* gig() {
      for (let i = 0; i < 1024; i++) {
        pulled++;
        yield new Uint8Array(1 << 20).fill(0xab);
      }
    }
    await assert.rejects(decodeStream(gig(), 'gig', {}), /gig: byte 0: expected DBN magic/);
    assert.equal(pulled, 1);
    pulled = 0;
    async function* zgig() {
      // zstd magic, then garbage block headers
      pulled++;
      yield Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0xff, 0xff, 0xff]);
      for (let i = 0; i < 1024; i++) {
        pulled++;
        yield new Uint8Array(1 << 20).fill(0xff);
      }
    }
    await assert.rejects(decodeStream(zgig(), 'zgig', {}), (e: unknown) => e instanceof DbnError && /zstd/.test(e.message));
    assert.ok(pulled <= 2, `pulled ${pulled}`);
  });
  it('fragments: an unrecognisable record start is refused rather than guessed', async () => {
    const b = fixtureBytes('test_data.definition.v1.dbn.frag').slice();
    b[0] = 91; // 364 bytes: not a known definition size
    await expectDbnError(file('f.frag', b), 0, /record fragment starting with a known record header/);
  });
  it('DBZ is rejected on the first bytes', async () => {
    await expectDbnError(fixturePath('test_data.trades.dbz'), 0, /legacy DBZ/);
  });
});
