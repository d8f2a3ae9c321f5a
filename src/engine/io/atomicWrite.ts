/**
 * Atomic file writes (docs/data-layout.md): bytes go to a temporary name in the destination's own
 * directory (same filesystem, so rename is atomic), are fsynced, and only then renamed over the
 * final name. A failure or an abort unlinks the temporary file, so no reader ever sees a
 * half-written file under a final name.
 *
 * Temp names are `.<basename>.<pid>.<counter>.tmp`: unique per process without randomness,
 * recognisable (and safe to sweep) after a crash.
 */
import { writePoint } from './crashPoints.ts';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';

/** The file-system calls an atomic write makes; injectable so tests can fail any of them. */
export interface AtomicFs {
  open(path: string, flags: string, mode: number): Promise<number>;
  write(fd: number, buf: Uint8Array, offset: number, length: number): Promise<number>;
  fsync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

function cb<T>(run: (done: (err: NodeJS.ErrnoException | null, v?: T) => void) => void): Promise<T> {
  return new Promise((res, rej) => run((err, v) => (err ? rej(err) : res(v as T))));
}

export const nodeAtomicFs: AtomicFs = {
  open: (p, flags, mode) => cb<number>((d) => fs.open(p, flags, mode, d)),
  write: (fd, buf, off, len) => cb<number>((d) => fs.write(fd, buf, off, len, null, d)),
  fsync: (fd) => cb<void>((d) => fs.fsync(fd, d)),
  close: (fd) => cb<void>((d) => fs.close(fd, d)),
  rename: (a, b) => cb<void>((d) => fs.rename(a, b, d)),
  unlink: (p) => cb<void>((d) => fs.unlink(p, d)),
};

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644, subject to the umask). */
  mode?: number;
  /** fsync the file before rename and the directory after it (default true). */
  fsync?: boolean;
  /** Injected file system (tests). */
  fs?: AtomicFs;
}

let tempCounter = 0;

/** A fresh temp path next to `finalPath` (exported for tests and for sweeping stale temps). */
export function tempPathFor(finalPath: string): string {
  tempCounter += 1;
  return join(dirname(finalPath), `.${basename(finalPath)}.${process.pid}.${tempCounter}.tmp`);
}

/** Matches temp names made by `tempPathFor` (any pid); group 1 is the writer's pid. */
export const TEMP_NAME_RE = /^\..+\.(\d+)\.\d+\.tmp$/;

async function openTemp(finalPath: string, afs: AtomicFs, mode: number): Promise<{ fd: number; temp: string }> {
  // 'wx' = O_CREAT|O_EXCL: a leftover temp of a dead process with a recycled pid is never reused.
  for (let attempt = 0; ; attempt++) {
    const temp = tempPathFor(finalPath);
    try {
      return { fd: await afs.open(temp, 'wx', mode), temp };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw annotate(err, finalPath, 'creating the temporary file');
    }
  }
}

function annotate(err: unknown, path: string, what: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  const wrapped = new Error(`${path}: ${what} failed${code ? ` (${code})` : ''}: ${e.message}`, { cause: e });
  if (code) (wrapped as NodeJS.ErrnoException).code = code;
  return wrapped;
}

async function writeAll(afs: AtomicFs, fd: number, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const n = await afs.write(fd, buf, off, buf.length - off);
    if (n <= 0) throw new Error(`short write (${n} bytes) at offset ${off}`);
    off += n;
  }
}

/** fsync a directory so a rename in it survives a crash (best effort: not every platform allows it). */
export async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename itself durable. Not every platform allows opening a directory; best effort.
  try {
    const fd = await cb<number>((d) => fs.open(dir, 'r', d));
    try {
      await cb<void>((d) => fs.fsync(fd, d));
    } finally {
      await cb<void>((d) => fs.close(fd, d));
    }
  } catch {
    /* not supported here */
  }
}

async function discard(afs: AtomicFs, fd: number | null, temp: string): Promise<void> {
  if (fd !== null) {
    try {
      await afs.close(fd);
    } catch {
      /* already failing */
    }
  }
  try {
    await afs.unlink(temp);
  } catch {
    /* already gone */
  }
}

/** Writes `data` to `path` atomically: the final name holds either the old content or all of the new. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const afs = opts.fs ?? nodeAtomicFs;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const { fd, temp } = await openTemp(path, afs, opts.mode ?? 0o644);
  let open: number | null = fd;
  try {
    writePoint(`write ${path}`);
    try {
      await writeAll(afs, fd, bytes);
    } catch (err) {
      throw annotate(err, path, `writing ${bytes.length} bytes to ${temp}`);
    }
    if (opts.fsync !== false) {
      try {
        await afs.fsync(fd);
      } catch (err) {
        throw annotate(err, path, 'fsync');
      }
    }
    open = null;
    try {
      await afs.close(fd);
    } catch (err) {
      throw annotate(err, path, 'close');
    }
    writePoint(`rename ${path}`);
    try {
      await afs.rename(temp, path);
    } catch (err) {
      throw annotate(err, path, `renaming ${temp}`);
    }
    writePoint(`renamed ${path}`);
  } catch (err) {
    await discard(afs, open, temp);
    throw err;
  }
  if (opts.fsync !== false && !opts.fs) await fsyncDir(dirname(path));
}

/**
 * A Writable to a temp file; `commit()` ends it (if not yet ended), fsyncs and renames it into
 * place; `abort()` or any stream error (e.g. a failed `pipeline`) unlinks the temp file.
 */
