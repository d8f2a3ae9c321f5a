/**
 * What each cell language does when it runs: its configuration is checked (cellConfig.ts), its
 * dataset and strategy are resolved, and its work runs as a job in a child process (the job
 * manager: never in the extension host), with progress shown in the cell. The result becomes
 * an output of the notebook's MIME types (outputs.ts); an error a CellError naming the cell line.
 */
import * as vscode from 'vscode';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { FetchResult, type JobKind, type JobParams, type JobResults } from '../engine/jobs/protocol.ts';
import type { CatalogPort } from '../engine/ports/catalog.ts';
import { gridToRecord, metricScore } from '../engine/sweep/grid.ts';
import { newUlid } from '../engine/catalog/ulid.ts';
import { BUILTIN_STRATEGIES } from '../engine/strategies/index.ts';
import { materializeStrategySource } from '../engine/backtest/strategySource.ts';
import { datasetCovering } from '../engine/ingest/localMarketData.ts';
import type { Services } from '../extension/services.ts';
import { sweepQueue, workspaceRoot } from '../extension/settings.ts';
import { analyzeCell, type BacktestCell, type ConfigLanguage, type CellConfig, type SweepCell } from './cellConfig.ts';
import { MIME } from './format.ts';
import { BEST_RUNS, type DatasetOutput, type RunOutput, type StrategyOutput, type SweepOutput, type TableOutput } from './outputs.ts';
import { cellLocations, strategyCellName, strategyCells } from './strategyCells.ts';
import { CellCanceled, CellError } from './cellErrors.ts';

/** Rows a SQL cell shows (and the file keeps); the rest are counted. */
export const TABLE_ROWS = 500;

export interface CellContext {
  s: Services;
  cell: vscode.NotebookCell;
  token: vscode.CancellationToken;
  dataDir: string;
  /** Shows a progress line in the cell while it runs. */
  progress(text: string): void;
  /** Materialized strategy cells used by this run → their names (error messages name the cell). */
  strategyFiles: Map<string, string>;
}

/** The runner of each cell language. */
export const RUNNERS: Readonly<Record<string, (ctx: CellContext) => Promise<vscode.NotebookCellOutput[]>>> = {
  'btnb-backtest': (ctx) => runBacktestCell(ctx),
  'btnb-sweep': (ctx) => runSweepCell(ctx),
  'btnb-data': (ctx) => runDataCell(ctx),
  sql: (ctx) => runSqlCell(ctx),
  typescript: (ctx) => runStrategyCell(ctx),
};

export const json = (mime: string, data: unknown) => new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.json(data, mime)]);

async function job<K extends JobKind>(
  ctx: CellContext,
  kind: K,
  title: string,
  params: JobParams[K],
  runId?: string,
): Promise<JobResults[K]> {
  const { job: j, outcome } = await ctx.s.jobs.run({ kind, title, params, ...(runId ? { runId } : {}) }, { notify: false });
  const sub = ctx.token.onCancellationRequested(() => j.cancel());
  if (ctx.token.isCancellationRequested) j.cancel();
  j.on('progress', (p) => ctx.progress(p.message ?? `${p.phase} ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}`));
  try {
    const o = await outcome;
    if (o.status === 'canceled') throw new CellCanceled('canceled');
    if (o.status === 'failed')
      throw new CellError(cellLocations(o.message, ctx.strategyFiles), o.stack ? cellLocations(o.stack, ctx.strategyFiles) : undefined);
    return o.result;
  } finally {
    sub.dispose();
    ctx.s.catalog.refresh();
  }
}

/** The cell's configuration, or a CellError listing every issue with its line. */
function config<L extends ConfigLanguage>(ctx: CellContext, language: L): CellConfig<L> {
  const doc = ctx.cell.document;
  const a = analyzeCell(language, doc.getText());
  if (a.ok) return a.config;
  const lines = a.issues.map((i) => `line ${doc.positionAt(i.start).line + 1}: ${i.message}`);
  throw new CellError(`this ${language} cell is not valid:\n${lines.join('\n')}`);
}

