/**
 * The extension's face of the job queue: a progress notification with cancel per job, the
 * "Backtest" output channel, a status-bar item with the running/queued count (click → runs
 * list), and catalog bookkeeping when a child dies without doing it itself (cancel → the run
 * is marked canceled; crash → failed with the reason, and the user is told).
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
// jobQueue (and with it the zod protocol) loads on the first job, keeping activation cheap.
import type { Job, JobOutcome, JobQueue, JobSpec } from '../../engine/jobs/jobQueue.ts';
import type { JobKind } from '../../engine/jobs/protocol.ts';
import * as ui from '../ui.ts';

export interface RunFinalizer {
  /** Marks a run that is still queued/running as canceled or failed; no-op for finished or unknown runs. */
  settleRun(runId: string, outcome: { status: 'canceled' } | { status: 'failed'; message: string }): Promise<void>;
}

export class JobManager implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  private queue: JobQueue | undefined;
  private loading: Promise<JobQueue> | undefined;
  private readonly jobsDir: string;
  private readonly maxParallel: () => number;
  private readonly status: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeJobs = this.changed.event;
  private readonly progressed = new vscode.EventEmitter<{ runId: string; phase: string; done: number; total: number }>();
  /** Progress of jobs that belong to a run (the run views show it on the run's row). */
  readonly onDidProgressRun = this.progressed.event;
  private finalizer: RunFinalizer | undefined;
  private materializer: Promise<(dataDir: string, runId: string) => Promise<string>> | undefined;

  constructor(extensionPath: string, maxParallel: () => number) {
    this.output = vscode.window.createOutputChannel('Backtest', { log: true });
    this.jobsDir = join(extensionPath, 'dist', 'jobs');
    this.maxParallel = maxParallel;
    this.status = vscode.window.createStatusBarItem('btnb.jobs', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'Backtest jobs';
    this.status.command = 'btnb.openRunsList';
  }

  private getQueue(): Promise<JobQueue> {
    if (this.queue) return Promise.resolve(this.queue);
    this.loading ??= import('../../engine/jobs/jobQueue.ts').then(({ JobQueue }) => {
      const q = new JobQueue({ jobsDir: this.jobsDir, maxParallel: this.maxParallel });
      q.on('change', () => this.onQueueChange());
      this.queue = q;
      return q;
    });
    return this.loading;
  }

  /**
   * Writes a light sweep point's artifacts in a `materialize` job child, so the extension host
   * never runs the engine itself; concurrent requests for one run share the job.
   */
  async materialize(dataDir: string, runId: string): Promise<string> {
    this.materializer ??= import('../../engine/jobs/materializeInChild.ts').then(({ childMaterializer }) =>
      childMaterializer(async (params, title) => (await this.run({ kind: 'materialize', params, title }, { notify: false })).outcome),
    );
    return (await this.materializer)(dataDir, runId);
  }

  setFinalizer(f: RunFinalizer): void {
    this.finalizer = f;
  }

  get running(): number {
    return this.queue?.running ?? 0;
  }
  get queued(): number {
    return this.queue?.queued ?? 0;
  }
  jobs(): Job[] {
    return this.queue?.list() ?? [];
  }
  jobForRun(runId: string): Job | undefined {
    return this.jobs().find((j) => j.spec.runId === runId);
  }

  private onQueueChange(): void {
    const { running, queued } = this;
    if (running + queued === 0) this.status.hide();
    else {
      this.status.text = `$(sync~spin) Backtest: ${running} running${queued ? `, ${queued} queued` : ''}`;
      this.status.tooltip =
        this.jobs()
          .map((j) => `${j.state === 'running' ? '▶' : '…'} ${j.spec.title}`)
          .join('\n') + '\nClick to open the runs list';
      this.status.show();
    }
    void vscode.commands.executeCommand('setContext', 'btnb.jobsRunning', running + queued > 0);
    this.changed.fire();
  }

  /**
   * Queues a job; resolves with its outcome after the notification closed. Failures are shown to
   * the user. `notify: false` (notebook cells: progress and errors show in the cell) shows no
   * notification and no failure message; the status bar still counts the job.
   */
  async run<K extends JobKind>(
    spec: JobSpec<K>,
    opts: { quiet?: boolean; notify?: boolean } = {},
  ): Promise<{ job: Job<K>; outcome: Promise<JobOutcome<K>> }> {
    const job = (await this.getQueue()).submit(spec);
    const tag = `[${spec.kind}#${job.id}]`;
    this.output.info(`${tag} queued: ${spec.title}`);
    job.on('log', (level, text) => {
      for (const line of text.split('\n')) {
        if (level === 'error') this.output.error(`${tag} ${line}`);
        else if (level === 'warn') this.output.warn(`${tag} ${line}`);
        else if (level === 'debug') this.output.debug(`${tag} ${line}`);
        else this.output.info(`${tag} ${line}`);
      }
    });
    job.on('state', (s) => this.output.info(`${tag} ${s}${s === 'running' ? ` (pid ${job.pid})` : ''}`));
    if (opts.notify === false) {
      if (spec.runId) job.on('progress', (p) => this.progressed.fire({ runId: spec.runId!, phase: p.phase, done: p.done, total: p.total }));
      const settled = job.outcome.then(async (o) => {
        await this.afterJob(job, o, true);
        return o;
      });
      return { job, outcome: settled };
    }
    const outcome = vscode.window
      .withProgress({ location: vscode.ProgressLocation.Notification, title: spec.title, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => job.cancel());
        let lastPct = 0;
        job.on('progress', (p) => {
          if (spec.runId) this.progressed.fire({ runId: spec.runId, phase: p.phase, done: p.done, total: p.total });
          const pct = p.total > 0 ? Math.min(100, (100 * p.done) / p.total) : 0;
          progress.report({
            message: p.message ?? `${p.phase} ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}`,
            increment: Math.max(0, pct - lastPct),
          });
          lastPct = Math.max(lastPct, pct);
        });
        if (job.state === 'queued') progress.report({ message: 'queued' });
        return job.outcome;
      })
      .then(async (o) => {
        await this.afterJob(job, o, opts.quiet === true);
        return o;
      });
    return { job, outcome: Promise.resolve(outcome) };
  }

  private async afterJob<K extends JobKind>(job: Job<K>, o: JobOutcome<K>, quiet: boolean): Promise<void> {
    const runId = job.spec.runId;
    if (o.status === 'failed') {
      this.output.error(`[${job.spec.kind}#${job.id}] failed: ${o.message}${o.stack ? `\n${o.stack}` : ''}`);
      if (runId && this.finalizer)
        await this.finalizer.settleRun(runId, { status: 'failed', message: o.message }).catch((e) => this.output.error(String(e)));
      if (!quiet) {
        void ui
          .error(`${job.spec.title} failed${o.crashed ? ' (the job process crashed)' : ''}: ${o.message}`, 'Show Log')
          .then((a) => a && this.output.show());
      }
    } else if (o.status === 'canceled') {
      if (runId && this.finalizer) await this.finalizer.settleRun(runId, { status: 'canceled' }).catch((e) => this.output.error(String(e)));
      if (!quiet) void ui.info(`${job.spec.title}: canceled`);
    }
  }

  dispose(): void {
    this.queue?.dispose();
    this.status.dispose();
    this.changed.dispose();
    this.progressed.dispose();
    this.output.dispose();
  }
}
