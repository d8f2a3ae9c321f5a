/** Redis connections for BullMQ from a `redis://[user:pass@]host:port[/db]` URL (ioredis, BullMQ's client). */
import { Redis } from 'ioredis';

export function redisConnection(url: string, opts: { autoPipelining?: boolean } = {}): Redis {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis '${url}': expected a URL like redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--redis '${url}': expected redis:// or rediss://`);
  // BullMQ's blocking connections need maxRetriesPerRequest null: a command waits out a Redis
  // restart (ioredis reconnects) instead of failing after 20 retries
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    enableAutoPipelining: opts.autoPipelining === true,
  });
}
