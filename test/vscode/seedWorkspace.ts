// What the temp workspace and the private user profile hold before VS Code opens them.
// The launcher creates a fresh workspace per run and passes its path to the extension host as
// BTNB_TEST_WORKSPACE. Files under test/vscode/workspace-seed/ (if present) are copied in;
// tests that need data (a catalog, DBN files) can also create it from inside the host.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './codeServer.ts';

export const WORKSPACE_SEED_DIR = join(REPO_ROOT, 'test', 'vscode', 'workspace-seed');

export async function seedWorkspace(workspace: string): Promise<void> {
  if (existsSync(WORKSPACE_SEED_DIR)) cpSync(WORKSPACE_SEED_DIR, workspace, { recursive: true });
}

/** User settings that keep an offline test workbench quiet and deterministic. */
export const TEST_USER_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'window.restoreWindows': 'none',
};

export function writeUserSettings(userDataDir: string, extra: Record<string, unknown> = {}): void {
  const dir = join(userDataDir, 'User');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ ...TEST_USER_SETTINGS, ...extra }, null, 2));
}
