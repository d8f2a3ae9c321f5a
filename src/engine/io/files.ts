/** Small file helpers: streaming SHA-256 (cached by file stamp on request) and scoped temp directories. */
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HASH_READ = 1 << 20;

/**
 * Lowercase hex SHA-256 of a file's bytes in bounded memory. Two 1 MiB buffers alternate: one
 * is read into (pool thread) while the other is hashed. A read stream would allocate a new
 * Buffer per MiB, and on a large import that churn triggered most of the mark-compacts.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  let pending: Promise<{ bytesRead: number; buffer: Uint8Array }> | null = null;
  try {
    const bufs = [new Uint8Array(HASH_READ), new Uint8Array(HASH_READ)];
    let turn = 0;
    pending = fh.read(bufs[0]!, 0, HASH_READ, null);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      pending = null;
      if (bytesRead === 0) break;
      turn ^= 1;
      pending = fh.read(bufs[turn]!, 0, HASH_READ, null);
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    if (pending) await pending.catch(() => undefined);
    await fh.close();
  }
  return hash.digest('hex');
}

const digests = new Map<string, { stamp: string; hex: Promise<string> }>();
const DIGESTS_KEPT = 4096;

/**
 * sha256File, kept while the file's size, mtime and inode are unchanged: a server that names
 * files by their digest (ETags, a dataset's bars for workers) hashes each file once.
 */
export async function cachedSha256File(path: string): Promise<string> {
  const st = await stat(path);
  const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const hit = digests.get(path);
  if (hit?.stamp === stamp) return hit.hex;
  const hex = sha256File(path);
  hex.catch(() => {
    if (digests.get(path)?.hex === hex) digests.delete(path);
  });
  if (digests.size >= DIGESTS_KEPT) digests.delete(digests.keys().next().value!);
  digests.set(path, { stamp, hex });
  return hex;
}

/** Runs `fn` with a fresh directory under `parent` (default os.tmpdir()), removed afterwards whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T, opts: { prefix?: string; parent?: string } = {}): Promise<T> {
  const dir = await mkdtemp(join(opts.parent ?? tmpdir(), opts.prefix ?? 'btnb-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
