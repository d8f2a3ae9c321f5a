// The extension activates in a real VS Code extension host (code-server) and its first command
// is registered and runs. The expected version is read from package.json independently of the
// extension's own PRODUCT_VERSION constant, so a drift between the two fails here.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'btnb.backtest-notebook';

describe('extension activation', () => {
  it('is found by id, activates, and runs from the repository (development extension)', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded in the extension host`);
    await ext.activate();
    assert.equal(ext.isActive, true);
    const manifest = JSON.parse(readFileSync(join(ext.extensionPath, 'package.json'), 'utf8')) as { version: string; main: string };
    assert.equal(ext.packageJSON.version, manifest.version);
    assert.equal(manifest.main, './dist/extension.js');
  });

  it('registers btnb.showVersion', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('btnb.showVersion'), 'btnb.showVersion missing from vscode.commands.getCommands(true)');
  });

  it('btnb.showVersion returns the package.json version', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const { version } = JSON.parse(readFileSync(join(ext.extensionPath, 'package.json'), 'utf8')) as { version: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    const result = await vscode.commands.executeCommand<string>('btnb.showVersion');
    assert.equal(result, version);
  });

  it('opens the seeded temp workspace folder given by the launcher', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    assert.equal(folders[0]!.uri.fsPath, process.env.BTNB_TEST_WORKSPACE);
  });
});