async function port(ctx: CellContext): Promise<CatalogPort | undefined> {
  return (await ctx.s.catalog.get())?.port;
}

async function resolveDataset(
  ctx: CellContext,
  ref: BacktestCell['dataset'],
): Promise<{ id: string; range?: { from: string; to: string } }> {
  const cat = await port(ctx);
  const hint = 'add a btnb-data cell above (e.g. `synth: { symbol: DEMO, start: 2024-03-04, days: 5 }`)';
  if (!cat) throw new CellError(`no catalog in ${ctx.dataDir} yet: ${hint}`);
  if (typeof ref === 'string') {
    const row = cat.getDataset(ref);
    if (!row) throw new CellError(`dataset ${ref} is not in the catalog of ${ctx.dataDir}; ${hint}`);
    if (row.status !== 'ready')
      throw new CellError(`dataset ${ref} has no bars yet (status ${row.status}); add a btnb-data cell \`derive: ${ref}\``);
    return { id: ref };
  }
  const row = datasetCovering(cat.listDatasets(), ref.symbol, ref.from, ref.to);
  if (!row) throw new CellError(`no dataset of ${ref.symbol} covers ${ref.from} … ${ref.to} in ${ctx.dataDir}; ${hint}`);
  return { id: row.dataset_id, range: { from: ref.from, to: ref.to } };
}

/** A built-in id, a strategy cell above this one, or a strategy file (relative to the notebook). */
async function resolveStrategy(ctx: CellContext, ref: string): Promise<{ strategyId: string; strategyPath?: string }> {
  if (BUILTIN_STRATEGIES[ref]) return { strategyId: ref };
  const nb = ctx.cell.notebook;
  const cells = strategyCells(
    nb.getCells().map((c) => ({ index: c.index, language: c.document.languageId, source: c.document.getText(), metadata: c.metadata })),
    ctx.cell.index,
  );
  const cell = cells.get(ref);
  if (cell) {
    const path = await materializeStrategySource(ctx.dataDir, cell.source);
    ctx.strategyFiles.set(path, ref);
    return { strategyId: ref, strategyPath: path };
  }
  if (/\.(ts|mts|js|mjs|cjs)$/.test(ref) || /[\\/]/.test(ref)) {
    const base = nb.uri.scheme === 'file' ? dirname(nb.uri.fsPath) : (workspaceRoot() ?? process.cwd());
    const path = isAbsolute(ref) ? ref : resolve(base, ref);
    if (!existsSync(path)) throw new CellError(`strategy file ${path} does not exist`);
    return { strategyId: ref, strategyPath: path };
  }
  const names = [...cells.keys()];
  throw new CellError(
    `unknown strategy '${ref}': not a built-in (${Object.keys(BUILTIN_STRATEGIES).join(', ')}), ` +
      `${names.length ? `not a strategy cell above (${names.join(', ')})` : 'no typescript strategy cell above names it'}, and not a .ts/.js file`,
  );
}

export async function runBacktestCell(ctx: CellContext): Promise<vscode.NotebookCellOutput[]> {
  const c = config(ctx, 'btnb-backtest');
  const ds = await resolveDataset(ctx, c.dataset);
  const strategy = await resolveStrategy(ctx, c.strategy);
  const runId = newUlid();
  ctx.progress('queued');
  const r = await job(
    ctx,
    'backtest',
    `Notebook backtest ${c.strategy}`,
    {
      dataDir: ctx.dataDir,
      datasetId: ds.id,
      ...strategy,
      params: c.params,
      seed: c.seed,
      ...(c.costs ? { costs: c.costs } : {}),
      session: c.session,
      runId,
      force: c.force,
      ...(ds.range ? { dateRange: ds.range } : {}),
    },
    runId,
  );
  const row = (await port(ctx))?.getRun(r.runId);
  const out: RunOutput = {
    run_id: r.runId,
    data_dir: ctx.dataDir,
    input_hash: r.inputHash,
    created: r.created,
    status: r.status,
    strategy_id: row?.strategy_id ?? strategy.strategyId,
    params: row?.params ?? c.params,
    dataset_id: ds.id,
    symbol: row?.symbol ?? null,
    session: c.session,
    metrics: r.metrics,
  };
  return [json(MIME.run, out)];
}

