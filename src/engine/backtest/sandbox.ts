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

type Pending = { resolve: (r: BacktestResult) => void; reject: (e: Error) => void; bars: BarSeries; session: Session; cpuAt: number };

export class StrategySandbox {
  readonly limits: SandboxLimits;
  #worker: Worker | null = null;
  #barsSent = new WeakMap<BarSeries, number>();
  #barsIds = 0;
  #seq = 0;
  #pending = new Map<number, Pending>();
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
    w.unref();
    w.on('message', (m: { type: string; id: number; result?: BacktestResult; message?: string; stack?: string; name?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.type === 'result') {
        const r = m.result!;
        r.bars = applySession(p.bars, p.session);
        p.resolve(r);
      } else {
        const e = new Error(m.message);
        e.name = m.name ?? 'Error';
        e.stack = m.stack ?? e.stack;
        p.reject(e);
      }
    });
    w.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#fail(oom ? new StrategyLimitError(`the strategy ran out of its ${this.limits.heapMb} MB heap limit (BTNB_RUN_HEAP_MB)`) : err);
    });
    w.on('exit', () => {
      if (this.#worker === w) this.#worker = null;
      this.#fail(new Error('the strategy sandbox thread exited'));
    });
    this.#worker = w;
    this.#barsSent = new WeakMap();
    return w;
  }

  /** Ends the thread and fails every run in it with `err`. */
  #fail(err: Error): void {
    const w = this.#worker;
    this.#worker = null;
    for (const [, p] of this.#pending) p.reject(err);
    this.#pending.clear();
    this.#stopWatch();
    if (w) void w.terminate();
  }

  #stopWatch(): void {
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = null;
  }

  /** CPU-time watchdog: the thread's CPU since each run started, checked from this thread. */
  #startWatch(w: Worker): void {
    if (this.#watch) return;
    this.#watch = setInterval(
      () => {
        void w.cpuUsage().then(
          (u) => {
            const cpu = (u.user + u.system) / 1000;
            for (const [, p] of this.#pending) {
              if (cpu - p.cpuAt > this.limits.cpuMs) {
                this.#fail(
                  new StrategyLimitError(
                    `the strategy used more than ${(this.limits.cpuMs / 1000).toLocaleString('en-US')} s of CPU in one run and was stopped (BTNB_RUN_CPU_MS)`,
                  ),
                );
                return;
              }
            }
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
    const w = this.#worker ?? this.#start();
    let barsId = this.#barsSent.get(bars);
    if (barsId === undefined) {
      barsId = ++this.#barsIds;
      this.#barsSent.set(bars, barsId);
      w.postMessage({ type: 'bars', barsId, bars: compact(bars) });
    }
    const cpuAt = await w.cpuUsage().then(
      (u) => (u.user + u.system) / 1000,
      () => 0,
    );
    const id = ++this.#seq;
    const done = new Promise<BacktestResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, bars, session: req.session, cpuAt });
    });
    const onAbort = () => this.#fail(new RunCanceledError());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.#startWatch(w);
    w.postMessage({ type: 'run', id, barsId, ...req });
    try {
      return await done;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (this.#pending.size === 0) this.#stopWatch();
    }
  }

  /** Ends the thread (runs in it fail). */
  close(): void {
    this.#fail(new Error('the strategy sandbox was closed'));
  }
}

let shared: StrategySandbox | undefined;
/** The process's sandbox (one thread, reused by every user-strategy run of this process). */
export function sharedSandbox(): StrategySandbox {
  shared ??= new StrategySandbox();
  return shared;
}
