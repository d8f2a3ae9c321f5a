/**
 * Host side of the job protocol — the extension's jobs and `btnb serve`'s — free of the vscode
 * API so it is unit-testable with plain Node:
 * a FIFO queue that runs at most `maxParallel()` children at once, each a `child_process.fork`
 * of dist/jobs/<kind>Job.js with the host's own node (`execPath`), validated messages, cancel
 * (cooperative `cancel` message, then SIGKILL after a grace period) and crash detection.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import {
  parseJobResult,
  parseToHost,
  type JobKind,
  type JobParams,
  type JobResults,
  type LogLevel,
  type ProgressMsg,
  type ToChildMsg,
} from './protocol.ts';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
/** A job's end; a success carries its kind's result, validated on arrival (jobs/protocol.ts RESULT_BY_KIND). */
export type JobOutcome<K extends JobKind = JobKind> =
  | { status: 'succeeded'; result: JobResults[K] }
  | {
      status: 'failed';
      message: string;
      stack?: string;
      crashed: boolean;
      /** The child's error code (e.g. a MaterializeError's). */ code?: string;
    }
  | { status: 'canceled' };

export interface JobSpec<K extends JobKind = JobKind> {
  kind: K;
  params: JobParams[K];
  title: string;
  /** The catalog run this job writes, when known up front (backtest): marked canceled/failed by the host if the child dies. */
  runId?: string;
}

export interface JobQueueOptions {
  /** Folder holding <kind>Job.js (dist/jobs). */
  jobsDir: string;
  maxParallel: () => number;
  /** Node binary for the children; defaults to the host's (process.execPath). */
  execPath?: string;
  /** Time between the cancel message and SIGKILL. */
  cancelGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

const STDERR_TAIL = 4096;

export class Job<K extends JobKind = JobKind> extends EventEmitter<{
  state: [JobState];
  progress: [ProgressMsg];
  log: [LogLevel, string];
}> {
  readonly id: number;
  readonly spec: JobSpec<K>;
  state: JobState = 'queued';
  pid: number | undefined;
  lastProgress: ProgressMsg | undefined;
  readonly outcome: Promise<JobOutcome<K>>;
  private settle!: (o: JobOutcome<K>) => void;
  child: ChildProcess | undefined;
  private stderrTail = '';
  private cancelRequested = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly queue: JobQueue;

  constructor(id: number, spec: JobSpec<K>, queue: JobQueue) {
    super();
    this.id = id;
    this.spec = spec;
    this.queue = queue;
    this.outcome = new Promise((r) => (this.settle = r));
  }

  get isCancelRequested(): boolean {
    return this.cancelRequested;
  }

  /** Queued: removed. Running: `cancel` message, then SIGKILL after the grace period. */
  cancel(): void {
    if (this.state === 'queued') {
      this.cancelRequested = true;
      this.finish({ status: 'canceled' });
      return;
    }
    if (this.state !== 'running' || this.cancelRequested) return;
    this.cancelRequested = true;
    this.post({ type: 'cancel' });
    this.killTimer = setTimeout(() => this.kill(), this.queue.cancelGraceMs);
  }

  /** Immediate SIGKILL (dispose path). */
  kill(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private post(msg: ToChildMsg): void {
    if (this.child?.connected) this.child.send(msg);
  }

  /** @internal called by the queue */
  start(child: ChildProcess): void {
    this.child = child;
    this.pid = child.pid;
    this.setState('running');
    let started = false;
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_TAIL);
      this.emit('log', 'error', s.replace(/\n$/, ''));
    });
    child.stdout?.setEncoding('utf8').on('data', (s: string) => this.emit('log', 'info', s.replace(/\n$/, '')));
    child.on('message', (raw: unknown) => {
      let msg;
      try {
        msg = parseToHost(raw);
      } catch (err) {
        this.emit('log', 'error', (err as Error).message);
        this.finish({ status: 'failed', message: (err as Error).message, crashed: false });
        this.kill();
        return;
      }
      switch (msg.type) {
        case 'ready':
          if (!started) {
            started = true;
            this.post({ type: 'start', kind: this.spec.kind, params: this.spec.params });
          }
          break;
        case 'progress':
          this.lastProgress = msg;
          this.emit('progress', msg);
          break;
        case 'log':
          this.emit('log', msg.level, msg.text);
          break;
        case 'result': {
          let result: JobResults[K];
          try {
            result = parseJobResult(this.spec.kind, msg.payload);
          } catch (err) {
            this.emit('log', 'error', (err as Error).message);
            this.finish({ status: 'failed', message: (err as Error).message, crashed: false });
            break;
          }
          this.finish({ status: 'succeeded', result });
          break;
        }
        case 'error':
          if (msg.code === 'canceled' || this.cancelRequested) this.finish({ status: 'canceled' });
          else
            this.finish({
              status: 'failed',
              message: msg.message,
              ...(msg.stack ? { stack: msg.stack } : {}),
              ...(msg.code ? { code: msg.code } : {}),
              crashed: false,
            });
          break;
      }
    });
    child.on('error', (err) => this.finish({ status: 'failed', message: `job process error: ${err.message}`, crashed: true }));
    child.on('exit', (code, signal) => {
      if (this.killTimer) clearTimeout(this.killTimer);
      if (this.cancelRequested) return this.finish({ status: 'canceled' });
      const tail = this.stderrTail.trim().split('\n').slice(-5).join('\n');
      this.finish({
        status: 'failed',
        message: `${this.spec.kind} job process exited ${signal ? `on signal ${signal}` : `with code ${code}`} before reporting a result${tail ? `: ${tail}` : ''}`,
        crashed: true,
      });
    });
  }

  /** First outcome wins; a later exit or message changes nothing. */
  private finish(o: JobOutcome<K>): void {
    if (this.state !== 'queued' && this.state !== 'running') return;
    this.setState(o.status);
    this.settle(o);
    this.queue.onJobFinished(anyJob(this));
  }

  private setState(s: JobState): void {
    this.state = s;
    this.emit('state', s);
  }
}

