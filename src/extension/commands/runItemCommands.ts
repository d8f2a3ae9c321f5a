/**
 * Commands on existing runs: open one (a quick pick over the catalog, or a tree node / id /
 * `{ runId }` argument), the runs list, compare, a sweep's results, delete, reveal its files
 * (a light sweep point's are written first, in a job child), copy its id, cancel its job.
 */
import * as vscode from 'vscode';
import { rm } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import * as ui from '../ui.ts';
import { workspaceRoot } from '../settings.ts';
import type { Services } from '../services.ts';
import { dataPaths } from '../../engine/dataDir.ts';
import type { CommandResult } from './dataCommands.ts';
import { fmtNum, fmtPct, type RunView } from '../catalog/model.ts';
import { paramsText } from '../../engine/backtest/paramText.ts';
import type { Node } from '../tree/runsTree.ts';

/** A run id from a command argument: the id itself, a tree run node, or `{ runId }`. */
function runIdOf(arg: unknown): string | undefined {
  return typeof arg === 'string'
    ? arg
    : (arg as Node | undefined)?.kind === 'run'
      ? (arg as Extract<Node, { kind: 'run' }>).run.id
      : (arg as { runId?: string } | undefined)?.runId;
}

export async function runArg(
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
