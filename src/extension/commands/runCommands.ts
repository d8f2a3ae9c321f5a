/** Backtest commands that start runs: run, sweep (locally or on the sweep queue), rerun; the others on runs are re-exported from runItemCommands.ts. */
import * as vscode from 'vscode';
import * as ui from '../ui.ts';
import { dataDir, sweepQueue, workspaceRoot } from '../settings.ts';
import type { Services } from '../services.ts';
import { ulid } from '../ids.ts';
import { CostsError, parseCostsText, toCosts, type CostsInput } from '../../engine/backtest/costs.ts';
import { GridError, gridFromRecord, gridSize, gridToRecord, parseGridText, type Grid } from '../../engine/sweep/grid.ts';
import { allChoices, paramFields, parseField, validateParams, workspaceChoices, type StrategyChoice } from '../strategyChoices.ts';
import { finished, pickDatasetId, type CommandResult } from './dataCommands.ts';
import { fmtNum, fmtPct } from '../catalog/model.ts';
import { paramsText, paramValueText } from '../../engine/backtest/paramText.ts';
import { runArg } from './runItemCommands.ts';

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
  const queue = sweepQueue();
  const { outcome } = await s.jobs.run({
    kind: 'sweep',
    title: `Sweep ${strategy.id}: ${n} runs${queue ? ` on the queue ${queue.redisUrl}` : ''}`,
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
      ...(queue ? { queue } : {}),
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

export { openRun, openRunsList, compareRuns, openSweep, deleteRun, revealArtifacts, copyRunId, cancelJob } from './runItemCommands.ts';
