/**
 * BacktestRunnerPort's local adapter: a dataset's bars + a strategy → a catalog run with
 * artifacts under data/backtests/<run_id>/ (docs/catalog.md).
 *
 * - input_hash = SHA-256 of the canonical JSON of {code_hash, costs, dataset_id,
 *   engine_version, params (validated, defaults filled), seed, session, strategy_id}; a run
 *   with the same hash that is queued, running or succeeded is returned instead (unless force).
 * - queued → running → succeeded | failed (error text with the stack) | canceled.
 * - Artifacts are written into `backtests/.<run_id>.<pid>.tmp/` and the directory is renamed
 *   to `backtests/<run_id>` only when complete; a failure or cancel removes the temp dir.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../dataDir.ts';
import { openCatalog } from '../catalog/sqliteCatalog.ts';
import type { CatalogPort, RunRow } from '../ports/catalog.ts';
import { readBarsParquet } from '../parquet/barsParquet.ts';
import { canonicalJson } from '../util/canonicalJson.ts';
import { CALENDAR_VERSION } from '../calendar/xnys.ts';
import { ENGINE_VERSION } from '../version.ts';
import { builtinStrategy } from '../strategies/index.ts';
import { runBacktestAsync, RunCanceledError } from './engine.ts';
import { sharedSandbox } from './sandbox.ts';
import { toCosts } from './costs.ts';
import { parseParams, type StrategyDefinition } from './strategy.ts';
import { loadStrategyFile } from './userStrategy.ts';
import { publishRunDir } from './publishRun.ts';
import type { BacktestResult, Costs, Session } from './types.ts';
import type { BarSeries } from '../bars/barSeries.ts';
import { dayNumber, nyDayOfUtcNs } from '../calendar/newYork.ts';
import { sliceBars } from './sliceBars.ts';
import type { BacktestOutcome, BacktestRunnerPort, BacktestRunRequest, DateRange } from '../ports/backtestRunner.ts';

export type { BacktestOutcome, DateRange } from '../ports/backtestRunner.ts';

/** What the adapter needs beyond the port's request. */
export interface BacktestRequest extends BacktestRunRequest {
  dataDir: string;
  /** An open catalog to reuse (sweeps); otherwise one is opened and closed. */
  catalog?: CatalogPort;
  /** Bars already read, by dataset id (sweeps read each dataset once per process). */
  barsCache?: Map<string, BarSeries>;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
function dayOfIso(s: string, field: string): number {
  const m = ISO_DATE.exec(s);
  if (!m) throw new RangeError(`dateRange.${field}: expected YYYY-MM-DD, got ${JSON.stringify(s)}`);
  return dayNumber(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Zero-copy view of the bars whose New York date is in the range (bars are ts-sorted). */
export function barsInDateRange(bars: BarSeries, range: DateRange): BarSeries {
  const from = dayOfIso(range.from, 'from');
  const to = dayOfIso(range.to, 'to');
  if (to < from) throw new RangeError(`dateRange: to ${range.to} is before from ${range.from}`);
  let i = 0;
  while (i < bars.length && nyDayOfUtcNs(bars.ts[i]!) < from) i++;
  let j = i;
  while (j < bars.length && nyDayOfUtcNs(bars.ts[j]!) <= to) j++;
  return sliceBars(bars, i, j);
}

export interface ResolvedStrategy {
  def: StrategyDefinition;
  strategyId: string;
  codeHash: string;
  /** Absolute path of a user strategy file; null for built-ins. */
  path: string | null;
  /** A user strategy's bundled inputs, relative to its folder (empty for built-ins). */
  inputs: string[];
}

const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

function looksLikePath(s: string): boolean {
  return /[\\/]/.test(s) || /\.(ts|mts|cts|js|mjs|cjs)$/.test(s);
}

/** code_hash = SHA-256 of the strategy source identity and the engine version (docs/catalog.md). */
export async function resolveStrategy(strategy: string): Promise<ResolvedStrategy> {
  const builtin = builtinStrategy(strategy);
  if (builtin)
    return {
      def: builtin,
      strategyId: builtin.id,
      codeHash: sha256(`builtin:${builtin.id}\nengine:${ENGINE_VERSION}`),
      path: null,
      inputs: [],
    };
  if (!looksLikePath(strategy)) {
    throw new Error(
      `unknown strategy '${strategy}': expected a built-in (sma-cross, bollinger-reversion, donchian-breakout) or a path to a .ts/.js file`,
    );
  }
  const loaded = await loadStrategyFile(strategy);
  return {
    def: loaded.def,
    strategyId: loaded.def.id,
    codeHash: sha256(`source:${loaded.sourceHash}\nengine:${ENGINE_VERSION}`),
    path: loaded.path,
    inputs: loaded.inputs,
  };
}

export function inputHash(fields: {
  dataset_id: string;
  strategy_id: string;
  code_hash: string;
  params: unknown;
  seed: number;
  costs: Costs;
  session: Session;
  date_range?: DateRange;
}): string {
  return sha256(canonicalJson({ ...fields, engine_version: ENGINE_VERSION }));
}

let envLockCache: string | null | undefined;
/** SHA-256 of the package-lock.json of the installed package (found upward from this module). */
export function envLock(): string | null {
  if (envLockCache !== undefined) return envLockCache;
  envLockCache = null;
  let here: string;
  try {
    // Bundled (CJS) there is __filename; from source (ESM) import.meta.url.
    here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  } catch {
    here = process.argv[1] ?? process.cwd();
  }
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'backtest-notebook') {
          const lock = join(dir, 'package-lock.json');
          if (existsSync(lock)) envLockCache = sha256(readFileSync(lock));
          break;
        }
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    if (dirname(dir) === dir) break;
  }
  return envLockCache;
}
declare const __filename: string | undefined;

/** An error as the catalog records it: its message and stack. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack && err.stack.includes(err.message) ? err.stack : `${err.message}\n${err.stack ?? ''}`;
  return String(err);
}

/** What makes a run this run: validated params (defaults filled), costs, seed, session, date range and their input_hash. */
export interface RunIdentity {
  params: Record<string, unknown>;
  costs: Costs;
  seed: number;
  session: Session;
  dateRange: DateRange | undefined;
  hash: string;
}

/** A request's identity under a resolved strategy; throws on bad params, seed, session or dates. */
export function runIdentity(
  strategy: ResolvedStrategy,
  req: Pick<BacktestRunRequest, 'datasetId' | 'params' | 'costs' | 'seed' | 'session' | 'dateRange'>,
): RunIdentity {
  const params = parseParams(strategy.def, req.params ?? {}) as Record<string, unknown>;
  const costs = toCosts(req.costs);
  const seed = req.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed: expected a non-negative integer, got ${seed}`);
  const session = req.session ?? 'all';
  if (session !== 'all' && session !== 'rth') throw new RangeError(`session: expected 'all' or 'rth', got '${String(session)}'`);
  if (req.dateRange) {
    dayOfIso(req.dateRange.from, 'from');
    dayOfIso(req.dateRange.to, 'to');
  }
  const dateRange = req.dateRange ? { from: req.dateRange.from, to: req.dateRange.to } : undefined;
  const hash = inputHash({
    dataset_id: req.datasetId,
    strategy_id: strategy.strategyId,
    code_hash: strategy.codeHash,
    params,
    seed,
    costs,
    session,
    ...(dateRange ? { date_range: dateRange } : {}),
  });
  return { params, costs, seed, session, dateRange, hash };
}

/** The run-manifest.json of a run (docs/catalog.md): a direct run writes it, a light sweep point records it. */
export function runManifest(m: {
  runId: string;
  datasetId: string;
  symbol: string;
  strategy: ResolvedStrategy;
  id: RunIdentity;
  barCount: number;
  startedAt: string;
  finishedAt: string;
}): Record<string, unknown> {
  return {
    run_id: m.runId,
    input_hash: m.id.hash,
    dataset_ids: [m.datasetId],
    symbol: m.symbol,
    strategy_id: m.strategy.strategyId,
    strategy_path: m.strategy.path,
    params: m.id.params,
    seed: m.id.seed,
    costs: m.id.costs,
    session: m.id.session,
    ...(m.id.dateRange ? { date_range: m.id.dateRange } : {}),
    code_hash: m.strategy.codeHash,
    env_lock: envLock(),
    calendar_version: CALENDAR_VERSION,
    tz: 'UTC',
    display_tz: 'America/New_York',
    engine_version: ENGINE_VERSION,
    bar_count: m.barCount,
    started_at: m.startedAt,
    finished_at: m.finishedAt,
  };
}

/**
 * The backtest itself over a dataset's bars (cut to the date range): user code in the sandbox
 * (CPU and heap limits), the engine's own strategies in-process.
 */
export async function computeResult(
  all: BarSeries,
  strategy: ResolvedStrategy,
  id: RunIdentity,
  opts: { signal?: AbortSignal | undefined; onProgress?: ((done: number, total: number) => void) | undefined } = {},
): Promise<BacktestResult> {
  const bars = id.dateRange ? barsInDateRange(all, id.dateRange) : all;
  const signal = opts.signal;
  return strategy.path
    ? await sharedSandbox().run(
        bars,
        { strategyPath: strategy.path, params: id.params, seed: id.seed, costs: id.costs, session: id.session },
        signal ? { signal } : {},
      )
    : await runBacktestAsync(
        bars,
        { strategy: strategy.def, params: id.params, seed: id.seed, costs: id.costs, session: id.session },
        { ...(signal ? { signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
      );
}

export async function runBacktestToCatalog(req: BacktestRequest): Promise<BacktestOutcome> {
  const paths = dataPaths(resolve(req.dataDir));
  const strategy = await resolveStrategy(req.strategy);
  const id = runIdentity(strategy, req);
  const { params, costs, seed, session, hash } = id;

  // A data dir without a catalog has no dataset to run on: say so instead of creating one there.
  if (!req.catalog && !existsSync(paths.catalog))
    throw new Error(`dataset '${req.datasetId}': no catalog at ${paths.catalog} (import data with \`btnb data import\` first)`);
  const catalog = req.catalog ?? openCatalog(paths.catalog);
  try {
    const dataset = catalog.getDataset(req.datasetId);
    if (!dataset)
      throw new Error(`dataset '${req.datasetId}' is not in the catalog ${paths.catalog} (import it with \`btnb data import\`)`);
    if (dataset.status !== 'ready' || !dataset.bars_path)
      throw new Error(`dataset '${req.datasetId}' has no bars yet (status ${dataset.status}); run \`btnb data derive ${req.datasetId}\``);
    // A run made for a sweep or walk-forward carries `sweep:<id>`, whoever started it (CLI, job,
    // notebook), and so does an identical earlier run it reuses.
    const tags = [...new Set([...(req.tags ?? []), ...(req.sweepId ? [`sweep:${req.sweepId}`] : [])])];
    // A host that queued the run itself (btnb serve: visible at once, one row however many
    // identical requests) hands its id to the job, which adopts the queued row.
    const adopted = req.runId ? catalog.getRun(req.runId) : null;
    if (adopted && (adopted.status !== 'queued' || adopted.input_hash !== hash))
      throw new Error(`run ${adopted.run_id} is ${adopted.status} with input_hash ${adopted.input_hash}; it cannot be run as ${hash}`);
    const { run, created } = adopted
      ? { run: adopted, created: true }
      : catalog.createRun({
          ...(req.runId ? { run_id: req.runId } : {}),
          input_hash: hash,
          dataset_id: req.datasetId,
          symbol: dataset.symbol,
          strategy_id: strategy.strategyId,
          params,
          seed,
          costs: costs as unknown as Record<string, unknown>,
          session,
          code_hash: strategy.codeHash,
          engine_version: ENGINE_VERSION,
          force: req.force ?? false,
          sweep_id: req.sweepId ?? null,
          tags,
        });
    const artifactsDir = paths.runDir(run.run_id);
    if (!created) {
      // The identical earlier run is this request's run too: it gains the request's tags, so a
      // sweep's or walk-forward's results find the points they reused.
      let reused = run;
      for (const tag of tags) reused = catalog.addTag(reused.run_id, tag);
      return { run: reused, created, input_hash: hash, artifacts_dir: artifactsDir, metrics: reused.metrics };
    }
    req.onStatus?.(run);
    return await execute(catalog, run, { req, strategy, id, paths, symbol: dataset.symbol });
  } finally {
    if (!req.catalog) catalog.close();
  }
}

interface Prepared {
  req: BacktestRequest;
  strategy: ResolvedStrategy;
  id: RunIdentity;
  paths: ReturnType<typeof dataPaths>;
  symbol: string;
}

/** Reads in progress per cache, so concurrent runs of one sweep worker read a dataset once. */
const pendingReads = new WeakMap<Map<string, BarSeries>, Map<string, Promise<BarSeries>>>();

export async function cachedBars(cache: Map<string, BarSeries> | undefined, path: string, datasetId: string): Promise<BarSeries> {
  if (!cache) return readBarsParquet(path);
  const hit = cache.get(datasetId);
  if (hit) return hit;
  let pending = pendingReads.get(cache);
  if (!pending) pendingReads.set(cache, (pending = new Map()));
  let read = pending.get(datasetId);
  if (!read) {
    const reads = pending;
    read = readBarsParquet(path)
      .then((b) => {
        cache.set(datasetId, b);
        return b;
      })
      .finally(() => reads.delete(datasetId));
    pending.set(datasetId, read);
  }
  return read;
}

async function execute(catalog: CatalogPort, queued: RunRow, p: Prepared): Promise<BacktestOutcome> {
  const runId = queued.run_id;
  const signal = p.req.signal;
  const startedAt = new Date().toISOString();
  const running = catalog.markRunning(runId, startedAt);
  p.req.onStatus?.(running);
  try {
    if (signal?.aborted) throw new RunCanceledError();
    p.req.onProgress?.('read', 0, 1);
    const all = await cachedBars(p.req.barsCache, p.paths.barsParquet(p.req.datasetId), p.req.datasetId);
    if (signal?.aborted) throw new RunCanceledError();
    const result = await computeResult(all, p.strategy, p.id, {
      signal,
      onProgress: (done, total) => p.req.onProgress?.('run', done, total),
    });
    p.req.onResult?.(result);
    p.req.onProgress?.('write', 0, 1);
    const finishedAt = new Date().toISOString();
    const manifest = runManifest({
      runId,
      datasetId: p.req.datasetId,
      symbol: p.symbol,
      strategy: p.strategy,
      id: p.id,
      barCount: result.bars.length,
      startedAt,
      finishedAt,
    });
    const finalDir = await publishRunDir(p.paths, runId, result, manifest, { signal });
    const metrics = result.metrics as unknown as Record<string, number | null>;
    const run = catalog.markSucceeded(runId, metrics, finishedAt);
    p.req.onProgress?.('done', 1, 1);
    return { run, created: true, input_hash: p.id.hash, artifacts_dir: finalDir, metrics: result.metrics };
  } catch (err) {
    if (err instanceof RunCanceledError || signal?.aborted) {
      const run = catalog.markCanceled(runId);
      const e = new RunCanceledError();
      (e as { run?: RunRow }).run = run;
      throw e;
    }
    catalog.markFailed(runId, errorText(err));
    throw err;
  }
}

/** The port over a data dir (and, in a sweep worker, one open catalog and a bars cache). */
export class LocalBacktestRunner implements BacktestRunnerPort {
  readonly #base: Pick<BacktestRequest, 'dataDir' | 'catalog' | 'barsCache'>;
  constructor(dataDir: string, shared: { catalog?: CatalogPort; barsCache?: Map<string, BarSeries> } = {}) {
    this.#base = { dataDir, ...shared };
  }
  run(req: BacktestRunRequest): Promise<BacktestOutcome> {
    return runBacktestToCatalog({ ...req, ...this.#base });
  }
}
