/** The run views: one panel each for the runs list, a run (by id) and a comparison. */
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { dataPaths } from '../../engine/dataDir.ts';
import type { CatalogService } from '../catalog/catalogService.ts';
import type { RunView } from '../catalog/model.ts';
import { compareHtml, runHtml, runsListHtml } from './html.ts';

const panels = new Map<string, vscode.WebviewPanel>();

function panel(key: string, title: string, onMessage: (m: unknown) => void): vscode.WebviewPanel {
  const existing = panels.get(key);
  if (existing) {
    existing.reveal();
    return existing;
  }
  const p = vscode.window.createWebviewPanel('btnb.runView', title, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
  panels.set(key, p);
  p.onDidDispose(() => panels.delete(key));
  p.webview.onDidReceiveMessage(onMessage);
  return p;
}

function openRunMessage(m: unknown): void {
  if (m && typeof m === 'object' && (m as { type?: unknown }).type === 'openRun' && typeof (m as { runId?: unknown }).runId === 'string') {
    void vscode.commands.executeCommand('btnb.openRun', (m as { runId: string }).runId);
  }
}

/** The zone the list renders in: the latest caller's (a re-opened list re-renders in it). */
let listTz = 'UTC';

export async function showRunsList(catalog: CatalogService, tz: string): Promise<vscode.WebviewPanel> {
  listTz = tz;
  const fresh = !panels.has('list');
  const p = panel('list', 'Backtest Runs', openRunMessage);
  const render = async () => {
    const r = await catalog.get();
    p.webview.html = runsListHtml(r ? r.listRuns() : [], listTz, p.webview.cspSource);
  };
  await render();
  // One catalog subscription per panel: re-opening the list must not add another re-render.
  if (fresh) {
    const sub = catalog.onDidChange(() => void render());
    p.onDidDispose(() => sub.dispose());
  }
  return p;
}

export async function showRun(catalog: CatalogService, run: RunView, tz: string): Promise<vscode.WebviewPanel> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(dataPaths(catalog.dataDir).runManifest(run.id), 'utf8'));
  } catch {
    manifest = undefined;
  }
  const p = panel(`run:${run.id}`, `Run ${run.strategyId} ${run.id.slice(-6)}`, openRunMessage);
  p.webview.html = runHtml(run, manifest, tz, p.webview.cspSource);
  return p;
}

export function showCompare(runs: RunView[]): vscode.WebviewPanel {
  const p = panel(`compare:${runs.map((r) => r.id).join(',')}`, `Compare ${runs.length} runs`, openRunMessage);
  p.webview.html = compareHtml(runs, p.webview.cspSource);
  return p;
}
