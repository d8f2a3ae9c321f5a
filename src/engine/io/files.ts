/** Small file helpers: streaming SHA-256 and scoped temp directories. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Lowercase hex SHA-256 of a file's bytes, read in 1 MiB chunks (bounded memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
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
