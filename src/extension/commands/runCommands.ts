/** Backtest commands: run, sweep, rerun, cancel, open/list/compare, delete, reveal, copy id. */
import * as vscode from 'vscode';
import { rm } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import * as ui from '../ui.ts';
import { dataDir, workspaceRoot } from '../settings.ts';
import type { Services } from '../services.ts';
import { ulid } from '../ids.ts';
import { dataPaths } from '../../engine/dataDir.ts';
import { CostsError, parseCostsText, toCosts, type CostsInput } from '../../engine/backtest/costs.ts';
import { GridError, gridFromRecord, gridSize, gridToRecord, parseGridText, type Grid } from '../../engine/sweep/grid.ts';
import { allChoices, paramFields, parseField, validateParams, workspaceChoices, type StrategyChoice } from '../strategyChoices.ts';
import { finished, pickDatasetId, type CommandResult } from './dataCommands.ts';
import { fmtNum, fmtPct, type RunView } from '../catalog/model.ts';
import { paramsText, paramValueText } from '../../engine/backtest/paramText.ts';
import type { Node } from '../tree/runsTree.ts';

export interface BacktestArgs {
  datasetId?: string;
  strategyId?: string;
  strategyPath?: string;
  params?: Record<string, unknown>;
  seed?: number;
  costs?: CostsInput;
  session?: 'all' | 'rth';
  force?: boolean;
  /** false: return as soon as the job is queued (tests cancel it). */
  wait?: boolean;
}

function isPlainArgs(arg: unknown): arg is BacktestArgs {
  return !!arg && typeof arg === 'object' && !('kind' in arg) && !(arg instanceof vscode.Uri);
}

async function chooseStrategy(args: BacktestArgs): Promise<StrategyChoice | undefined> {
  const root = workspaceRoot();
  if (args.strategyPath) {
    return (
      workspaceChoices(root).find((c) => c.path === args.strategyPath) ?? {
        id: args.strategyId ?? args.strategyPath,
        description: 'file',
        path: args.strategyPath,
      }
    );
  }
  const choices = await allChoices(root);
  if (args.strategyId) {
    const c = choices.find((x) => x.id === args.strategyId);
    if (!c) void ui.error(`Unknown strategy '${args.strategyId}': expected one of ${choices.map((x) => x.id).join(', ')}`);
    return c;
  }
  const picked = await ui.pick(
    choices.map((c) => ({ label: c.id, description: c.description, id: c.id })),
    { title: 'Strategy' },
  );
  return choices.find((c) => c.id === picked?.id);
}