export async function runSweepCell(ctx: CellContext): Promise<vscode.NotebookCellOutput[]> {
  const c: SweepCell = config(ctx, 'btnb-sweep');
  const ds = await resolveDataset(ctx, c.dataset);
  const strategy = await resolveStrategy(ctx, c.strategy);
  ctx.progress('queued');
  const queue = sweepQueue();
  const r = await job(ctx, 'sweep', `Notebook sweep ${c.strategy}`, {
    dataDir: ctx.dataDir,
    datasetId: ds.id,
    ...strategy,
    grid: gridToRecord(c.grid),
    fixed: c.params,
    seed: c.seed,
    ...(c.costs ? { costs: c.costs } : {}),
    session: c.session,
    force: c.force,
    sort: c.sort,
    artifacts: c.artifacts,
    ...(ds.range ? { dateRange: ds.range } : {}),
    ...(c.walk_forward ? { walkForward: { trainDays: c.walk_forward.train_days, testDays: c.walk_forward.test_days } } : {}),
    // with btnb.sweepQueue.redisUrl set, the points run on `btnb worker`s (a walk-forward runs locally)
    ...(!c.walk_forward && queue ? { queue } : {}),
  });
  const scored = r.runs.map((x) => ({ ...x, score: x.metrics ? metricScore(x.metrics, c.sort) : null }));
  const best = scored
    .filter((x) => x.status === 'succeeded' && x.runId && x.score !== null && Number.isFinite(x.score))
    .sort((a, b) => b.score! - a.score!)
    .slice(0, BEST_RUNS);
  const out: SweepOutput = {
    sweep_id: r.sweepId,
    data_dir: ctx.dataDir,
    kind: r.walkForward ? 'walk-forward' : 'grid',
    strategy_id: strategy.strategyId,
    dataset_id: ds.id,
    sort: c.sort,
    keys: c.grid.map(([k]) => k),
    cells: scored.map((x) => ({
      params: x.params,
      run_id: x.runId || null,
      status: x.status,
      score: x.score !== null && Number.isFinite(x.score) ? x.score : null,
    })),
    best: best.map((x) => ({ run_id: x.runId, params: x.params, metrics: x.metrics ?? {} })),
    walk_forward: r.walkForward
      ? {
          folds: r.walkForward.folds.map((f) => ({
            fold: f.fold,
            test_start: f.testStart,
            test_end: f.testEnd,
            params: f.params,
            train_score: f.trainScore,
            test_return: f.testReturn,
            run_id: f.runId,
          })),
          metrics: r.walkForward.metrics,
        }
      : null,
  };
  return [json(MIME.sweep, out)];
}

function datasetOutput(action: DatasetOutput['action'], rows: JobResults['ingest']['datasets'], note: string | null): DatasetOutput {
  return {
    action,
    datasets: rows.map((d) => ({
      dataset_id: d.dataset_id,
      symbol: d.symbol,
      schemas: d.schemas,
      start: d.start,
      end: d.end,
      bar_count: d.bar_count ?? null,
    })),
    note,
  };
}

