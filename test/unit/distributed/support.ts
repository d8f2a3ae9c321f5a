// Real processes for the distributed tests: `btnb worker`s run from the sources (Node's type
// stripping), a coordinator (`btnb serve --redis`'s app) in this process or as a child.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

export interface WorkerProc {
  proc: ChildProcess;
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startWorkerProc(
  redisUrl: string,
  server: string,
  opts: { concurrency?: number; env?: NodeJS.ProcessEnv; cache?: string; token?: string; extraArgs?: string[] } = {},
): WorkerProc {
  const cache = opts.cache ?? mkdtempSync(join(tmpdir(), 'btnb-wcache-'));
  const proc = spawn(
    process.execPath,
    [
      MAIN,
      'worker',
      '--redis',
      redisUrl,
      '--server',
      server,
      '--concurrency',
      String(opts.concurrency ?? 1),
      '--cache',
      cache,
      ...(opts.token ? ['--token', opts.token] : []),
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    proc,
    log: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      }),
  };
}

/** Waits until the worker logged its ready line (or exited). */
export async function workerReady(w: WorkerProc, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!/ready:/.test(w.log())) {
    if (w.proc.exitCode !== null) throw new Error(`worker exited ${w.proc.exitCode}: ${w.log()}`);
    if (Date.now() - t0 > ms) throw new Error(`worker not ready in ${ms} ms: ${w.log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { freePort } from '../../support/redisServer.ts';
