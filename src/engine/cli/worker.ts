/**
 * `btnb worker`: runs distributed sweep points from BullMQ on Redis (distributed/worker.ts) for
 * the coordinator at --server (`btnb serve --redis`, or `btnb sweep --queue`). It keeps no
 * catalog; SIGINT/SIGTERM finish the points in hand, then exit.
 */
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { intOption, parseArgs, UsageError } from './args.ts';
import type { CliCommand } from './commands.ts';

const HELP = `Usage: btnb worker --redis redis://HOST:6379 --server http://COORDINATOR:8787 [--token T] [--concurrency N] [--cache DIR]

Takes sweep points from the BullMQ queue on --redis and runs them with this engine: bars come
from the coordinator (verified by SHA-256, cached in --cache), results and files go back to it.
A worker whose engine version differs from the coordinator's refuses to start.

Options:
  --redis URL        the Redis the coordinator queues points on
  --server URL       the coordinator (btnb serve --redis …, or btnb sweep … --queue …)
  --token T          the coordinator's bearer token (or $BTNB_TOKEN)
  --concurrency N    points in progress at once (default 1 per core: ${availableParallelism()})
  --cache DIR        bars and strategy sources (default ~/.cache/btnb-worker)
  --queue-name Q     BullMQ queue (default btnb-points)
  --lock-duration MS     how long a point's lock lasts unrenewed (default 60000; renewed at half)
  --stalled-interval MS  how often this worker looks for points whose worker died (default 15000)`;

export const command: CliCommand = {
  summary: 'run distributed sweep points from a BullMQ queue on Redis for a coordinator',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {
      redis: { type: 'string' },
      server: { type: 'string' },
      token: { type: 'string' },
      concurrency: { type: 'string' },
      cache: { type: 'string' },
      'queue-name': { type: 'string' },
      'lock-duration': { type: 'string' },
      'stalled-interval': { type: 'string' },
    });
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const redisUrl = args.values.get('redis');
    const server = args.values.get('server');
    if (!redisUrl) throw new UsageError('--redis is required (e.g. redis://127.0.0.1:6379)');
    if (!server) throw new UsageError('--server is required (the coordinator, e.g. http://127.0.0.1:8787)');
    const concurrency = intOption(args, 'concurrency', availableParallelism())!;
    if (concurrency < 1) throw new UsageError('--concurrency expects an integer ≥ 1');
    const { startWorker } = await import('../distributed/worker.ts');
    const log = (line: string) => process.stderr.write(`btnb worker ${process.pid}: ${line}\n`);
    const w = await startWorker({
      redisUrl,
      server,
      token: args.values.get('token') ?? process.env.BTNB_TOKEN ?? null,
      concurrency,
      cacheDir: args.values.get('cache') ?? join(homedir(), '.cache', 'btnb-worker'),
      ...(args.values.get('queue-name') ? { queueName: args.values.get('queue-name')! } : {}),
      ...(intOption(args, 'lock-duration') ? { lockDurationMs: intOption(args, 'lock-duration')! } : {}),
      ...(intOption(args, 'stalled-interval') ? { stalledIntervalMs: intOption(args, 'stalled-interval')! } : {}),
      log,
    });
    log(`ready: ${concurrency} slot(s) on ${redisUrl}, coordinator ${server}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log('stopping: finishing the points in hand');
    await w.close();
    log(`stopped after ${w.done()} point(s)`);
    return 0;
  },
};