export async function runDataCell(ctx: CellContext): Promise<vscode.NotebookCellOutput[]> {
  const c = config(ctx, 'btnb-data');
  mkdirSync(ctx.dataDir, { recursive: true });
  const base = ctx.cell.notebook.uri.scheme === 'file' ? dirname(ctx.cell.notebook.uri.fsPath) : (workspaceRoot() ?? process.cwd());
  if (c.synth) {
    const p = c.synth;
    const r = await job(ctx, 'synth', `Notebook: synthesize ${p.symbol}`, {
      dataDir: ctx.dataDir,
      symbol: p.symbol,
      start: p.start,
      days: p.days,
      seed: p.seed,
      ...(p.trades_per_day ? { tradesPerDay: p.trades_per_day } : {}),
    });
    return [
      json(
        MIME.dataset,
        datasetOutput(
          'synth',
          r.datasets,
          `${r.trades.toLocaleString('en-US')} synthetic trades over ${r.tradingDays.length} trading days`,
        ),
      ),
    ];
  }
  if (c.import) {
    const files = (Array.isArray(c.import.files) ? c.import.files : [c.import.files]).map((f) => (isAbsolute(f) ? f : join(base, f)));
    const r = await job(ctx, 'ingest', 'Notebook: import DBN files', {
      dataDir: ctx.dataDir,
      paths: files,
      ...(c.import.symbol ? { symbol: c.import.symbol } : {}),
      derive: c.import.derive,
    });
    return [json(MIME.dataset, datasetOutput('import', r.datasets, `${files.length} file${files.length === 1 ? '' : 's'} imported`))];
  }
  if (c.fetch) {
    const f = c.fetch;
    const { downloadDatabento } = await import('../extension/commands/dataCommands.ts');
    const r = await downloadDatabento(ctx.s, {
      dataset: f.dataset,
      symbols: Array.isArray(f.symbols) ? f.symbols : [f.symbols],
      schemas: f.schemas,
      start: f.start,
      end: f.end,
    });
    if (!r.ok) throw new CellError(`Databento download: ${r.error}`);
    // the download command answers with its job's result, checked here as the job queue checks it
    const result = FetchResult.parse(r.result);
    return [
      json(
        MIME.dataset,
        datasetOutput('fetch', result.datasets, typeof r.cost === 'string' ? `downloaded for an estimated ${r.cost}` : null),
      ),
    ];
  }
  const id = c.derive!;
  const r = await job(ctx, 'derive', `Notebook: derive ${id}`, { dataDir: ctx.dataDir, datasetId: id });
  const row = (await port(ctx))?.getDataset(id);
  return [
    json(MIME.dataset, {
      action: 'derive',
      datasets: [
        { dataset_id: r.dataset_id, symbol: r.symbol, schemas: row?.schemas ?? [], start: r.start, end: r.end, bar_count: r.bar_count },
      ],
      note: null,
    } satisfies DatasetOutput),
  ];
}

export async function runSqlCell(ctx: CellContext): Promise<vscode.NotebookCellOutput[]> {
  const sql = ctx.cell.document.getText().trim();
  if (!sql) throw new CellError('an empty query');
  const r = await job(ctx, 'query', 'Notebook query', { dataDir: ctx.dataDir, sql, maxRows: TABLE_ROWS });
  const out: TableOutput = { columns: r.columns, rows: r.rows, total: r.total };
  return [json(MIME.table, out)];
}

export async function runStrategyCell(ctx: CellContext): Promise<vscode.NotebookCellOutput[]> {
  const source = ctx.cell.document.getText();
  const name = strategyCellName(source, ctx.cell.metadata) ?? `cell ${ctx.cell.index + 1}`;
  const path = await materializeStrategySource(ctx.dataDir, source);
  ctx.strategyFiles.set(path, name);
  const r = await job(ctx, 'strategy', `Notebook strategy ${name}`, { path });
  const out: StrategyOutput = {
    name,
    strategy_id: r.strategyId,
    description: r.description,
    code_hash: r.codeHash,
    params: r.params.map((p) => ({ ...p, default: p.default ?? null })),
  };
  return [json(MIME.strategy, out)];
}
