/**
 * User strategy code runs contained (docs/reliability.md, promise 6): a run's hooks execute in a
 * worker thread that the owner can terminate — a CPU-time limit measured from outside
 * (`worker.cpuUsage()`, so a `while (true) {}` that never yields is still stopped) and a heap
 * limit (`resourceLimits`: an allocation spree ends the thread, not the process). A breach fails
 * that run with a StrategyLimitError naming the limit; the sandbox starts a fresh thread for the
 * next run, so a sweep goes on. Cancel terminates the thread at once. Built-in strategies (the
 * engine's own code) run in-process and skip the thread.
 *
 * One sandbox keeps its thread (and the bars it was given) across runs: a sweep executor pays the
 * thread start and the bars copy once.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BarSeries } from '../bars/barSeries.ts';
import { RunCanceledError } from './engine.ts';
import { applySession } from './session.ts';
import type { BacktestResult, Costs, Session } from './types.ts';

export interface SandboxLimits {
  /** CPU time one run may use, ms. */
  cpuMs: number;
  /** Old-generation heap of the thread, MB. */
  heapMb: number;
}

/** Defaults: 10 CPU-minutes and 4 GB per run; BTNB_RUN_CPU_MS / BTNB_RUN_HEAP_MB override. */
export function defaultLimits(env: NodeJS.ProcessEnv = process.env): SandboxLimits {
  const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);
  return { cpuMs: num(env.BTNB_RUN_CPU_MS, 600_000), heapMb: num(env.BTNB_RUN_HEAP_MB, 4096) };
}

export class StrategyLimitError extends Error {
  override name = 'StrategyLimitError';
}

export interface SandboxRun {
  /** A strategy file's absolute path (built-ins do not need the sandbox). */
  strategyPath: string;
  params: Record<string, unknown>;
  seed: number;
  costs: Costs;
  session: Session;
}

declare const __filename: string | undefined;

/** The worker script: dist/sandboxWorker.js beside a bundle, or the source next to this file. */
function workerScript(): string {
  let here: string;
  try {
    here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  } catch {
    here = process.argv[1] ?? process.cwd();
  }
  const dir = dirname(here);
  for (const c of [join(dir, 'sandboxWorker.js'), join(dir, '..', 'sandboxWorker.js'), join(dir, 'sandboxWorker.ts')])
    if (existsSync(c)) return c;
  throw new Error(`sandbox: sandboxWorker.js not found beside ${here}`);
}

/** A compact copy of each column (a view shares its whole buffer, which postMessage would copy). */
function compact(b: BarSeries): BarSeries {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b))
    out[k] = ArrayBuffer.isView(v) && (v.byteOffset > 0 || v.byteLength < v.buffer.byteLength) ? (v as Float64Array).slice() : v;
  return out as unknown as BarSeries;
}

interface Pending {
  resolve: (r: BacktestResult) => void;
  reject: (e: Error) => void;
  bars: BarSeries;
  req: SandboxRun;
  /** The thread's CPU time when this run started executing (null while queued in the thread). */
  cpuAt: number | null;
}

/**
 * The thread runs one backtest at a time (the engine loop is synchronous); runs sent while one
 * executes wait in its queue. A limit breach or a cancel ends the thread: the run that was
 * executing fails (or cancels), the queued ones are sent again to a fresh thread.
 */
export class StrategySandbox {
  readonly limits: SandboxLimits;
  #worker: Worker | null = null;
  #barsSent = new WeakMap<BarSeries, number>();
  #barsIds = 0;
  #seq = 0;
  #pending = new Map<number, Pending>();
  /** The run executing in the thread now. */
  #current: number | null = null;
  /** Runs canceled while queued in the thread (it may have started one before the skip arrived). */
  #canceled = new Set<number>();
  #watch: ReturnType<typeof setInterval> | null = null;

  constructor(limits: SandboxLimits = defaultLimits()) {
    this.limits = limits;
  }

