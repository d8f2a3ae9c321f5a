// The owned-buffer native zstd path (zstdRing.ts) against zstd's own one-shot decompression and
// the public-stream path: slot boundaries, frame boundaries, input chunking, a slow consumer
// holding each chunk while the pool runs ahead, framing errors and early abandonment.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { constants as zlib, zstdCompressSync } from 'node:zlib';
import { DbnError } from '../../../src/engine/dbn/errors.ts';
import { ZstdStream, type ZstdImpl } from '../../../src/engine/dbn/zstd.ts';
import { ZstdFrameSplitter, type FrameSegment } from '../../../src/engine/dbn/zstdFrames.ts';
import { ringSupported, zstdBinding } from '../../../src/engine/dbn/zstdRing.ts';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Compressible but not trivial bytes (a random walk), so frames have many blocks. */
function plainBytes(n: number, seed: number): Uint8Array {
  const rnd = prng(seed);
  const b = new Uint8Array(n);
  let v = 0;
  for (let i = 0; i < n; i++) {
    v = (v + (rnd() < 0.2 ? Math.floor(rnd() * 7) - 3 : 0)) & 0xff;
    b[i] = v ^ (i & 3);
  }
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Frames of the plain bytes cut at `cuts`, with a skippable frame between some of them. */
function framed(plain: Uint8Array, cuts: number[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const [k, to] of [...cuts, plain.length].entries()) {
    parts.push(new Uint8Array(zstdCompressSync(plain.subarray(from, to))));
    if (k % 2 === 0) parts.push(Uint8Array.from([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 7, 7]));
    from = to;
  }
  return concat(parts);
}

async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.slice(i, i + size);
}

/**
 * Decompresses through ZstdStream; a slow consumer re-checks each chunk after yielding to the
 * event loop (so the pool fills the other slots meanwhile): a slot reused too early shows.
 */
async function run(
  z: Uint8Array,
  impl: ZstdImpl,
  inSize: number,
  slot: number,
): Promise<{ out: Uint8Array; offsets: number[]; buffers: number; stream: ZstdStream }> {
  const stream = new ZstdStream('t.zst', impl, slot);
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const c of stream.decompress(chunks(z, inSize))) {
    const copy = c.slice();
    offsets.push(c.byteOffset);
    buffers.add(c.buffer);
    await tick();
    assert.deepEqual(c, copy, 'a chunk changed while the consumer held it');
    parts.push(copy);
  }
  return { out: concat(parts), offsets, buffers: buffers.size, stream };
}

