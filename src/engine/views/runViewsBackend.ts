/**
 * The run views' backend: answers the protocol's requests (views/protocol.ts) from the catalog
 * and the run artifacts, and streams replays. Host-neutral — the extension binds it to webviews,
 * `btnb serve` will bind it to WebSockets — so every view works the same way everywhere.
 * Loaded runs are cached (by bytes, a few at a time): charts, tables and replays of one run
 * share one read of its files.
 */
import { readFile } from 'node:fs/promises';
import type { CatalogPort, RunFilter, RunRow } from '../ports/catalog.ts';
import { dataPaths } from '../dataDir.ts';
import { readArtifactColumns } from '../backtest/artifactReader.ts';
import { builtinDefaults } from '../strategies/index.ts';
import { keyParams, paramsText } from '../backtest/paramText.ts';
import { bucketSize, m4Indices, pickNum } from '../replay/decimate.ts';
import { loadRunSeries, RunDataError, type Materializer, type RunSeries } from '../replay/runSeries.ts';
import { IpcError } from './ipc.ts';
import { manifestDiff, normalisedCurves } from './compare.ts';
import { seriesWindow } from './seriesWindow.ts';
import { locateRow, tablePage } from './runTables.ts';
import type {
  CompareData,
  RunDetail,
  RunInfo,
  RunListRow,
  RunsFacets,
  RunsPage,
  RunsQuery,
  SeriesWindow,
  SweepData,
  TableName,
  TablePage,
} from './protocol.ts';

export interface RunViewsBackendOptions {
  dataDir: () => string;
  /** The catalog, or undefined while none exists yet. */
  catalog: () => Promise<CatalogPort | undefined>;
  /** Bytes of loaded runs to keep (default 320 MB). */
  cacheBytes?: number;
  /** How a light sweep point's files are written when a view opens it (default: in process). */
  materialize?: Materializer;
}

function seriesBytes(s: RunSeries): number {
  return s.length * 11 * 8 + s.fills.length * 90 + s.orders.length * 60 + s.trades.length * 80;
}

export function toRunInfo(r: RunRow): RunInfo {
  return {
    run_id: r.run_id,
    status: r.status,
    input_hash: r.input_hash,
    dataset_id: r.dataset_id,
    symbol: r.symbol,
    strategy_id: r.strategy_id,
    params: r.params,
    seed: r.seed,
    costs: r.costs,
    session: r.session,
    code_hash: r.code_hash,
    engine_version: r.engine_version,
    metrics: r.metrics,
    error: r.error,
    tags: r.tags,
    notes: r.notes,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    sweep_id: r.sweep_id,
  };
}

function durationMs(r: RunRow): number | null {
  if (!r.started_at || !r.finished_at) return null;
  return Date.parse(r.finished_at) - Date.parse(r.started_at);
}

export class RunViewsBackend {
  readonly #opts: RunViewsBackendOptions;
  readonly #cache = new Map<string, Promise<RunSeries>>();
  readonly #sizes = new Map<string, number>();

  constructor(opts: RunViewsBackendOptions) {
    this.#opts = opts;
  }