  #start(): Worker {
    const w = new Worker(workerScript(), {
      resourceLimits: { maxOldGenerationSizeMb: this.limits.heapMb },
      stdout: false,
      stderr: false,
    });
    w.on('message', (m: { type: string; id: number; result?: BacktestResult; message?: string; stack?: string; name?: string }) => {
      // a run canceled while we thought it queued, whose start crossed the skip: end the thread
      if (m.type === 'started' && this.#canceled.delete(m.id)) return this.#restart(new RunCanceledError(), m.id);
      if (m.type !== 'started') this.#canceled.delete(m.id);
      const p = this.#pending.get(m.id);
      if (!p) return;
      if (m.type === 'started') {
        this.#current = m.id;
        void w.cpuUsage().then(
          (u) => {
            p.cpuAt = (u.user + u.system) / 1000;
          },
          () => undefined,
        );
        return;
      }
      this.#pending.delete(m.id);
      if (this.#current === m.id) this.#current = null;
      if (m.type === 'result') {
        const r = m.result!;
        r.bars = applySession(p.bars, p.req.session);
        p.resolve(r);
      } else {
        const e = new Error(m.message);
        e.name = m.name ?? 'Error';
        e.stack = m.stack ?? e.stack;
        p.reject(e);
      }
      this.#idle();
    });
    w.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#restart(
        oom ? new StrategyLimitError(`the strategy ran out of its ${this.limits.heapMb} MB heap limit (BTNB_RUN_HEAP_MB)`) : err,
      );
    });
    w.on('exit', (code) => {
      // e.g. process.exit() in strategy code: in a worker thread it ends the thread, not the process
      if (this.#worker === w)
        this.#restart(new Error(`the strategy ended its sandbox thread: exited with code ${code} (process.exit in strategy code?)`));
    });
    // Idle, the thread must not keep the process alive; busy, it must (#send refs it). Unref
    // after the listeners: adding a 'message' listener refs the worker's port again.
    w.unref();
    this.#worker = w;
    this.#barsSent = new WeakMap();
    return w;
  }

  #send(id: number, p: Pending): void {
    const w = this.#worker ?? this.#start();
    let barsId = this.#barsSent.get(p.bars);
    if (barsId === undefined) {
      barsId = ++this.#barsIds;
      this.#barsSent.set(p.bars, barsId);
      w.postMessage({ type: 'bars', barsId, bars: compact(p.bars) });
    }
    w.ref();
    this.#startWatch();
    w.postMessage({ type: 'run', id, barsId, ...p.req });
  }

  /**
   * Ends the thread: the executing run fails with `err` (all runs, when none was executing or the
   * thread died on its own); queued runs go to a fresh thread.
   */
  #restart(err: Error, only: number | null = this.#current): void {
    const w = this.#worker;
    this.#worker = null;
    this.#current = null;
    this.#canceled.clear();
    if (w) void w.terminate();
    const failed = only !== null ? [only] : [...this.#pending.keys()];
    for (const id of failed) {
      this.#pending.get(id)?.reject(err);
      this.#pending.delete(id);
    }
    for (const [id, p] of this.#pending) {
      p.cpuAt = null;
      this.#send(id, p);
    }
    this.#idle();
  }

  #idle(): void {
    if (this.#pending.size > 0) return;
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = null;
    this.#worker?.unref();
  }

  /** CPU-time watchdog: the thread's CPU since the executing run started, read from this thread. */
  #startWatch(): void {
    if (this.#watch) return;
    this.#watch = setInterval(
      () => {
        const w = this.#worker;
        const id = this.#current;
        const p = id === null ? undefined : this.#pending.get(id);
        if (!w || !p || p.cpuAt === null) return;
        const at = p.cpuAt;
        void w.cpuUsage().then(
          (u) => {
            if (this.#worker !== w || this.#current !== id || (u.user + u.system) / 1000 - at <= this.limits.cpuMs) return;
            this.#restart(
              new StrategyLimitError(
                `the strategy used more than ${(this.limits.cpuMs / 1000).toLocaleString('en-US')} s of CPU in one run and was stopped (BTNB_RUN_CPU_MS)`,
              ),
              id,
            );
          },
          () => undefined,
        );
      },
      Math.min(250, Math.max(20, this.limits.cpuMs / 4)),
    );
    this.#watch.unref();
  }

  async run(bars: BarSeries, req: SandboxRun, opts: { signal?: AbortSignal } = {}): Promise<BacktestResult> {
    if (opts.signal?.aborted) throw new RunCanceledError();
    const id = ++this.#seq;
    const done = new Promise<BacktestResult>((resolve, reject) => {
      const p: Pending = { resolve, reject, bars, req, cpuAt: null };
      this.#pending.set(id, p);
      this.#send(id, p);
    });
    const onAbort = () => {
      if (!this.#pending.has(id)) return;
      if (this.#current === id) this.#restart(new RunCanceledError(), id);
      else {
        // still queued in the thread: it skips the run when it gets to it
        this.#pending.get(id)!.reject(new RunCanceledError());
        this.#pending.delete(id);
        this.#canceled.add(id);
        this.#worker?.postMessage({ type: 'skip', id });
        this.#idle();
      }
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await done;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Ends the thread (runs in it fail). */
  close(): void {
    const err = new Error('the strategy sandbox was closed');
    const w = this.#worker;
    this.#worker = null;
    if (w) void w.terminate();
    for (const [, p] of this.#pending) p.reject(err);
    this.#pending.clear();
    this.#current = null;
    this.#idle();
  }
}

let shared: StrategySandbox | undefined;
/** The process's sandbox (one thread, reused by every user-strategy run of this process). */
export function sharedSandbox(): StrategySandbox {
  shared ??= new StrategySandbox();
  return shared;
}