/** One input box per parameter, each checked on its own, then the whole object by the schema. */
async function promptParams(choice: StrategyChoice): Promise<Record<string, unknown> | undefined> {
  const fields = paramFields(choice.schema);
  if (fields.length === 0) {
    const text = await ui.input({
      title: `${choice.id} parameters (JSON object)`,
      value: '{}',
      validateInput: (v) => {
        try {
          const o = JSON.parse(v);
          return o && typeof o === 'object' && !Array.isArray(o) ? undefined : 'expected a JSON object';
        } catch (e) {
          return `invalid JSON: ${(e as Error).message}`;
        }
      },
    });
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
  }
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const text = await ui.input({
      title: `${choice.id}: ${f.name} (${f.type})`,
      prompt: f.description,
      value: f.default !== undefined ? paramValueText(f.default) : '',
      validateInput: (v) => {
        const parsed = parseField(f, v);
        if ((f.type === 'integer' || f.type === 'number') && parsed !== undefined && !Number.isFinite(parsed))
          return `${f.name}: expected a number`;
        if (f.type === 'integer' && parsed !== undefined && !Number.isInteger(parsed)) return `${f.name}: expected an integer`;
        if (f.type === 'boolean' && typeof parsed !== 'boolean') return `${f.name}: expected true or false`;
        const r = validateParams(choice, { ...out, [f.name]: parsed });
        // Only issues about this field or earlier ones block; later fields are still missing.
        const mine = r.ok ? [] : r.issues.filter((i) => i.startsWith(`${f.name}:`) || Object.keys(out).some((k) => i.startsWith(`${k}:`)));
        return mine.length ? mine.join('; ') : undefined;
      },
    });
    if (text === undefined) return undefined;
    const v = parseField(f, text);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

/** The one costs grammar (engine/backtest/costs.ts), as an {ok} result for prompts and arguments. */
function costsOf(parse: () => CostsInput): { ok: true; costs: CostsInput } | { ok: false; error: string } {
  try {
    return { ok: true, costs: parse() };
  } catch (err) {
    if (err instanceof CostsError) return { ok: false, error: err.message };
    throw err;
  }
}

/** The costs input box: parsed with the same parser that validates as the user types. */
async function promptCosts(title: string, placeHolder: string): Promise<{ ok: true; costs: CostsInput } | { ok: false; error: string }> {
  const text = await ui.input({
    title,
    placeHolder,
    value: '',
    validateInput: (t) => {
      const r = costsOf(() => parseCostsText(t));
      return r.ok ? undefined : r.error;
    },
  });
  if (text === undefined) return { ok: false, error: 'no costs' };
  return costsOf(() => parseCostsText(text));
}

/** The one grid grammar (engine/sweep/grid.ts), as an {ok} result. */
function gridOf(parse: () => Grid): { ok: true; grid: Grid } | { ok: false; error: string } {
  try {
    return { ok: true, grid: parse() };
  } catch (err) {
    if (err instanceof GridError) return { ok: false, error: err.message };
    throw err;
  }
}

async function pickSession(): Promise<'all' | 'rth' | undefined> {
  return (
    await ui.pick(
      [
        { label: 'all', description: 'every bar' },
        { label: 'rth', description: 'regular trading hours (XNYS 09:30–16:00 New York)' },
      ],
      { title: 'Session' },
    )
  )?.label as 'all' | 'rth' | undefined;
}

/** A run id from a command argument: the id itself, a tree run node, or `{ runId }`. */
function runIdOf(arg: unknown): string | undefined {
  return typeof arg === 'string'
    ? arg
    : (arg as Node | undefined)?.kind === 'run'
      ? (arg as Extract<Node, { kind: 'run' }>).run.id
      : (arg as { runId?: string } | undefined)?.runId;
}

export async function runBacktest(s: Services, arg?: unknown): Promise<CommandResult> {
  if (!vscode.workspace.isTrusted) return { ok: false, error: ui.restricted('Running a backtest') };
  const args: BacktestArgs = isPlainArgs(arg) ? arg : {};
  if (arg instanceof vscode.Uri) args.strategyPath = arg.fsPath;
  const datasetId = args.datasetId ?? (await pickDatasetId(s, arg, 'Dataset to backtest'));
  if (!datasetId) return { ok: false, error: 'no dataset' };
  const strategy = await chooseStrategy(args);
  if (!strategy) return { ok: false, error: 'no strategy' };
  const raw = args.params ?? (await promptParams(strategy));
  if (!raw) return { ok: false, error: 'no parameters' };
  const v = validateParams(strategy, raw);
  if (!v.ok) {
    const error = `Invalid parameters for ${strategy.id}: ${v.issues.join('; ')}`;
    void ui.error(error);
    return { ok: false, error };
  }
  let costs = args.costs;
  if (!costs) {
    const r = await promptCosts(
      'Costs (key=value, blank for defaults)',
      'cash=100000 slippage_bps=1 fee_per_unit=0.005 fee_min=1   or   slippage=half-spread',
    );
    if (!r.ok) return r;
    costs = r.costs;
  } else {
    const check = costsOf(() => (toCosts(costs), costs!));
    if (!check.ok) {
      void ui.error(`Invalid costs: ${check.error}`);
      return { ok: false, error: check.error };
    }
  }
  let seed = args.seed;
  if (seed === undefined) {
    const t = await ui.input({
      title: 'Seed (stochastic models only)',
      value: '0',
      validateInput: (x) => (/^-?\d+$/.test(x.trim()) ? undefined : 'expected an integer'),
    });
    if (t === undefined) return { ok: false, error: 'no seed' };
    seed = Number(t);
  }
  const session = args.session ?? (await pickSession());
  if (!session) return { ok: false, error: 'no session' };

  const runId = ulid();
  const summary = paramsText(v.value, 4);
  const title = `Backtest ${strategy.id}${summary ? ` ${summary}` : ''}`;
  const { job, outcome } = await s.jobs.run({
    kind: 'backtest',
    title,
    runId,
    params: {
      dataDir: dataDir(),
      datasetId,
      strategyId: strategy.id,
      ...(strategy.path ? { strategyPath: strategy.path } : {}),
      params: v.value,
      seed,
      costs,
      session,
      runId,
      force: args.force ?? false,
    },
  });
  const done = outcome.then(async (o) => {
    s.catalog.refresh();
    if (o.status !== 'succeeded') return { ok: false as const, error: o.status === 'canceled' ? 'canceled' : o.message, runId };
    const p = o.result;
    const id = p.runId;
    const m = p.metrics ?? {};
    void ui
      .info(
        `${title}: ${p.created === false ? 'identical run already in the catalog' : 'done'} — return ${fmtPct(m.total_return)}, Sharpe ${fmtNum(m.sharpe)}`,
        'Open Run',
      )
      .then((a) => a && vscode.commands.executeCommand('btnb.openRun', id));
    return { ok: true as const, runId: id, created: p.created, metrics: m };
  });
  if (args.wait === false) return { ok: true, runId, jobId: job.id, pid: job.pid ?? null, done };
  return done;
}

export async function runSweep(s: Services, arg?: unknown): Promise<CommandResult> {
  if (!vscode.workspace.isTrusted) return { ok: false, error: ui.restricted('Running a sweep') };
  const args = (isPlainArgs(arg) ? arg : {}) as BacktestArgs & { grid?: Record<string, unknown>; fixed?: Record<string, unknown> };
  const datasetId = args.datasetId ?? (await pickDatasetId(s, arg, 'Dataset to sweep'));
  if (!datasetId) return { ok: false, error: 'no dataset' };
  const strategy = await chooseStrategy(args);
  if (!strategy) return { ok: false, error: 'no strategy' };
  let grid: Grid;
  if (args.grid) {
    const r = gridOf(() => gridFromRecord(args.grid!));
    if (!r.ok) {
      void ui.error(`Invalid sweep grid: ${r.error}`);
      return r;
    }
    grid = r.grid;
  } else {
    const text = await ui.input({
      title: `${strategy.id} sweep grid`,
      placeHolder: 'fast=5,10,20 slow=30:120:30',
      validateInput: (t) => {
        const r = gridOf(() => parseGridText(t));
        return r.ok ? undefined : r.error;
      },
    });
    if (!text) return { ok: false, error: 'no grid' };
    const r = gridOf(() => parseGridText(text));
    if (!r.ok) return r;
    grid = r.grid;
  }
  let costs = args.costs;
  let session = args.session;
  if (!costs) {
    const r = await promptCosts('Costs for every run (key=value, blank for defaults)', 'cash=100000 slippage_bps=1 fee_per_unit=0.005');
    if (!r.ok) return r;
    costs = r.costs;
  }
  session ??= await pickSession();
  if (!session) return { ok: false, error: 'no session' };
  const fixed = args.fixed ?? {};
  // Check the first combination against the schema so a typo fails here, not N times in the job.
  const first = Object.fromEntries(grid.map(([k, v]) => [k, v[0]]));
  const v = validateParams(strategy, { ...fixed, ...first });
  if (!v.ok && v.issues.some((i) => /Unrecognized key|expected/.test(i))) {
    const error = `Invalid sweep parameters for ${strategy.id}: ${v.issues.join('; ')}`;
    void ui.error(error);
    return { ok: false, error };
  }
  const n = gridSize(grid);
  const { outcome } = await s.jobs.run({
    kind: 'sweep',
    title: `Sweep ${strategy.id}: ${n} runs`,
    params: {
      dataDir: dataDir(),
      datasetId,
      strategyId: strategy.id,
      ...(strategy.path ? { strategyPath: strategy.path } : {}),
      grid: gridToRecord(grid),
      fixed,
      seed: args.seed ?? 0,
      costs,
      session,
      force: args.force ?? false,
    },
  });
  const r = await finished(s, await outcome);
  const sweepId = r.ok ? r.result.sweepId : undefined;
  if (r.ok)
    void ui
      .info(`Sweep ${strategy.id}: ${n} runs finished`, 'Open Results')
      .then((a) => a && sweepId && vscode.commands.executeCommand('btnb.openSweep', { sweepId }));
  return r.ok && sweepId ? { ...r, sweepId } : r;
}

async function runArg(
  s: Services,
  arg: unknown,
  title: string,
  filter: (r: RunView) => boolean = () => true,
): Promise<RunView | undefined> {
  const reader = await s.catalog.get();
  if (!reader) {
    void ui.warn('No catalog yet in this data directory.');
    return undefined;
  }
  const id = runIdOf(arg);
  if (id) {
    const r = reader.getRun(id);
    if (!r) void ui.error(`No run ${id} in ${dataPaths(s.catalog.dataDir).catalog}`);
    return r;
  }
  const runs = reader.listRuns().filter(filter);
  const picked = await ui.pick(
    runs.map((r) => runItem(r)),
    { title, matchOnDescription: true, matchOnDetail: true },
  );
  return picked ? reader.getRun(picked.id) : undefined;
}

function runItem(r: RunView): vscode.QuickPickItem & { id: string } {
  return {
    id: r.id,
    label: `${r.strategyId} ${paramsText(r.params, 4)}`,
    description: `${r.symbol ?? r.datasetId} · ${r.status}${r.status === 'succeeded' ? ` · ${fmtPct(r.metrics?.total_return)} · Sharpe ${fmtNum(r.metrics?.sharpe)}` : ''}`,
    detail: `${r.id}  ${r.finishedAt ?? r.createdAt ?? ''}`,
  };
}

export async function openRun(s: Services, arg?: unknown): Promise<CommandResult> {
  const run = await runArg(s, arg, 'Open run (type to search strategy, symbol, params, id)');
  if (!run) return { ok: false, error: 'no run' };
  (await s.views()).open({ view: 'run', runId: run.id });
  return { ok: true, runId: run.id };
}

export async function openRunsList(s: Services): Promise<CommandResult> {
  (await s.views()).open({ view: 'runs' });
  return { ok: true };
}

export async function compareRuns(s: Services, arg?: unknown, selected?: unknown[]): Promise<CommandResult> {
  const reader = await s.catalog.get();
  if (!reader) return { ok: false, error: 'no catalog' };
  let ids: string[] | undefined = (arg as { runIds?: string[] } | undefined)?.runIds;
  if (!ids && Array.isArray(selected) && selected.length > 1)
    ids = (selected as Node[]).filter((n) => n.kind === 'run').map((n) => n.run.id);
  if (!ids) {
    const done = reader.listRuns().filter((r) => r.status === 'succeeded');
    const picked = await ui.pick(
      done.map((r) => ({
        ...runItem(r),
        picked: (arg as Node | undefined)?.kind === 'run' && (arg as Extract<Node, { kind: 'run' }>).run.id === r.id,
      })),
      { title: 'Runs to compare (2 to 8)', canPickMany: true, matchOnDescription: true, matchOnDetail: true },
    );
    ids = picked?.map((p) => p.id);
  }
  if (!ids || ids.length < 2) return { ok: false, error: 'pick at least two runs' };
  if (ids.length > 8) {
    void ui.warn(`Compare shows up to 8 runs; ${ids.length} were selected.`);
    return { ok: false, error: 'at most 8 runs' };
  }
  const runs = ids.map((id) => reader.getRun(id)).filter((r): r is RunView => r !== undefined);
  if (runs.length < 2) return { ok: false, error: 'fewer than two of those runs are in the catalog' };
  (await s.views()).open({ view: 'compare', runIds: runs.map((r) => r.id) });
  return { ok: true, runIds: runs.map((r) => r.id) };
}

/** The sweep (or walk-forward) results view: by sweep id, by one of its runs, or picked from the catalog's sweeps. */
export async function openSweep(s: Services, arg?: unknown): Promise<CommandResult> {
  const reader = await s.catalog.get();
  if (!reader) return { ok: false, error: 'no catalog' };
  let sweepId =
    (arg as { sweepId?: string } | undefined)?.sweepId ?? (typeof arg === 'string' && !/^[0-9A-Z]{26}$/.test(arg) ? arg : undefined);
  const runId = sweepId ? undefined : runIdOf(arg);
  if (runId) sweepId = reader.port.getRun(runId)?.sweep_id ?? undefined;
  if (!sweepId) {
    const seen = new Map<string, { label: string; n: number; created: string }>();
    for (const r of reader.port.listRuns({ limit: 20_000 })) {
      if (!r.sweep_id) continue;
      const e = seen.get(r.sweep_id);
      if (e) e.n++;
      else seen.set(r.sweep_id, { label: `${r.strategy_id} on ${r.symbol ?? r.dataset_id}`, n: 1, created: r.created_at });
    }
    if (seen.size === 0) {
      void ui.info('No sweeps in the catalog yet: run one with Backtest: Run Parameter Sweep…');
      return { ok: false, error: 'no sweeps' };
    }
    const picked = await ui.pick(
      [...seen].map(([id, e]) => ({ label: e.label, description: `${e.n} runs`, detail: `${id} · ${e.created}`, id })),
      { title: 'Open sweep results' },
    );
    sweepId = picked?.id;
  }
  if (!sweepId) return { ok: false, error: runId ? `run ${runId} is not part of a sweep` : 'no sweep' };
  (await s.views()).open({ view: 'sweep', sweepId });
  return { ok: true, sweepId };
}

export async function rerun(s: Services, arg?: unknown): Promise<CommandResult> {
  const run = await runArg(s, arg, 'Rerun which run?', (r) => r.status !== 'running' && r.status !== 'queued');
  if (!run) return { ok: false, error: 'no run' };
  const file = workspaceChoices(workspaceRoot()).find((c) => c.id === run.strategyId);
  // a run's stored costs are valid costs input as they are (engine/backtest/costs.ts)
  return runBacktest(s, {
    datasetId: run.datasetId,
    strategyId: run.strategyId,
    ...(file?.path ? { strategyPath: file.path } : {}),
    params: run.params,
    seed: run.seed,
    costs: run.costs as CostsInput,
    session: run.session as 'all' | 'rth',
    force: true,
    ...(isPlainArgs(arg) && arg.wait === false ? { wait: false } : {}),
  });
}

export async function deleteRun(s: Services, arg?: unknown): Promise<CommandResult> {
  const run = await runArg(s, arg, 'Delete which run?', (r) => r.status !== 'running' && r.status !== 'queued');
  if (!run) return { ok: false, error: 'no run' };
  if (run.status === 'running' || run.status === 'queued') return { ok: false, error: `run ${run.id} is ${run.status}: cancel it first` };
  const sure =
    (arg as { confirm?: boolean } | undefined)?.confirm === true ||
    (await ui.confirm(`Delete run ${run.strategyId} ${paramsText(run.params, 4)} (${run.id}) and its artifacts?`, 'Delete'));
  if (!sure) return { ok: false, error: 'declined' };
  const reader = await s.catalog.require();
  reader.deleteRun(run.id);
  await rm(dataPaths(s.catalog.dataDir).runDir(run.id), { recursive: true, force: true });
  s.catalog.refresh();
  return { ok: true, runId: run.id };
}

export async function revealArtifacts(s: Services, arg?: unknown): Promise<CommandResult> {
  const run = await runArg(s, arg, 'Reveal artifacts of which run?');
  if (!run) return { ok: false, error: 'no run' };
  const dir = dataPaths(s.catalog.dataDir).runDir(run.id);
  const port = (await s.catalog.require()).port;
  if (port.getRun(run.id)?.materialized === false) {
    // a light sweep point: its files are made (re-run deterministically) before they are shown
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Writing the artifacts of run ${run.id}…` },
      () => s.jobs.materialize(s.catalog.dataDir, run.id),
    );
  }
  const uri = vscode.Uri.file(dir);
  const root = workspaceRoot();
  const inside = root !== undefined && !relative(root, dir).startsWith('..') && !isAbsolute(relative(root, dir));
  await vscode.commands.executeCommand(inside ? 'revealInExplorer' : 'revealFileInOS', uri);
  return { ok: true, path: dir };
}

export async function copyRunId(s: Services, arg?: unknown): Promise<CommandResult> {
  const run = await runArg(s, arg, 'Copy the id of which run?');
  if (!run) return { ok: false, error: 'no run' };
  await vscode.env.clipboard.writeText(run.id);
  vscode.window.setStatusBarMessage(`Copied run id ${run.id}`, 3000);
  return { ok: true, runId: run.id };
}

export async function cancelJob(s: Services, arg?: unknown): Promise<CommandResult> {
  const runId = runIdOf(arg);
  let job = runId ? s.jobs.jobForRun(runId) : undefined;
  if (!job && !runId) {
    const jobs = s.jobs.jobs();
    const picked = await ui.pick(
      jobs.map((j) => ({ label: j.spec.title, description: j.state, id: String(j.id) })),
      { title: 'Cancel which job?' },
    );
    job = jobs.find((j) => String(j.id) === picked?.id);
  }
  if (!job) {
    // A run left 'running' by a process that is gone (e.g. a killed CLI) can still be settled.
    if (runId) {
      const reader = await s.catalog.require();
      reader.markCanceled(runId);
      s.catalog.refresh();
      return { ok: true, runId, settledOnly: true };
    }
    return { ok: false, error: 'no job' };
  }
  job.cancel();
  const o = await job.outcome;
  return { ok: o.status === 'canceled', status: o.status } as CommandResult;
}
