import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { zstdCompressSync } from 'node:zlib';
import { makeRedactor, parseErrorBody, parseRetryAfter, parseWarnings } from '../../../src/engine/databento/errors.ts';
import { formatBytes, formatUsd, ProgressRenderer } from '../../../src/engine/databento/progress.ts';
import { ZstdFrameError, ZstdFrameWalker } from '../../../src/engine/databento/zstdFrames.ts';

const walk = (b: Uint8Array, step = b.length): ZstdFrameWalker => {
  const w = new ZstdFrameWalker();
  for (let i = 0; i < b.length; i += step) w.push(b.subarray(i, i + step));
  return w;
};

describe('databento helpers', () => {
  describe('ZstdFrameWalker', () => {
    it('counts the 8 frames of the multi-frame fixture and their declared 2880 content bytes (as `zstd -lv` reports), fed 1 byte at a time', () => {
      const b = readFileSync('test/fixtures/dbn/multi-frame.definition.v1.dbn.frag.zst');
      const w = walk(b, 1);
      assert.equal(w.frames, 8);
      assert.equal(w.contentSize, 2880n);
      assert.equal(w.complete, true);
      w.finish();
    });

    it('no strict prefix of a single-frame stream is complete; finish() names the byte where it was cut', () => {
      const b = readFileSync('test/fixtures/dbn/test_data.tbbo.v3.dbn.zst');
      assert.equal(walk(b).complete, true);
      for (let cut = 0; cut < b.length; cut++) {
        const w = walk(b.subarray(0, cut), 13);
        assert.equal(w.complete, false, `prefix ${cut}`);
        assert.throws(
          () => w.finish(),
          (e: ZstdFrameError) => e instanceof ZstdFrameError && e.offset === cut,
        );
      }
    });

    it('frames written by zlib (with content size and checksum) and skippable frames walk cleanly', () => {
      const data = Buffer.alloc(300_000, 7);
      for (let i = 0; i < data.length; i += 97) data[i] = i & 0xff;
      const z = zstdCompressSync(data);
      const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
      const w = walk(Buffer.concat([z, skippable, z]), 1000);
      assert.equal(w.frames, 2);
      assert.equal(w.complete, true);
      assert.equal(w.contentSize, 600_000n);
      assert.equal(z[4]! & 0x04, 0, 'zlib frames carry no checksum');
    });

    it('frames from the zstd CLI (streamed: checksum, no content size) walk cleanly; cutting the checksum is caught', () => {
      const data = Buffer.alloc(400_000);
      let x = 12345;
      for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 28; // low-entropy, multi-block
      const z = execFileSync('zstd', ['-c', '--check', '-q'], { input: data });
      assert.equal(z[4]! & 0x04, 0x04, 'checksum flag set');
      const w = walk(z, 4096);
      assert.equal(w.frames, 1);
      assert.equal(w.complete, true);
      assert.equal(w.contentSize, null);
      assert.throws(
        () => walk(z.subarray(0, z.length - 2)).finish(),
        /expected more of zstd frame 1 \(2 more bytes of block data or checksum\)/,
      );
    });

    it('rejects bytes that are not zstd, naming the offset and what was expected', () => {
      const z = readFileSync('test/fixtures/dbn/test_data.trades.v3.dbn.zst');
      assert.throws(() => walk(Buffer.from('{"detail":"x"}')), /at byte 0 expected a zstd frame magic \(28 b5 2f fd\), got 7b 22 64 65/);
      assert.throws(() => walk(Buffer.concat([z, Buffer.from('DBN\x03')])), new RegExp(`at byte ${z.length} expected a zstd frame magic`));
    });
  });

  describe('error bodies, Retry-After, X-Warning, redaction', () => {
    it('parses both JSON error shapes and falls back to the raw body', () => {
      assert.deepEqual(parseErrorBody('{"detail":"Authentication failed."}'), { detail: 'Authentication failed.', case: null, docs: null });
      assert.deepEqual(
        parseErrorBody(
          '{"detail":{"case":"data_start_before_available_start","message":"Too early.","status_code":422,"docs":"https://d/x","payload":{}}}',
        ),
        { detail: 'Too early.', case: 'data_start_before_available_start', docs: 'https://d/x' },
      );
      assert.deepEqual(parseErrorBody('  Bad\n\nGateway  '), { detail: 'Bad Gateway', case: null, docs: null });
      assert.equal(parseErrorBody('x'.repeat(600)).detail.length, 501);
    });

    it('Retry-After: delta seconds or HTTP-date, null when invalid', () => {
      const now = Date.parse('2024-01-02T10:00:00Z');
      assert.equal(parseRetryAfter('1', now), 1000);
      assert.equal(parseRetryAfter('0', now), 0);
      assert.equal(parseRetryAfter('Tue, 02 Jan 2024 10:00:05 GMT', now), 5000);
      assert.equal(parseRetryAfter('Tue, 02 Jan 2024 09:59:00 GMT', now), 0);
      assert.equal(parseRetryAfter('soon', now), null);
      assert.equal(parseRetryAfter(undefined, now), null);
    });

    it('X-Warning: a JSON array of strings (or plain text)', () => {
      assert.deepEqual(parseWarnings('["a","b"]'), ['a', 'b']);
      assert.deepEqual(parseWarnings('plain warning'), ['plain warning']);
      assert.deepEqual(parseWarnings(undefined), []);
    });

    it('redacts the key and the base64 forms an Authorization header would carry', () => {
      const key = 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ123';
      const r = makeRedactor(key);
      const b64 = Buffer.from(`${key}:`).toString('base64');
      assert.equal(r(`key=${key}; auth=Basic ${b64}`), 'key=<redacted>; auth=Basic <redacted>');
    });
  });

  describe('progress output', () => {
    it('formats sizes in decimal units and sub-cent costs honestly', () => {
      assert.deepEqual([0, 999, 1000, 12_345, 123_456_789, 1.5e12].map(formatBytes), [
        '0 B',
        '999 B',
        '1.00 kB',
        '12.3 kB',
        '123 MB',
        '1.50 TB',
      ]);
      assert.deepEqual([0, 0.004, 0.005, 1234.567].map(formatUsd), ['$0.00', '<$0.01', '$0.01', '$1,234.57']);
    });

    it('TTY: a bar when the size is known, redrawn at most every intervalMs; plain mode: throttled lines', () => {
      let tty = '';
      const r = new ProgressRenderer({ write: (s: string) => (tty += s) }, 'trades', true, { intervalMs: 100, width: 10 });
      r.update({ bytes: 0, totalBytes: 2_000_000, attempt: 1, elapsedMs: 0, done: false });
      r.update({ bytes: 500_000, totalBytes: 2_000_000, attempt: 1, elapsedMs: 50, done: false }); // throttled
      r.update({ bytes: 1_000_000, totalBytes: 2_000_000, attempt: 1, elapsedMs: 500, done: false });
      r.update({ bytes: 2_000_000, totalBytes: 2_000_000, attempt: 1, elapsedMs: 1000, done: true });
      r.finish();
      assert.equal(
        tty,
        '\rtrades [..........]   0%  0 B / 2.00 MB  —  0:00\x1b[K' +
          '\rtrades [#####.....]  50%  1.00 MB / 2.00 MB  2.00 MB/s  0:00\x1b[K' +
          '\rtrades: 2.00 MB in 1.0 s (2.00 MB/s)\x1b[K\n',
      );
      let plain = '';
      const p = new ProgressRenderer({ write: (s: string) => (plain += s) }, 'tbbo', false, { logEveryMs: 1000 });
      for (let t = 0; t <= 2500; t += 250) p.update({ bytes: t * 1000, totalBytes: null, attempt: 1, elapsedMs: t, done: false });
      assert.equal(plain, 'tbbo: 1.00 MB  1.00 MB/s  0:01\ntbbo: 2.00 MB  1.00 MB/s  0:02\n');
    });
  });
});
