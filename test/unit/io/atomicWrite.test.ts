import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createAtomicWriteStream,
  nodeAtomicFs,
  removeStaleTemps,
  sha256File,
  TEMP_NAME_RE,
  withTempDir,
  writeFileAtomic,
  type AtomicFs,
} from '../../../src/engine/io/atomicWrite.ts';

/** A file system that fails the n-th write with ENOSPC after writing part of the buffer. */
function failingFs(failOnWrite: number): AtomicFs & { writes: number } {
  const f = {
    ...nodeAtomicFs,
    writes: 0,
    async write(fd: number, buf: Uint8Array, off: number, len: number) {
      f.writes += 1;
      if (f.writes === failOnWrite) {
        await nodeAtomicFs.write(fd, buf, off, Math.min(len, 7)); // a partial write lands first
        const e = new Error('no space left on device') as NodeJS.ErrnoException;
        e.code = 'ENOSPC';
        throw e;
      }
      // Short writes exercise the write loop: at most 4096 bytes per call.
      return nodeAtomicFs.write(fd, buf, off, Math.min(len, 4096));
    },
  };
  return f;
}

describe('io/atomicWrite', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'btnb-aw-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes bytes and strings, replacing an existing file, leaving no temp behind', async () => {
    const p = join(dir, 'a.bin');
    const data = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);
    await writeFileAtomic(p, data);
    assert.deepEqual(new Uint8Array(readFileSync(p)), data);
    await writeFileAtomic(p, 'héllo');
    assert.equal(readFileSync(p, 'utf8'), 'héllo');
    assert.deepEqual(readdirSync(dir), ['a.bin']);
  });

  it('uses pid + counter temp names in the destination directory', async () => {
    const p = join(dir, 'x.json');
    const seen: string[] = [];
    const spy: AtomicFs = {
      ...nodeAtomicFs,
      open: (path, fl, m) => {
        seen.push(path);
        return nodeAtomicFs.open(path, fl, m);
      },
    };
    await writeFileAtomic(p, '1', { fs: spy });
    await writeFileAtomic(p, '2', { fs: spy });
    assert.equal(seen.length, 2);
    for (const t of seen) {
      assert.equal(join(t, '..'), dir);
      assert.match(t.slice(dir.length + 1), new RegExp(`^\\.x\\.json\\.${process.pid}\\.\\d+\\.tmp$`));
      assert.match(t.slice(dir.length + 1), TEMP_NAME_RE);
    }
    assert.notEqual(seen[0], seen[1]);
  });

  it('a failing write (ENOSPC) leaves the old content under the final name and no temp file', async () => {
    const p = join(dir, 'bars.parquet');
    writeFileSync(p, 'old');
    const f = failingFs(3);
    await assert.rejects(writeFileAtomic(p, new Uint8Array(20_000), { fs: f }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENOSPC');
      assert.match(err.message, /bars\.parquet: writing 20000 bytes/);
      return true;
    });
    assert.equal(f.writes, 3);
    assert.equal(readFileSync(p, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['bars.parquet']);
    // No previous file: nothing at all appears.
    const q = join(dir, 'new.parquet');
    await assert.rejects(writeFileAtomic(q, new Uint8Array(20_000), { fs: failingFs(1) }), /ENOSPC/);
    assert.equal(existsSync(q), false);
    assert.deepEqual(readdirSync(dir), ['bars.parquet']);
  });

  it('a failing rename unlinks the temp file', async () => {
    const p = join(dir, 'm.json');
    const f: AtomicFs = {
      ...nodeAtomicFs,
      rename: async () => {
        throw Object.assign(new Error('EXDEV'), { code: 'EXDEV' });
      },
    };
    await assert.rejects(writeFileAtomic(p, 'x', { fs: f }), /m\.json: renaming .*EXDEV/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a real full disk (64 KiB tmpfs) leaves no file under the final name', async function () {
    const mnt = join(dir, 'tiny');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      this.skip(); // not root / no mount here: the injected-failure tests above cover the logic
    }
    try {
      const p = join(mnt, 'big.bin');
      await assert.rejects(
        writeFileAtomic(p, new Uint8Array(1 << 20)),
        (err: NodeJS.ErrnoException) => err.code === 'ENOSPC' && err.message.includes('big.bin'),
      );
      assert.deepEqual(readdirSync(mnt), []);
      const s = createAtomicWriteStream(join(mnt, 'stream.bin'));
      const chunks = Readable.from(
        (function* () {
          for (let i = 0; i < 64; i++) yield Buffer.alloc(16384, i);
        })(),
      );
      await assert.rejects(pipeline(chunks, s), /ENOSPC/);
      await s.abort(); // waits for the cleanup the failed pipeline started
      assert.deepEqual(readdirSync(mnt), []);
      await writeFileAtomic(join(mnt, 'small.bin'), 'fits');
      assert.deepEqual(readdirSync(mnt), ['small.bin']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('stream: pipeline + commit renames into place; bytesWritten counts', async () => {
    const p = join(dir, 'dl.dbn.zst');
    const s = createAtomicWriteStream(p);
    const parts = [Buffer.from('abc'), Buffer.alloc(3 << 20, 7), Buffer.from('xyz')];
    await pipeline(Readable.from(parts), s);
    assert.equal(existsSync(p), false, 'nothing under the final name before commit');
    await s.commit();
    assert.deepEqual(readFileSync(p), Buffer.concat(parts));
    assert.equal(s.bytesWritten, 6 + (3 << 20));
    assert.deepEqual(readdirSync(dir), ['dl.dbn.zst']);
    await assert.rejects(s.commit(), /already committed/);
  });

  it('stream: abort unlinks the temp file and keeps the old file', async () => {
    const p = join(dir, 'f.bin');
    writeFileSync(p, 'previous');
    const s = createAtomicWriteStream(p);
    s.write(Buffer.alloc(1000));
    await new Promise((r) => s.once('drain', r).write(Buffer.alloc(2 << 20)) && r(undefined));
    await s.abort();
    await s.abort();
    assert.equal(readFileSync(p, 'utf8'), 'previous');
    assert.deepEqual(readdirSync(dir), ['f.bin']);
  });

  it('stream: a write error mid-stream fails pipeline and commit and leaves nothing', async () => {
    const p = join(dir, 'g.bin');
    const s = createAtomicWriteStream(p, { fs: failingFs(5) });
    const src = Readable.from(
      (function* () {
        for (let i = 0; i < 20; i++) yield Buffer.alloc(10_000, i);
      })(),
    );
    await assert.rejects(
      pipeline(src, s),
      (err: NodeJS.ErrnoException) => err.code === 'ENOSPC' && /g\.bin: writing at byte/.test(err.message),
    );
    await assert.rejects(s.commit(), /ENOSPC/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('removeStaleTemps removes temps of dead writers only, never final names or live writers', async () => {
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    writeFileSync(join(dir, 'bars-1m.parquet'), 'final');
    writeFileSync(join(dir, `.bars-1m.parquet.${deadPid}.3.tmp`), 'half');
    writeFileSync(join(dir, `.bars-1m.parquet.${process.pid}.9.tmp`), 'mine, in progress');
    writeFileSync(join(dir, '.bars-1m.parquet.1.1.tmp'), 'pid 1 (init) is alive');
    writeFileSync(join(dir, '.hidden'), 'not a temp');
    assert.deepEqual(await removeStaleTemps(dir), [`.bars-1m.parquet.${deadPid}.3.tmp`]);
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['.bars-1m.parquet.1.1.tmp', `.bars-1m.parquet.${process.pid}.9.tmp`, '.hidden', 'bars-1m.parquet'].sort(),
    );
    assert.deepEqual(await removeStaleTemps(join(dir, 'missing')), []);
  });

  it('sha256File streams and matches crypto over the whole buffer; withTempDir cleans up even on throw', async () => {
    let seen = '';
    await assert.rejects(
      withTempDir(async (d) => {
        seen = d;
        const buf = Buffer.alloc(3 * (1 << 20) + 17);
        for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + (i >> 11)) & 0xff;
        writeFileSync(join(d, 'f'), buf);
        assert.equal(await sha256File(join(d, 'f')), createHash('sha256').update(buf).digest('hex'));
        writeFileSync(join(d, 'e'), '');
        assert.equal(await sha256File(join(d, 'e')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.ok(seen.startsWith(tmpdir()));
    assert.equal(existsSync(seen), false);
    await assert.rejects(sha256File(join(dir, 'missing')), /ENOENT/);
  });
});