describe('native zstd into owned buffers (zstdRing)', () => {
  before(function () {
    if (zstdBinding() === null) this.skip();
  });
  const plain = plainBytes(600_000, 3);
  const z = framed(plain, [1, 100_000, 100_003, 350_000]);

  it('decompresses multi-frame input with skippable frames like zstd, at any slot and input size', async () => {
    for (const [inSize, slot] of [
      [z.length, 1 << 20],
      [4096, 65536],
      [1000, 4096],
      [37, 4099],
      [65536, 61],
    ] as const) {
      const r = await run(z, 'native', inSize, slot);
      assert.deepEqual(r.out, plain, `input ${inSize}, slot ${slot}`);
      assert.equal(r.stream.decompressedBytes, plain.length);
      assert.equal(r.stream.compressedBytes, z.length);
      // Every chunk starts at the start of its slot: 4-aligned for the decoder's word path.
      assert.ok(
        r.offsets.every((o) => o === 0),
        `input ${inSize}, slot ${slot}`,
      );
      // Bounded memory: the output always comes from the same few slots (4), allocated on need.
      assert.ok(r.buffers <= 4, `${r.buffers} output buffers`);
      if (slot >= 4096) assert.ok(r.offsets.length <= Math.ceil(plain.length / slot) + Math.ceil(z.length / inSize) + 1);
    }
  });

  it('gives the same bytes as the public stream path', async () => {
    const a = await run(z, 'native', 8192, 10_000);
    const b = await run(z, 'native-stream', 8192, 10_000);
    assert.deepEqual(a.out, b.out);
  });

  it("writes into slots the consumer gives (the decoder's kernel memory) and hands out views of them, same bytes", async () => {
    const host = new Uint8Array(4 * 8192 + 64);
    let asked: number[] = [];
    const stream = new ZstdStream('t.zst', 'native', 8192, (count, bytes) => {
      asked = [count, bytes];
      return Array.from({ length: count }, (_, i) => host.subarray(16 + i * 8192, 16 + (i + 1) * 8192));
    });
    const parts: Uint8Array[] = [];
    for await (const c of stream.decompress(chunks(z, 10_000))) {
      assert.equal(c.buffer, host.buffer, 'output lands in the given slots');
      assert.ok(c.byteOffset >= 16 && c.byteOffset + c.length <= 16 + 4 * 8192);
      parts.push(c.slice());
    }
    assert.deepEqual(asked, [4, 8192]);
    assert.deepEqual(concat(parts), plain);
  });

  it('the first output is handed on before more input is read (readMetadata stops early)', async () => {
    const stream = new ZstdStream('t.zst', 'native', 1 << 20);
    let pulled = 0;
    async function* src(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < z.length; i += 1024) {
        pulled++;
        yield z.slice(i, i + 1024);
      }
    }
    for await (const c of stream.decompress(src())) {
      assert.ok(c.length > 0 && c.length < plain.length);
      break;
    }
    assert.ok(pulled <= 2, `pulled ${pulled} input chunks before the first output`);
  });

  it('a framing error after valid frames is raised at the exact decompressed offset, after that output', async () => {
    const bad = concat([z, Uint8Array.from([1, 2, 3, 4, 5])]);
    for (const slot of [61, 4096, 1 << 20]) {
      const stream = new ZstdStream('g.zst', 'native', slot);
      let seen = 0;
      await assert.rejects(
        async () => {
          for await (const c of stream.decompress(chunks(bad, 5000))) seen += c.length;
        },
        (e: unknown) => {
          assert.ok(e instanceof DbnError);
          assert.equal(e.offset, plain.length);
          assert.match(e.message, /zstd frame magic \(28 b5 2f fd\)/);
          return true;
        },
      );
      assert.equal(seen, plain.length);
    }
  });

  it('corrupt block contents and a truncated frame are DbnErrors', async () => {
    const one = new Uint8Array(zstdCompressSync(plain, { params: { [zlib.ZSTD_c_checksumFlag]: 1 } }));
    const damaged = one.slice();
    for (let i = 200; i < 260; i++) damaged[i] = damaged[i]! ^ 0x5a;
    for (const [b, re] of [
      [damaged, /valid zstd stream|zstd block/],
      [one.subarray(0, one.length - 9), /the rest of the zstd frame/],
    ] as const) {
      await assert.rejects(
        async () => {
          for await (const _ of new ZstdStream('c.zst', 'native', 4096).decompress(chunks(b, 3000))) {
            /* drain */
          }
        },
        (e: unknown) => e instanceof DbnError && re.test(e.message),
      );
    }
  });

  it('abandoning the stream mid-way (a write in flight) closes cleanly', async () => {
    for (let k = 0; k < 20; k++) {
      const stream = new ZstdStream('a.zst', 'native', 4096);
      let n = 0;
      for await (const _ of stream.decompress(chunks(z, 50_000))) if (++n > k) break;
    }
    await tick();
  });
});

