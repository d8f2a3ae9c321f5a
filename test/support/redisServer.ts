// A real Redis for tests (Debian's redis-server): its own free 127.0.0.1 port and temp dir,
// append-only persistence (fsync always) so a restart keeps the queue, stopped with the test.
//
//   const redis = await startRedis();   redis.url  → redis://127.0.0.1:PORT
//   await redis.restart();              // SIGTERM, then the same port and data again
//   await redis.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A free 127.0.0.1 port (for a server whose address others must know in advance). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function ping(port: number, ms: number): Promise<void> {
  const { Redis } = await import('ioredis');
  const t0 = Date.now();
  for (;;) {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined); // refused until the server listens
    try {
      await r.connect();
      if ((await r.ping()) === 'PONG') return;
    } catch {
      /* not yet */
    } finally {
      r.disconnect();
    }
    if (Date.now() - t0 > ms) throw new Error(`redis-server on ${port} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'btnb-redis-'));
  let proc: ChildProcess | null = null;
  let log = '';
  const launch = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    proc.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    try {
      await ping(port, 10_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  };
  const kill = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
