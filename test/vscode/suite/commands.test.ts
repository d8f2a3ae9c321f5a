// Every command the manifest contributes is registered by the activated extension, and the
// extension's own command table matches the manifest exactly (no orphan in either direction).
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { api, repoRoot, workspaceDir } from './ext-helpers.ts';
import { COMMAND_IDS } from '../../../src/extension/extension.ts';

interface Manifest {
  contributes: {
    commands: { command: string; category?: string; title: string }[];
    menus: Record<string, { command: string }[]>;
    configuration: { properties: Record<string, { default?: unknown }> };
  };
  capabilities: { untrustedWorkspaces: { supported: string } };
}
const manifest = (): Manifest => JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as Manifest;

describe('commands', () => {
  it('registers every command contributed in package.json', async () => {
    const a = await api();
    assert.ok(Number.isFinite(a.activationMs) && a.activationMs > 0, `activationMs ${a.activationMs}`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = manifest().contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 20, `only ${contributed.length} commands contributed`);
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, []);
  });

  it("the extension's command table and the manifest list the same ids", () => {
    assert.deepEqual(
      [...COMMAND_IDS].sort(),
      manifest()
        .contributes.commands.map((c) => c.command)
        .sort(),
    );
  });

  it('every command is in the Backtest category and every menu item names a contributed command', () => {
    const m = manifest();
    const ids = new Set(m.contributes.commands.map((c) => c.command));
    assert.deepEqual(
      m.contributes.commands.filter((c) => c.category !== 'Backtest').map((c) => c.command),
      [],
    );
    const dangling = Object.values(m.contributes.menus)
      .flat()
      .filter((i) => !ids.has(i.command))
      .map((i) => i.command);
    assert.deepEqual(dangling, []);
  });

  it('declares limited support for untrusted workspaces and the documented settings', () => {
    const m = manifest();
    assert.equal(m.capabilities.untrustedWorkspaces.supported, 'limited');
    const p = m.contributes.configuration.properties;
    assert.equal(p['btnb.dataDir']?.default, '${workspaceFolder}/data');
    assert.equal(p['btnb.displayTimeZone']?.default, 'America/New_York');
    for (const k of ['btnb.maxParallelJobs', 'btnb.databento.baseUrl', 'btnb.replay.defaultSpeed']) assert.ok(k in p, `${k} missing`);
    assert.equal(vscode.workspace.getConfiguration('btnb').get('maxParallelJobs'), 2);
  });

  it('New Backtest Notebook opens an untitled .btnb notebook with the serializer', async () => {
    const r = await vscode.commands.executeCommand<{ ok: boolean; uri: string }>('btnb.newNotebook');
    assert.equal(r.ok, true);
    const nb = vscode.window.activeNotebookEditor?.notebook;
    assert.ok(nb, 'no active notebook editor');
    assert.equal(nb.notebookType, 'btnb-notebook');
    assert.equal(nb.isUntitled, true);
    // the starter: every kind of cell, top to bottom on the sample dataset
    assert.deepEqual(
      nb.getCells().map((c) => c.document.languageId),
      ['markdown', 'btnb-data', 'typescript', 'btnb-backtest', 'btnb-backtest', 'btnb-sweep', 'sql'],
    );
    assert.equal(nb.cellAt(0).kind, vscode.NotebookCellKind.Markup);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('opens a .btnb from disk and saves it in the canonical form (deterministic serializer)', async () => {
    const src = join(repoRoot(), 'sample-workspace', 'analysis.btnb');
    const file = join(workspaceDir(), 'copy.btnb');
    // Start from the same notebook minified: saving must produce the canonical (sample) bytes.
    writeFileSync(file, JSON.stringify(JSON.parse(readFileSync(src, 'utf8'))));
    const nb = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
    assert.equal(nb.notebookType, 'btnb-notebook');
    assert.deepEqual(
      nb.getCells().map((c) => [c.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'code', c.document.languageId]),
      [
        ['markdown', 'markdown'],
        ['code', 'btnb-data'],
        ['code', 'typescript'],
        ['code', 'btnb-backtest'],
        ['code', 'btnb-backtest'],
        ['code', 'btnb-sweep'],
        ['code', 'sql'],
      ],
    );
    // A real edit and its undo, so the document is dirty and save() writes.
    const add = new vscode.WorkspaceEdit();
    add.set(nb.uri, [vscode.NotebookEdit.insertCells(7, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'x', 'typescript')])]);
    assert.ok(await vscode.workspace.applyEdit(add));
    const del = new vscode.WorkspaceEdit();
    del.set(nb.uri, [vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(7, 8))]);
    assert.ok(await vscode.workspace.applyEdit(del));
    assert.equal(nb.isDirty, true);
    assert.equal(await nb.save(), true);
    assert.equal(readFileSync(file, 'utf8'), readFileSync(src, 'utf8'));
  });
});
