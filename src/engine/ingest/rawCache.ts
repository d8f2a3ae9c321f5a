/**
 * The content-addressed raw cache (docs/data-layout.md): `raw/databento/<DATASET>/<schema>/<sha256>.dbn[.zst]`.
 * A file is copied verbatim (kernel copy) while it is hashed: bytes go to a temp name in the
 * destination directory, then are fsynced and renamed to their hash name (or dropped if that
 * name already exists: same hash, same bytes). No partial file ever carries a final name.
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { dataPaths } from '../dataDir.ts';
import { isSkippableMagic, isZstdMagic } from '../dbn/zstdFrames.ts';
import { tempPathFor } from '../io/atomicWrite.ts';
import { writePoint } from '../io/crashPoints.ts';
import { sha256File } from '../io/files.ts';

export interface CachedFile {
  sha256: string;
  bytes: number;
  /** Absolute path in the cache. */
  path: string;
  /** Path relative to the data dir (what the catalog stores). */
  relPath: string;
  /** False when the cache already held these bytes. */
  copied: boolean;
}

export async function readHead(path: string, n = 4): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Copies `src` into the cache under its SHA-256; returns where it lives. */
export async function copyIntoCache(
  src: string,
  dataDir: string,
  databentoDataset: string,
  schema: string,
  signal?: AbortSignal,
): Promise<CachedFile> {
  const paths = dataPaths(dataDir);
  const head = await readHead(src);
  const ext = isZstdMagic(head) || isSkippableMagic(head) ? '.dbn.zst' : '.dbn';
  const dir = paths.rawDir(databentoDataset || 'UNKNOWN', schema);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new Error(`${dir}: cannot create the raw cache directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      cause: err,
    });
  }
  const temp = tempPathFor(join(dir, 'incoming'));
  signal?.throwIfAborted();
  let bytes = 0;
  try {
    // The kernel copies (copy_file_range) while this thread hashes the source: one pass of
    // wall time instead of read+hash+write in JS. The source must not change meanwhile.
    const [hashed, copiedTo] = await Promise.allSettled([sha256File(src), copyFile(src, temp, fsConstants.COPYFILE_EXCL)]);
    if (copiedTo.status === 'rejected') throw copiedTo.reason;
    if (hashed.status === 'rejected') throw hashed.reason;
    const sha256 = hashed.value;
    const fh = await open(temp, 'r+');
    try {
      bytes = (await fh.stat()).size;
      await fh.sync();
    } finally {
      await fh.close();
    }
    signal?.throwIfAborted();
    const finalPath = paths.rawFile(databentoDataset || 'UNKNOWN', schema, sha256, ext);
    let copied = true;
    const existing = await stat(finalPath).catch(() => null);
    if (existing && existing.size === bytes) {
      await unlink(temp);
      copied = false;
    } else {
      writePoint(`rename ${finalPath}`);
      await rename(temp, finalPath);
      writePoint(`renamed ${finalPath}`);
    }
    return { sha256, bytes, path: finalPath, relPath: relative(dataDir, finalPath), copied };
  } catch (err) {
    await unlink(temp).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'AbortError') throw err;
    throw new Error(`${src}: copying into the raw cache ${dirname(temp)} failed${e.code ? ` (${e.code})` : ''}: ${e.message}`, {
      cause: err,
    });
  }
}
