/**
 * The job queue over HTTP: GET /jobs/{id} (state, progress, title) and GET /jobs/{id}/events,
 * the job's progress as Server-Sent Events — `event: progress` ({phase, done, total, message}),
 * `event: log` ({level, text}), `event: state`, and a last `event: end` with the outcome, after
 * which the stream closes. A comment heartbeat keeps proxies from closing an idle stream; a
 * client that goes away takes its listeners with it; a server that stops ends its streams with
 * `end` {status: 'stopped'}.
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Job, JobOutcome, JobState } from '../../jobs/jobQueue.ts';
import type { LogLevel, ProgressMsg } from '../../jobs/protocol.ts';
import { JobId, JobInfo, Problem, SseStream } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';

/** Seconds between heartbeat comments (tests lower it). */
export const sseSettings = { heartbeatMs: 15_000 };

/** Finished jobs kept for GET /jobs/{id}; the oldest go first beyond this. */
const KEEP_FINISHED = 1000;

interface Tracked {
  job: Job;
  outcome: JobOutcome | undefined;
}

export function progressOf(p: ProgressMsg | undefined): { phase: string; done: number; total: number; message?: string } | null {
  if (!p) return null;
  return { phase: p.phase, done: p.done, total: p.total, ...(p.message !== undefined ? { message: p.message } : {}) };
}

/** The outcome as the `end` event carries it (no stack traces over HTTP). */
function endPayload(o: JobOutcome): Record<string, unknown> {
  if (o.status === 'succeeded') return { status: o.status, result: o.result };
  if (o.status === 'failed') return { status: o.status, message: o.message, crashed: o.crashed };
  return { status: o.status };
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function registerJobs(app: TypedApp, ctx: ServerContext): void {
  const tracked = new Map<number, Tracked>();
  const finished: number[] = [];
  const track = (job: Job) => {
    if (tracked.has(job.id)) return;
    const t: Tracked = { job, outcome: undefined };
    tracked.set(job.id, t);
    void job.outcome.then((o) => {
      t.outcome = o;
      finished.push(job.id);
      while (finished.length > KEEP_FINISHED) tracked.delete(finished.shift()!);
    });
  };
  for (const j of ctx.jobs.list()) track(j);
  ctx.jobs.on('job', track);

  // Shutdown (app.close): open streams end with `stopped` rather than hold the server open.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const stop of [...open]) stop();
  });

  const get = (id: string): Tracked => {
    const t = tracked.get(Number(id));
    if (!t) throw new HttpProblem(404, `job ${id} is not known to this server`, { field: 'params.id' });
    return t;
  };

  app.get('/jobs/:id', { schema: { params: JobId, response: { 200: JobInfo, 400: Problem, 404: Problem } } }, (req) => {
    const { job, outcome } = get(req.params.id);
    return {
      job_id: String(job.id),
      kind: job.spec.kind,
      title: job.spec.title,
      state: job.state,
      progress: progressOf(job.lastProgress),
      run_id: job.spec.runId ?? null,
      error: outcome?.status === 'failed' ? outcome.message : null,
    };
  });

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        params: JobId,
        response: {
          200: SseStream.describe('text/event-stream: state, progress, log, then end with the outcome'),
          400: Problem,
          404: Problem,
        },
      },
    },
    async (req, typedReply) => {
      const t = get(req.params.id);
      // the stream is not a JSON body: the typed reply knows only the problem answers
      const reply = typedReply as unknown as FastifyReply;
      const { job } = t;
      const stream = new PassThrough();
      let closed = false;
      const write = (s: string) => {
        if (!closed) stream.write(s);
      };
      const onProgress = (p: ProgressMsg) => write(sse('progress', progressOf(p)));
      const onLog = (level: LogLevel, text: string) => write(sse('log', { level, text }));
      const onState = (state: JobState) => write(sse('state', { state }));
      const heartbeat = setInterval(() => write(': hb\n\n'), sseSettings.heartbeatMs);
      const cleanup = () => {
        if (closed) return;
        closed = true;
        open.delete(stop);
        clearInterval(heartbeat);
        job.off('progress', onProgress);
        job.off('log', onLog);
        job.off('state', onState);
        stream.end();
      };
      const stop = () => {
        write(sse('end', { status: 'stopped' }));
        cleanup();
      };
      write(`: job ${job.id} (${job.spec.kind})\n\n`);
      write(sse('state', { state: job.state }));
      if (job.lastProgress) write(sse('progress', progressOf(job.lastProgress)));
      if (t.outcome) {
        write(sse('end', endPayload(t.outcome)));
        cleanup();
      } else {
        job.on('progress', onProgress);
        job.on('log', onLog);
        job.on('state', onState);
        void job.outcome.then((o) => {
          write(sse('end', endPayload(o)));
          cleanup();
        });
        reply.raw.on('close', cleanup);
        open.add(stop);
      }
      return reply
        .code(200)
        .header('Content-Type', 'text/event-stream; charset=utf-8')
        .header('Cache-Control', 'no-cache')
        .header('X-Accel-Buffering', 'no')
        .send(stream) as unknown as typeof typedReply;
    },
  );
}
