/**
 * The child side of the job protocol: say `ready`, wait for `start`, validate the params, run
 * the job with an AbortSignal wired to `cancel`, send `result` or `error`, then exit.
 * A job that keeps running after cancel is killed by the host; this side only makes the
 * cooperative path quick.
 */
import { JOB_KINDS, PROTOCOL_VERSION, parseJobParams, parseToChild, type JobKind, type LogLevel, type ToHostMsg } from './protocol.ts';
import type { z } from 'zod';
import type { PARAMS_BY_KIND, RESULT_BY_KIND } from './protocol.ts';

export interface JobContext {
  signal: AbortSignal;
  progress(phase: string, done: number, total: number, message?: string): void;
  /** `progress` taking the `{ phase, done, total }` objects that import and derive report. */
  phaseProgress: (p: { phase: string; done: number; total: number }) => void;
  log(level: LogLevel, text: string): void;
}

/** A job: its kind's params in, its kind's result out (both schemas in protocol.ts). */
export type JobHandler<K extends JobKind> = (
  params: z.output<(typeof PARAMS_BY_KIND)[K]>,
  ctx: JobContext,
) => Promise<z.input<(typeof RESULT_BY_KIND)[K]>>;

function send(msg: ToHostMsg): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, undefined, () => resolve());
  });
}

/** Throttles progress to ~20 messages/s so a tight loop cannot flood the IPC channel. */
function progressSender(): JobContext['progress'] {
  let last = 0;
  return (phase, done, total, message) => {
    const now = performance.now();
    if (done < total && now - last < 50) return;
    last = now;
    void send({ type: 'progress', phase, done, total, ...(message !== undefined ? { message } : {}) });
  };
}

/** An error's string `code` (a MaterializeError's, a Node system error's) travels to the host. */
function errorCode(e: Error): { code?: string } {
  const code = (e as Error & { code?: unknown }).code;
  return typeof code === 'string' ? { code } : {};
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}

export function runJobChild<K extends JobKind>(kind: K, handler: JobHandler<K>): void {
  if (!process.send) {
    process.stderr.write(`${kind}Job: must be started by the extension host with an IPC channel (child_process.fork)\n`);
    process.exit(2);
  }
  if (!JOB_KINDS.includes(kind)) throw new Error(`unknown job kind ${kind}`);
  const abort = new AbortController();
  let started = false;
  let finishing = false;
  const finish = async (msg: ToHostMsg, code: number) => {
    finishing = true;
    await send(msg);
    process.exitCode = code;
    if (process.connected) process.disconnect();
    // Native handles (sqlite, wasm) must not keep a finished job alive.
    setTimeout(() => process.exit(code), 200).unref();
  };
  const progress = progressSender();
  const ctx: JobContext = {
    signal: abort.signal,
    progress,
    phaseProgress: (p) => progress(p.phase, p.done, p.total),
    log: (level, text) => void send({ type: 'log', level, text }),
  };
  process.on('message', (raw: unknown) => {
    let msg;
    try {
      msg = parseToChild(raw);
    } catch (err) {
      void finish({ type: 'error', message: (err as Error).message }, 2);
      return;
    }
    if (msg.type === 'cancel') {
      abort.abort();
      if (!started) void finish({ type: 'error', message: 'canceled before start', code: 'canceled' }, 130);
      return;
    }
    if (started) return void send({ type: 'log', level: 'warn', text: 'duplicate start message ignored' });
    started = true;
    if (msg.kind !== kind) {
      void finish({ type: 'error', message: `this is the ${kind} job; start asked for ${msg.kind}` }, 2);
      return;
    }
    let params;
    try {
      params = parseJobParams(kind, msg.params);
    } catch (err) {
      void finish({ type: 'error', message: (err as Error).message }, 2);
      return;
    }
    handler(params, ctx).then(
      (payload) => finish({ type: 'result', payload }, 0),
      (err: unknown) => {
        const canceled = abort.signal.aborted || isAbort(err);
        const e = err instanceof Error ? err : new Error(String(err));
        return finish(
          {
            type: 'error',
            message: canceled ? 'canceled' : e.message,
            ...(e.stack ? { stack: e.stack } : {}),
            ...(canceled ? { code: 'canceled' } : errorCode(e)),
          },
          canceled ? 130 : 1,
        );
      },
    );
  });
  // The host went away (killed, crashed): exit at once. What this job left queued or running is
  // settled by the next process that opens the catalog (recovery.ts), its temps removed then.
  process.on('disconnect', () => {
    if (!finishing) process.exit(129);
  });
  void send({ type: 'ready', protocol: PROTOCOL_VERSION, kind, pid: process.pid });
}
