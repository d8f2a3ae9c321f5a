/**
 * `btnb serve`: the engine over HTTP (src/engine/server/). Binds 127.0.0.1 unless told
 * otherwise; any other host requires a bearer token (given, or generated and printed once).
 * SIGINT/SIGTERM: stop accepting, cancel the jobs (their runs end canceled), close, exit 0.
 */
import { randomBytes } from 'node:crypto';
import { intOption, parseArgs, UsageError } from './args.ts';
import type { CliCommand } from './commands.ts';

const HELP = `Usage: btnb serve [--host 127.0.0.1] [--port 8787] [--data-dir DIR] [--token T] [--max-jobs N] [--redis URL]

Serves the catalog, backtests and replays over HTTP: REST with problem-details errors and a
replay WebSocket. Only 127.0.0.1 without a token; any other --host needs a token (--token, or
one generated and printed at start) sent as "Authorization: Bearer <token>".

Options:
  --host H           address to bind (default 127.0.0.1)
  --port N           port (default 8787; 0 = any free port, printed)
  --data-dir D       data directory (default: $BTNB_DATA_DIR or ./data)
  --token T          bearer token for every route but /healthz
  --max-jobs N       backtests/sweeps running at once (default 2); more wait in a queue
  --max-queued N     jobs waiting at most (default 64); beyond, POST answers 429
  --cors ORIGIN      allow this browser origin (no CORS by default)
  --redis URL        coordinate distributed sweeps on this Redis (POST /sweeps {"queue": true};
                     points run on \`btnb worker --redis URL --server <this server>\`)
  --queue-name Q     the BullMQ queue (default btnb-points): one per coordinator sharing a Redis
  --json             print {"url","token"} on start instead of a sentence`;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const command: CliCommand = {
  summary: 'serve the catalog, backtests and replays over HTTP (REST + WebSocket) on 127.0.0.1',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      token: { type: 'string' },
      'max-jobs': { type: 'string' },
      'max-queued': { type: 'string' },
      cors: { type: 'string' },
      redis: { type: 'string' },
      'queue-name': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const host = args.values.get('host') ?? '127.0.0.1';
    const port = intOption(args, 'port', 8787)!;
    if (port < 0 || port > 65535) throw new UsageError('--port expects 0..65535');
    const maxJobs = intOption(args, 'max-jobs', 2)!;
    const maxQueued = intOption(args, 'max-queued', 64)!;
    if (maxJobs < 1) throw new UsageError('--max-jobs expects an integer ≥ 1');
    let token = args.values.get('token') ?? null;
    if (token !== null && token.length < 16) throw new UsageError('--token: use at least 16 characters');
    const generated = token === null && !LOOPBACK.has(host);
    if (generated) token = randomBytes(24).toString('base64url');
    const { resolveDataDir, dataPaths } = await import('../dataDir.ts');
    const dataDir = resolveDataDir(args.values.get('data-dir'));
    const { existsSync } = await import('node:fs');
    if (!existsSync(dataPaths(dataDir).catalog))
      throw new Error(`${dataDir}: no catalog (import data first: btnb data synth … --import --derive, or btnb demo)`);
    await (await import('./recover.ts')).settleAbandoned(dataDir);
    const { jobsDirFor } = await import('../jobs/jobEntries.ts');
    const { buildServer } = await import('../server/app.ts');
    const path = await import('node:path');
    const entry = process.argv[1] ?? '';
    const here = path.dirname(entry);
    // the built run views: next to a bundled CLI (dist/webview), or the repository's build
    const webviewDir = [path.join(here, 'webview'), path.join(here, '..', '..', '..', 'dist', 'webview')].find((d) =>
      existsSync(path.join(d, 'manifest.json')),
    );
    const server = await buildServer({
      dataDir,
      jobsDir: jobsDirFor(entry),
      webviewDir: webviewDir ?? null,
      token,
      maxJobs,
      maxQueued,
      cors: args.values.get('cors') ?? null,
      redisUrl: args.values.get('redis') ?? null,
      ...(args.values.get('queue-name') ? { queueName: args.values.get('queue-name')! } : {}),
      log: (line) => process.stderr.write(`btnb serve: ${line}\n`),
    });
    const url = await server.app.listen({ host, port });
    if (args.flags.has('json')) process.stdout.write(`${JSON.stringify({ url, token: generated ? token : null })}\n`);
    else {
      process.stdout.write(`btnb serve: ${url} (data ${dataDir})\n`);
      if (generated) process.stdout.write(`token: ${token}  (send "Authorization: Bearer <token>")\n`);
    }
    return await new Promise<number>((resolveExit) => {
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`btnb serve: ${sig}: stopping\n`);
        void server.close().then(() => resolveExit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
  },
};