  async #catalog(): Promise<CatalogPort> {
    const c = await this.#opts.catalog();
    if (!c) throw new IpcError('not_found', `no catalog yet in ${this.#opts.dataDir()} (import or synthesise data first)`);
    return c;
  }

  async #run(runId: string): Promise<RunRow> {
    const r = (await this.#catalog()).getRun(runId);
    if (!r) {
      this.evict(runId);
      throw new IpcError(
        'not_found',
        `run ${runId} is not in the catalog ${dataPaths(this.#opts.dataDir()).catalog} (deleted, or another data directory)`,
      );
    }
    return r;
  }

  /** A succeeded run's series (cached). */
  async series(runId: string): Promise<RunSeries> {
    const hit = this.#cache.get(runId);
    if (hit) {
      // most recently used last
      this.#cache.delete(runId);
      this.#cache.set(runId, hit);
      return hit;
    }
    const cat = await this.#catalog();
    const p = loadRunSeries(this.#opts.dataDir(), cat, runId, this.#opts.materialize).catch((err: unknown) => {
      this.#cache.delete(runId);
      if (err instanceof RunDataError)
        throw new IpcError(err.code === 'bad_artifact' ? 'failed' : err.code === 'inputs_changed' ? 'conflict' : 'not_found', err.message);
      throw err;
    });
    this.#cache.set(runId, p);
    const s = await p;
    this.#sizes.set(runId, seriesBytes(s));
    this.#trim();
    return s;
  }

  #trim(): void {
    const budget = this.#opts.cacheBytes ?? 320 << 20;
    let total = [...this.#sizes.values()].reduce((a, b) => a + b, 0);
    for (const id of this.#cache.keys()) {
      if (total <= budget || this.#cache.size <= 1) break;
      total -= this.#sizes.get(id) ?? 0;
      this.evict(id);
    }
  }

  evict(runId: string): void {
    this.#cache.delete(runId);
    this.#sizes.delete(runId);
  }

  // ---- runs list ------------------------------------------------------------------------

  async runsList(q: RunsQuery): Promise<RunsPage> {
    const cat = await this.#opts.catalog();
    if (!cat) return { total: 0, offset: 0, rows: [], counter: 0 };
    const filter: RunFilter = {
      ...(q.status?.length ? { status: q.status } : {}),
      ...(q.strategy ? { strategy: q.strategy } : {}),
      ...(q.datasetId ? { datasetId: q.datasetId } : {}),
      ...(q.sweepId ? { sweepId: q.sweepId } : {}),
      ...(q.search?.trim() ? { search: q.search } : {}),
      ...(q.metrics?.length ? { metrics: q.metrics } : {}),
    };
    let rows: RunRow[];
    let total: number;
    try {
      total = cat.countRuns(filter);
      rows = cat.listRuns({ ...filter, sortBy: q.sort.key, order: q.sort.dir, offset: q.offset, limit: q.limit });
    } catch (err) {
      throw new IpcError('bad_params', (err as Error).message);
    }
    return {
      total,
      offset: q.offset,
      counter: cat.changeCounter(),
      rows: rows.map((r): RunListRow => ({
        run_id: r.run_id,
        status: r.status,
        strategy_id: r.strategy_id,
        symbol: r.symbol,
        dataset_id: r.dataset_id,
        key_params: keyParams(r.params, builtinDefaults(r.strategy_id)),
        tags: r.tags,
        sweep_id: r.sweep_id,
        created_at: r.created_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_ms: durationMs(r),
        metrics: r.metrics,
        error: r.error ? r.error.split('\n')[0]!.slice(0, 300) : null,
      })),
    };
  }

  async runsFacets(): Promise<RunsFacets> {
    const cat = await this.#opts.catalog();
    if (!cat) return { strategies: [], datasets: [], total: 0 };
    const f = cat.runFacets();
    return { strategies: f.strategies, total: f.total, datasets: cat.listDatasets().map((d) => ({ id: d.dataset_id, symbol: d.symbol })) };
  }

  // ---- one run ----------------------------------------------------------------------------

  async runGet(runId: string): Promise<RunDetail> {
    const run = await this.#run(runId);
    let manifest: Record<string, unknown> | null = null;
    try {
      // a light sweep point's manifest is in the catalog until it is materialised (by series() below)
      manifest = run.materialized
        ? (JSON.parse(await readFile(dataPaths(this.#opts.dataDir()).runManifest(runId), 'utf8')) as Record<string, unknown>)
        : (await this.#catalog()).getRunManifest(runId);
    } catch {
      /* no manifest: not finished, or deleted files */
    }
    const wf = run.tags.find((t) => t.startsWith('walk-forward:'));
    const base = { run: toRunInfo(run), manifest, walk_forward_id: wf ? wf.slice('walk-forward:'.length) : null };
    if (run.status !== 'succeeded')
      return {
        ...base,
        series: null,
        unavailable: `run ${runId} is ${run.status}${run.status === 'running' || run.status === 'queued' ? ': its charts appear when it finishes' : ''}`,
      };
    try {
      const s = await this.series(runId);
      return {
        ...base,
        unavailable: null,
        series: {
          bar_count: s.length,
          start_ms: s.tsMs[0] ?? 0,
          end_ms: s.length ? s.tsMs[s.length - 1]! : 0,
          has_quotes: s.hasQuotes,
          bars_source: s.barsSource,
          cancel_times_known: s.cancelTimesKnown,
          fill_count: s.fills.length,
          order_count: s.orders.length,
          trade_count: s.trades.length,
          initial_cash: s.initialCash,
        },
      };
    } catch (err) {
      return { ...base, series: null, unavailable: (err as Error).message };
    }
  }

  async runSeries(runId: string, from: number, to: number, points: number): Promise<SeriesWindow> {
    return seriesWindow(await this.series(runId), from, to, points);
  }

  async runTable(
    runId: string,
    table: TableName,
    offset: number,
    limit: number,
    sort?: { column: string; dir: 'asc' | 'desc' },
  ): Promise<TablePage> {
    try {
      return tablePage(await this.series(runId), table, offset, limit, sort);
    } catch (err) {
      if (err instanceof RangeError) throw new IpcError('bad_params', err.message);
      throw err;
    }
  }

  async runTableLocate(runId: string, table: TableName, bar: number, sort?: { column: string; dir: 'asc' | 'desc' }): Promise<number> {
    return locateRow(await this.series(runId), table, bar, sort);
  }

  // ---- compare and sweeps -----------------------------------------------------------------

  async compareGet(runIds: string[], points: number): Promise<CompareData> {
    const items: { run: RunInfo; manifest: Record<string, unknown> | null; series: RunSeries | null; reason: string | null }[] = [];
    for (const id of runIds) {
      const d = await this.runGet(id);
      let series: RunSeries | null = null;
      if (d.series) series = await this.series(id);
      items.push({ run: d.run, manifest: d.manifest, series, reason: d.unavailable });
    }
    const shown = items.filter((x) => x.series !== null);
    const { commonStart, curves } = normalisedCurves(
      shown.map((x) => x.series!),
      points,
    );
    const label = (r: RunInfo) => {
      const kp = paramsText(keyParams(r.params, builtinDefaults(r.strategy_id)));
      return `${r.strategy_id}${kp ? ` ${kp}` : ''} · ${r.run_id.slice(-6)}`;
    };
    return {
      runs: items.map((x) => ({ run: x.run, label: label(x.run) })),
      common_start_ms: commonStart,
      curves,
      diff: manifestDiff(items),
      missing: items.filter((x) => x.series === null).map((x) => ({ run_id: x.run.run_id, reason: x.reason ?? 'no series' })),
    };
  }

  async sweepGet(sweepId: string, points: number): Promise<SweepData> {
    const cat = await this.#catalog();
    const rows = cat.listRuns({ sweepId, sortBy: 'created', order: 'asc', limit: 100_000 });
    if (rows.length === 0) throw new IpcError('not_found', `no runs with sweep id ${sweepId} in ${cat.path}`);
    const first = rows[0]!;
    const wfTag = `walk-forward:${sweepId}`;
    const isWf = rows.some((r) => r.tags.includes(wfTag));
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
    const params: SweepData['params'] = [];
    for (const k of keys) {
      const distinct = [...new Set(rows.map((r) => JSON.stringify(r.params[k] ?? null)))].map((s) => JSON.parse(s) as unknown);
      if (distinct.length < 2) continue;
      const values = distinct.filter((v): v is number | string | boolean => ['number', 'string', 'boolean'].includes(typeof v));
      values.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
      params.push({ key: k, values });
    }
    let walkForward: SweepData['walk_forward'] = null;
    if (isWf) {
      const folds = rows
        .map((r) => ({ r, fold: Number(r.tags.find((t) => t.startsWith('fold:'))?.slice(5)) }))
        .filter((x) => Number.isInteger(x.fold) && x.r.status === 'succeeded')
        .sort((a, b) => a.fold - b.fold);
      const ts: number[] = [];
      const eq: number[] = [];
      const out: NonNullable<SweepData['walk_forward']>['folds'] = [];
      const paths = dataPaths(this.#opts.dataDir());
      for (const { r, fold } of folds) {
        const t = await readArtifactColumns(paths.runEquity(r.run_id), { ts: { kind: 'i64' }, equity: { kind: 'f64' } });
        const tsNs = t.columns.ts as Float64Array;
        const e = t.columns.equity as Float64Array;
        if (t.rows === 0) continue;
        out.push({
          fold,
          run_id: r.run_id,
          start_ms: tsNs[0]! / 1e6,
          end_ms: tsNs[t.rows - 1]! / 1e6,
          params: r.params,
          total_return: r.metrics?.total_return ?? null,
        });
        for (let k = 0; k < t.rows; k++) {
          ts.push(tsNs[k]! / 1e6);
          eq.push(e[k]!);
        }
      }
      const tsA = Float64Array.from(ts);
      const eqA = Float64Array.from(eq);
      const idx = eqA.length ? m4Indices([eqA], 0, eqA.length, bucketSize(0, eqA.length, points)) : [];
      const cash = (folds[0]?.r.costs as { cash?: number } | undefined)?.cash ?? 100_000;
      walkForward = { folds: out, equity: { ts_ms: pickNum(tsA, idx), equity: pickNum(eqA, idx) }, initial_cash: cash };
    }
    return {
      sweep_id: sweepId,
      kind: isWf ? 'walk-forward' : 'grid',
      strategy_id: first.strategy_id,
      symbol: first.symbol,
      dataset_id: first.dataset_id,
      runs: rows.map((r) => ({ run_id: r.run_id, status: r.status, params: r.params, metrics: r.metrics, tags: r.tags })),
      params,
      walk_forward: walkForward,
    };
  }
}
