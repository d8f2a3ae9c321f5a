/** Reads the btnb.* settings; `${workspaceFolder}` and relative dataDir resolve against the first workspace folder. */
import * as vscode from 'vscode';
import { isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';

export function workspaceRoot(): string | undefined {
  const f = vscode.workspace.workspaceFolders?.[0];
  return f?.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}

export function expandDataDir(raw: string, root: string | undefined): string {
  let v = raw.trim() || '${workspaceFolder}/data';
  if (v.includes('${workspaceFolder}')) {
    if (!root) throw new Error('btnb.dataDir uses ${workspaceFolder} but no folder is open: open a folder or set an absolute btnb.dataDir');
    v = v.replaceAll('${workspaceFolder}', root);
  }
  if (v === '~' || v.startsWith('~/')) v = homedir() + v.slice(1);
  if (!isAbsolute(v)) {
    if (!root) throw new Error(`btnb.dataDir '${raw}' is relative but no folder is open`);
    v = resolve(root, v);
  }
  return resolve(v);
}

export function dataDir(): string {
  return expandDataDir(vscode.workspace.getConfiguration('btnb').get<string>('dataDir', '${workspaceFolder}/data'), workspaceRoot());
}

export function displayTimeZone(): string {
  const tz = vscode.workspace.getConfiguration('btnb').get<string>('displayTimeZone', 'America/New_York');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    return 'America/New_York';
  }
}

export function maxParallelJobs(): number {
  const n = vscode.workspace.getConfiguration('btnb').get<number>('maxParallelJobs', 2);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 16) : 2;
}

/** The sweep queue (`btnb.sweepQueue.*`), or undefined when sweeps run locally; the workers' token only from the environment. */
export function sweepQueue(): { redisUrl: string; listen: string; token?: string } | undefined {
  const c = vscode.workspace.getConfiguration('btnb');
  const redisUrl = c.get<string>('sweepQueue.redisUrl', '').trim();
  if (!redisUrl) return undefined;
  const token = process.env.BTNB_TOKEN?.trim();
  return { redisUrl, listen: c.get<string>('sweepQueue.listen', '127.0.0.1:8787').trim() || '127.0.0.1:8787', ...(token ? { token } : {}) };
}

export function databentoBaseUrl(): string {
  return vscode.workspace.getConfiguration('btnb').get<string>('databento.baseUrl', 'https://hist.databento.com');
}