describe('ZstdFrameSplitter slices', () => {
  const plain = plainBytes(300_000, 5);
  const f1 = new Uint8Array(zstdCompressSync(plain.subarray(0, 200_000)));
  const f2 = new Uint8Array(zstdCompressSync(plain.subarray(200_000)));
  const skip = Uint8Array.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  const z = concat([f1, skip, f2]);
  const frameBytes = concat([f1, f2]);

  it('a chunk inside one frame is one view of the chunk (no copy); every cut gives the frame bytes back, frame ends marked', () => {
    const whole = new ZstdFrameSplitter('s');
    const segs: FrameSegment[] = [];
    whole.push(z, segs);
    // One slice per frame, each a view of the input.
    assert.deepEqual(
      segs.map((s) => [s.bytes.byteOffset, s.bytes.length, s.frameEnd]),
      [
        [0, f1.length, true],
        [f1.length + skip.length, f2.length, true],
      ],
    );
    assert.ok(segs.every((s) => s.bytes.buffer === z.buffer));
    for (let cut = 1; cut < z.length; cut += cut < 64 || z.length - cut < 64 ? 1 : 97) {
      const sp = new ZstdFrameSplitter('s');
      const out: Uint8Array[] = [];
      const ends: number[] = [];
      let len = 0;
      for (const part of [z.slice(0, cut), z.slice(cut)]) {
        const s: FrameSegment[] = [];
        sp.push(part, s);
        assert.ok(s.length <= 4, `cut ${cut}: ${s.length} slices`);
        for (const x of s) {
          out.push(x.bytes);
          len += x.bytes.length;
          if (x.frameEnd) ends.push(len);
        }
      }
      assert.deepEqual(concat(out), frameBytes, `cut ${cut}`);
      assert.deepEqual(ends, [f1.length, frameBytes.length], `cut ${cut}`);
      assert.ok(sp.atFrameBoundary);
    }
  });
});

describe('native zstd binding under --pending-deprecation', () => {
  it('falls back to the public stream: no DEP0111 warning, and --throw-deprecation does not kill the process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'btnb-zstd-dep-'));
    try {
      const p = join(dir, 'f.zst');
      writeFileSync(p, zstdCompressSync(plainBytes(100_000, 9)));
      const code = `import('${join(import.meta.dirname, '../../../src/engine/dbn/zstd.ts')}').then(async (m) => {
        const { createReadStream } = await import('node:fs');
        let n = 0;
        for await (const c of new m.ZstdStream('f.zst').decompress(createReadStream(${JSON.stringify(p)}))) n += c.length;
        console.log(n);
      });`;
      const r = spawnSync(process.execPath, ['--pending-deprecation', '--throw-deprecation', '-e', code], { encoding: 'utf8' });
      assert.equal(r.stderr, '');
      assert.equal(r.status, 0);
      assert.equal(r.stdout.trim(), '100000');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('native zstd ring: runtime guard', () => {
  it('drives the internal binding only on the Node majors it was tested against (else the public stream), unless forced', () => {
    assert.equal(ringSupported('24.21.0', {}), true);
    assert.equal(ringSupported('22.20.0', {}), false, "e.g. the Node inside VS Code's Electron");
    assert.equal(ringSupported('26.0.0', {}), false);
    assert.equal(ringSupported('22.20.0', { BTNB_ZSTD_RING: '1' }), true);
    assert.equal(ringSupported('24.21.0', { BTNB_ZSTD_RING: '0' }), false);
  });

  it('a runtime without the ring still decodes through the public stream (same bytes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'btnb-zstd-guard-'));
    try {
      const p = join(dir, 'f.zst');
      const plain = plainBytes(300_000, 5);
      writeFileSync(p, zstdCompressSync(plain));
      const code = `import('${join(import.meta.dirname, '../../../src/engine/dbn/zstd.ts')}').then(async (m) => {
        const { zstdBinding } = await import('${join(import.meta.dirname, '../../../src/engine/dbn/zstdRing.ts')}');
        const { createReadStream } = await import('node:fs');
        const { createHash } = await import('node:crypto');
        const h = createHash('sha256');
        for await (const c of new m.ZstdStream('f.zst').decompress(createReadStream(${JSON.stringify(p)}))) h.update(c);
        console.log(zstdBinding() === null, h.digest('hex'));
      });`;
      const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, BTNB_ZSTD_RING: '0' } });
      assert.equal(r.stderr, '');
      assert.equal(r.stdout.trim(), `true ${createHash('sha256').update(plain).digest('hex')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
