// Shared by the extension's integration suites: the activated extension's API, a fresh data dir
// per suite (btnb.dataDir), catalog seeding through the engine's own catalog module, and waits.
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { BtnbApi } from '../../../src/extension/extension.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';

export const EXTENSION_ID = 'btnb.backtest-notebook';

export async function api(): Promise<BtnbApi> {
  const ext = vscode.extensions.getExtension<BtnbApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} not loaded`);
  return ext.activate();
}

export function repoRoot(): string {
  return vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
}

export function workspaceDir(): string {
  const w = process.env.BTNB_TEST_WORKSPACE ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(w, 'no test workspace');
  return w;
}

/** Points btnb.dataDir at <workspace>/<name> and waits until the extension switched to it. */
export async function useDataDir(name: string): Promise<string> {
  const dir = join(workspaceDir(), name);
  mkdirSync(dir, { recursive: true });
  await vscode.workspace.getConfiguration('btnb').update('dataDir', dir, vscode.ConfigurationTarget.Workspace);
  const a = await api();
  await waitFor(() => a.services.catalog.dataDir === dir, `data dir switched to ${dir}`);
  return dir;
}

export function catalogAt(dir: string) {
  return openCatalog(dataPaths(dir).catalog);
}

/** Seeds one dataset row the way import + derive would leave it. */
export function seedDataset(dir: string, id: string, symbol: string, barCount: number) {
  const cat = catalogAt(dir);
  try {
    cat.upsertDataset({
      dataset_id: id,
      symbol,
      schemas: ['trades', 'tbbo'],
      derive_version: 1,
      databento_dataset: 'XNAS.ITCH',
      start: '2024-03-04T14:30:00.000Z',
      end: '2024-03-08T21:00:00.000Z',
      bar_count: barCount,
      bars_path: `derived/bars/${id}/bars-1m.parquet`,
      status: 'ready',
    });
  } finally {
    cat.close();
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a process with this pid exists (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
