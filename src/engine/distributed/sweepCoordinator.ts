/**
 * A coordinator for one sweep (`btnb sweep --queue`, and a `sweep` job with `queue`: the
 * extension's and notebooks' sweeps): this process is the catalog's only writer, BullMQ's
 * producer, and (on `listen`) the HTTP face `btnb worker`s fetch bars from and upload files to —
 * the same app and routes as `btnb serve --redis`. It ends with the sweep.
 */
import type { SweepRequest, SweepResult } from '../sweep/index.ts';

/** A coordinator's address is not usable (bad HOST:PORT, or not loopback without a token). */
export class ListenError extends Error {
  override name = 'ListenError';
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function coordinateSweep(
  req: SweepRequest,
  o: {
    redisUrl: string;
    listen: string;
    token: string | null;
    quiet: boolean;
    queueName?: string;
    jobsDir?: string;
    log?: (line: string) => void;
  },
): Promise<SweepResult> {
  const m = /^(.*):(\d+)$/.exec(o.listen);
  if (!m) throw new ListenError(`listen: expected HOST:PORT, got '${o.listen}'`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (!LOOPBACK.has(host) && !o.token) throw new ListenError(`listen ${o.listen} is not loopback: the workers need a token`);
  const [{ buildServer }, { jobsDirFor }, { runQueuedSweep }, { recoverDataDir }] = await Promise.all([
    import('../server/app.ts'),
    import('../jobs/jobEntries.ts'),
    import('../distributed/queuedSweep.ts'),
    import('../recovery.ts'),
  ]);
  await recoverDataDir(req.dataDir);
  const s = await buildServer({
    dataDir: req.dataDir,
    jobsDir: o.jobsDir ?? jobsDirFor(process.argv[1]!),
    token: o.token,
    maxJobs: 1,
    maxQueued: 64,
    redisUrl: o.redisUrl,
    ...(o.queueName ? { queueName: o.queueName } : {}),
    webviewDir: null,
    workersOnly: true,
    ...(o.log ? { log: o.log } : o.quiet ? {} : { log: (line: string) => process.stderr.write(`btnb sweep: ${line}\n`) }),
  });
  try {
    const url = await s.app.listen({ host, port: Number(m[2]) });
    const hello = `coordinating on ${url} (workers: btnb worker --redis ${o.redisUrl} --server ${url})`;
    if (o.log) o.log(hello);
    else if (!o.quiet) process.stderr.write(`btnb sweep: ${hello}\n`);
    const { ensureRunArtifacts } = await import('../backtest/materialize.ts');
    return await runQueuedSweep(s.ctx.coordinator!, s.ctx.catalog, req, (id) => ensureRunArtifacts(req.dataDir, s.ctx.catalog, id));
  } finally {
    await s.close();
  }
}
