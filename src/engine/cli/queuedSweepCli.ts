/**
 * `btnb sweep --queue`: this process is the coordinator for one sweep — the catalog's only
 * writer, BullMQ's producer, and (on --listen) the HTTP face `btnb worker`s fetch bars from and
 * upload files to (the same routes as `btnb serve --redis`). It ends with the sweep.
 */
import { UsageError } from './args.ts';
import type { SweepRequest, SweepResult } from '../sweep/sweep.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function queuedSweep(
  req: SweepRequest,
  o: { redisUrl: string; listen: string; token: string | null; quiet: boolean },
): Promise<SweepResult> {
  const m = /^(.*):(\d+)$/.exec(o.listen);
  if (!m) throw new UsageError(`--listen expects HOST:PORT, got '${o.listen}'`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (!LOOPBACK.has(host) && !o.token) throw new UsageError(`--listen ${o.listen} is not loopback: give the workers' --token`);
  const [{ buildServer }, { jobsDirFor }, { runQueuedSweep }, { recoverDataDir }] = await Promise.all([
    import('../server/app.ts'),
    import('../jobs/jobEntries.ts'),
    import('../distributed/queuedSweep.ts'),
    import('../recovery.ts'),
  ]);
  await recoverDataDir(req.dataDir);
  const s = await buildServer({
    dataDir: req.dataDir,
    jobsDir: jobsDirFor(process.argv[1]!),
    token: o.token,
    maxJobs: 1,
    maxQueued: 64,
    redisUrl: o.redisUrl,
    webviewDir: null,
    ...(o.quiet ? {} : { log: (line: string) => process.stderr.write(`btnb sweep: ${line}\n`) }),
  });
  try {
    const url = await s.app.listen({ host, port: Number(m[2]) });
    if (!o.quiet) process.stderr.write(`btnb sweep: coordinating on ${url} (workers: btnb worker --redis ${o.redisUrl} --server ${url})\n`);
    const { ensureRunArtifacts } = await import('../backtest/materialize.ts');
    return await runQueuedSweep(s.ctx.coordinator!, s.ctx.catalog, req, (id) => ensureRunArtifacts(req.dataDir, s.ctx.catalog, id));
  } finally {
    await s.close();
  }
}