/**
 * A job of some kind, as the queue keeps it. The one widening in the job code: a Job<K> settles
 * only JobOutcome<K> (its parameter makes Job invariant in K), and the queue never settles jobs.
 */
function anyJob<K extends JobKind>(job: Job<K>): Job {
  return job as unknown as Job;
}

export class JobQueue extends EventEmitter<{ change: []; job: [Job] }> {
  private readonly opts: JobQueueOptions;
  private readonly pending: Job[] = [];
  private readonly active = new Set<Job>();
  private nextId = 1;
  readonly cancelGraceMs: number;

  constructor(opts: JobQueueOptions) {
    super();
    this.opts = opts;
    this.cancelGraceMs = opts.cancelGraceMs ?? 750;
  }

  submit<K extends JobKind>(spec: JobSpec<K>): Job<K> {
    const job = new Job<K>(this.nextId++, spec, this);
    this.pending.push(anyJob(job));
    this.emit('job', anyJob(job));
    this.pump();
    this.emit('change');
    return job;
  }

  get running(): number {
    return this.active.size;
  }

  get queued(): number {
    return this.pending.length;
  }

  list(): Job[] {
    return [...this.active, ...this.pending];
  }

  /** @internal */
  onJobFinished(job: Job): void {
    const i = this.pending.indexOf(job);
    if (i >= 0) this.pending.splice(i, 1);
    this.active.delete(job);
    this.pump();
    this.emit('change');
  }

  private pump(): void {
    const max = Math.max(1, Math.floor(this.opts.maxParallel()) || 1);
    while (this.active.size < max && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.active.add(job);
      const child = fork(join(this.opts.jobsDir, `${job.spec.kind}Job.js`), [], {
        execPath: this.opts.execPath ?? process.execPath,
        // Job children run plain Node, not Electron-as-node flags of the host.
        execArgv: [],
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...(this.opts.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
      });
      job.start(child);
    }
  }

  /** Kills every running child and drops the queue. */
  dispose(): void {
    for (const j of this.pending.splice(0)) j.cancel();
    for (const j of this.active) {
      j.cancel();
      j.kill();
    }
  }
}