export class AtomicWriteStream extends Writable {
  readonly path: string;
  tempPath = '';
  bytesWritten = 0;
  #afs: AtomicFs;
  #opts: AtomicWriteOptions;
  #fd: number | null = null;
  #state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(path: string, opts: AtomicWriteOptions = {}) {
    // autoDestroy off: 'finish' must not discard the temp file before commit() renames it.
    super({ highWaterMark: 1 << 20, autoDestroy: false });
    this.path = path;
    this.#afs = opts.fs ?? nodeAtomicFs;
    this.#opts = opts;
  }

  override _construct(done: (err?: Error | null) => void): void {
    openTemp(this.path, this.#afs, this.#opts.mode ?? 0o644).then(({ fd, temp }) => {
      this.#fd = fd;
      this.tempPath = temp;
      done();
    }, done);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    writeAll(this.#afs, this.#fd!, chunk).then(
      () => {
        this.bytesWritten += chunk.length;
        done();
      },
      (err) => done(annotate(err, this.path, `writing at byte ${this.bytesWritten} of ${this.tempPath}`)),
    );
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.#opts.fsync === false) {
      done();
      return;
    }
    this.#afs.fsync(this.#fd!).then(
      () => done(),
      (err) => done(annotate(err, this.path, 'fsync')),
    );
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.#state === 'committed') {
      done(err);
      return;
    }
    this.#state = 'aborted';
    const fd = this.#fd;
    this.#fd = null;
    const temp = this.tempPath;
    (temp ? discard(this.#afs, fd, temp) : Promise.resolve()).then(
      () => done(err),
      () => done(err),
    );
  }

  /** Finishes the file and renames it to its final name. Rejects (and unlinks) on any failure. */
  async commit(): Promise<void> {
    if (this.#state === 'committed') throw new Error(`${this.path}: atomic write already committed`);
    if (this.errored || this.destroyed) {
      await this.abort();
      throw this.errored ?? new Error(`${this.path}: atomic write already aborted`);
    }
    try {
      await this.#finish();
    } catch (err) {
      await this.abort();
      throw err;
    }
    const fd = this.#fd!;
    this.#fd = null;
    try {
      await this.#afs.close(fd);
      writePoint(`rename ${this.path}`);
      await this.#afs.rename(this.tempPath, this.path);
      writePoint(`renamed ${this.path}`);
    } catch (err) {
      this.#state = 'aborted';
      try {
        await this.#afs.unlink(this.tempPath);
      } catch {
        /* gone */
      }
      throw annotate(err, this.path, `committing ${this.tempPath}`);
    }
    this.#state = 'committed';
    this.destroy();
    if (this.#opts.fsync !== false && !this.#opts.fs) await fsyncDir(dirname(this.path));
  }

  /** Ends the stream (if needed) and waits until _final (fsync) has run. */
  #finish(): Promise<void> {
    return new Promise<void>((res, rej) => {
      if (this.writableFinished) {
        res();
        return;
      }
      const onErr = (e: Error) => {
        this.off('finish', onFinish);
        rej(e);
      };
      const onFinish = () => {
        this.off('error', onErr);
        res();
      };
      this.once('error', onErr);
      this.once('finish', onFinish);
      if (!this.writableEnded) this.end();
    });
  }

  /**
   * Discards the temp file; the final name is untouched. Resolves once the temp file is gone,
   * also after a stream error (e.g. `pipeline` rejected) started the cleanup. Idempotent.
   */
  async abort(reason?: Error): Promise<void> {
    if (this.#state === 'committed' || this.closed) return;
    await new Promise<void>((res) => {
      this.once('close', () => res());
      if (!this.destroyed) this.destroy(reason);
    });
  }
}

export function createAtomicWriteStream(path: string, opts: AtomicWriteOptions = {}): AtomicWriteStream {
  const s = new AtomicWriteStream(path, opts);
  // An error is reported through commit()/pipeline; keep an unobserved one from crashing the process.
  s.on('error', () => {});
  return s;
}

export { sha256File, withTempDir } from './files.ts';

export function pidAlive(pid: number): boolean {
  // Linux: an exited process not yet reaped (a zombie) still answers kill(pid, 0); it is gone.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes temp files left in `dir` by writers that crashed (their pid is gone); files of live
 * processes — possibly mid-write — are kept. Returns the names removed. Never touches final names.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const { readdir, unlink } = await import('node:fs/promises');
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const name of names.sort()) {
    const m = TEMP_NAME_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return removed;
}
