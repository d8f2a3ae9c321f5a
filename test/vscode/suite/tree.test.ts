// The Runs tree over a real SQLite catalog: datasets → runs with status icons, metrics in the
// description, grouping/filtering, and a live refresh when another process writes the catalog.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { api, catalogAt, repoRoot, seedDataset, useDataDir, waitFor, workspaceDir } from './ext-helpers.ts';
import type { Node } from '../../../src/extension/tree/runsTree.ts';

const run = promisify(execFile);
const DS_A = 'ds_00000000000000aa';
const DS_B = 'ds_00000000000000bb';
const hash = (c: string) => c.repeat(64);

function item(n: Node): vscode.TreeItem {
  return apiSync!.services.tree.getTreeItem(n);
}
let apiSync: Awaited<ReturnType<typeof api>> | undefined;

describe('runs tree', function () {
  this.timeout(60_000);
  let dir: string;
  const ids: Record<string, string> = {};

  before(async () => {
    apiSync = await api();
    dir = await useDataDir('data-tree');
    seedDataset(dir, DS_A, 'AAPL', 1234);
    seedDataset(dir, DS_B, 'MSFT', 0);
    const cat = catalogAt(dir);
    try {
      const base = { dataset_id: DS_A, seed: 0, costs: { cash: 100000 }, session: 'all', code_hash: hash('c'), engine_version: '1' };
      const r1 = cat.createRun({ ...base, input_hash: hash('1'), strategy_id: 'sma-cross', params: { fast: 10, slow: 30 } }).run;
      cat.markRunning(r1.run_id);
      cat.markSucceeded(r1.run_id, { total_return: 0.123456, sharpe: 1.2345, max_drawdown: 0.05, num_trades: 7 });
      const r2 = cat.createRun({ ...base, input_hash: hash('2'), strategy_id: 'bollinger-reversion', params: { period: 20, k: 2.5 } }).run;
      cat.markRunning(r2.run_id);
      cat.markFailed(r2.run_id, 'strategy threw at bar 7');
      const r3 = cat.createRun({ ...base, input_hash: hash('3'), strategy_id: 'sma-cross', params: { fast: 5, slow: 50 } }).run;
      cat.markRunning(r3.run_id);
      Object.assign(ids, { ok: r1.run_id, failed: r2.run_id, running: r3.run_id });
    } finally {
      cat.close();
    }
    apiSync.services.catalog.refresh();
  });

  it('shows datasets with symbol, New York date range and bar count', async () => {
    const roots = await apiSync!.services.tree.getChildren();
    assert.deepEqual(
      roots.map((n) => n.kind),
      ['dataset', 'dataset'],
    );
    const labels = roots.map((n) => item(n).label);
    // 2024-03-04T14:30Z is 09:30 New York; the exclusive end 2024-03-08T21:00Z is 16:00 on the 8th.
    assert.deepEqual(labels.sort(), ['AAPL 2024-03-04 → 2024-03-08', 'MSFT 2024-03-04 → 2024-03-08']);
    const aapl = roots.find((n) => item(n).label === 'AAPL 2024-03-04 → 2024-03-08')!;
    assert.equal(item(aapl).description, '1,234 bars · 3 runs');
    assert.equal(item(aapl).contextValue, 'dataset.ready');
  });

  it('lists runs newest first with status icon, non-default params, return and Sharpe', async () => {
    // period=20 is bollinger-reversion's default, so only k=2.5 is in its label.
    const roots = await apiSync!.services.tree.getChildren();
    const aapl = roots.find((n) => n.kind === 'dataset' && n.dataset.id === DS_A)!;
    const runs = (await apiSync!.services.tree.getChildren(aapl)).map(item);
    assert.deepEqual(
      runs.map((r) => r.label),
      ['sma-cross fast=5 slow=50', 'bollinger-reversion k=2.5', 'sma-cross fast=10 slow=30'],
    );
    assert.deepEqual(
      runs.map((r) => r.contextValue),
      ['run.running', 'run.failed', 'run.succeeded'],
    );
    assert.deepEqual(
      runs.map((r) => (r.iconPath as vscode.ThemeIcon).id),
      ['loading~spin', 'error', 'pass'],
    );
    // 0.123456 → +12.35 %, Sharpe 1.2345 → 1.23 (two decimals).
    assert.equal(runs[2]!.description, '+12.35% · Sharpe 1.23');
    assert.equal(runs[1]!.description, 'failed: strategy threw at bar 7');
    const tip = (runs[2]!.tooltip as vscode.MarkdownString).value;
    assert.match(tip, new RegExp(ids.ok!));
    assert.match(tip, /"fast":10,"slow":30/);
    assert.deepEqual(runs[2]!.command?.arguments, [ids.ok]);
  });

  it('groups by strategy and filters by status', async () => {
    const tree = apiSync!.services.tree;
    await vscode.commands.executeCommand('btnb.groupByStrategy');
    try {
      const roots = await tree.getChildren();
      assert.deepEqual(
        roots.map((n) => item(n).label),
        ['bollinger-reversion', 'sma-cross'],
      );
      assert.equal(item(roots[1]!).description, '2 runs');
      await vscode.commands.executeCommand('btnb.filterByStatus', { statuses: ['succeeded'] });
      const filtered = await tree.getChildren();
      assert.deepEqual(
        filtered.map((n) => item(n).label),
        ['sma-cross'],
      );
      const only = await tree.getChildren(filtered[0]);
      assert.deepEqual(
        only.map((n) => (n.kind === 'run' ? n.run.id : '')),
        [ids.ok],
      );
    } finally {
      await vscode.commands.executeCommand('btnb.filterByStatus', { statuses: ['queued', 'running', 'succeeded', 'failed', 'canceled'] });
      await vscode.commands.executeCommand('btnb.groupByDataset');
    }
  });

  it('refreshes when another process writes the catalog (fs.watch + change counter, no polling)', async () => {
    const a = apiSync!;
    const before = a.services.catalog.refreshes;
    // A separate Node process (the engine's catalog module, as the CLI uses it) finishes the running run.
    const script = `import { openCatalog } from ${JSON.stringify(join(repoRoot(), 'src/engine/catalog/sqliteCatalog.ts'))};
const c = openCatalog(${JSON.stringify(join(dir, 'catalog.sqlite'))});
c.markSucceeded(${JSON.stringify(ids.running)}, { total_return: -0.0421, sharpe: -0.5 });
c.close();`;
    await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    await waitFor(() => a.services.catalog.refreshes > before, 'a catalog refresh event after the external write');
    // Opening the catalog in the other process may itself be a write (and a refresh): wait for the
    // refresh that carries the finished run rather than reading right after the first event.
    const firstRun = async () => {
      const aapl = (await a.services.tree.getChildren()).find((n) => n.kind === 'dataset' && n.dataset.id === DS_A)!;
      return item((await a.services.tree.getChildren(aapl))[0]!);
    };
    await waitFor(async () => (await firstRun()).contextValue === 'run.succeeded', 'the run shown succeeded');
    const first = await firstRun();
    assert.equal(first.description, '-4.21% · Sharpe -0.50');
  });

  it('refreshes after the btnb CLI (dist/cli.js in a child process) imports a dataset', async () => {
    const a = apiSync!;
    const before = a.services.catalog.refreshes;
    const { stdout } = await run(
      process.execPath,
      [
        join(repoRoot(), 'dist/cli.js'),
        'data',
        'synth',
        '--symbol',
        'CLI',
        '--start',
        '2024-03-04',
        '--days',
        '1',
        '--seed',
        '2',
        '--out',
        join(workspaceDir(), 'cli-synth'),
        '--import',
        '--json',
        '--data-dir',
        dir,
      ],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
    );
    const id = /"dataset_id":\s*"(ds_[0-9a-f]{16})"/.exec(stdout)?.[1];
    assert.ok(id, stdout);
    await waitFor(() => a.services.catalog.refreshes > before, 'a refresh event after the CLI wrote the catalog');
    await waitFor(
      async () => (await a.services.tree.getChildren()).some((n) => n.kind === 'dataset' && n.dataset.id === id),
      `dataset ${id} in the tree`,
    );
  });

  it('Delete Run removes the run from the catalog and the tree', async () => {
    const a = apiSync!;
    const r = await vscode.commands.executeCommand<{ ok: boolean }>('btnb.deleteRun', { runId: ids.failed, confirm: true });
    assert.equal(r.ok, true);
    const cat = catalogAt(dir);
    try {
      assert.equal(cat.getRun(ids.failed!), null);
    } finally {
      cat.close();
    }
    const aapl = (await a.services.tree.getChildren()).find((n) => n.kind === 'dataset' && n.dataset.id === DS_A)!;
    assert.equal(aapl.kind === 'dataset' && aapl.runs.length, 2);
  });

  it('Open Run… without an id asks with a searchable quick pick (scripted answer by label)', async () => {
    const a = apiSync!;
    a.ui.queueAnswers('sma-cross fast=10 slow=30');
    const r = await vscode.commands.executeCommand<{ ok: boolean; runId: string }>('btnb.openRun');
    assert.deepEqual(r, { ok: true, runId: ids.ok });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Open Run shows a webview with the metrics table; Copy Run ID copies it', async () => {
    const r = await vscode.commands.executeCommand<{ ok: boolean; runId: string }>('btnb.openRun', ids.ok);
    assert.equal(r.ok, true);
    await waitFor(() => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label.startsWith('Run sma-cross'))), 'the run tab');
    await vscode.commands.executeCommand('btnb.copyRunId', ids.ok);
    assert.equal(await vscode.env.clipboard.readText(), ids.ok);
    const cmp = await vscode.commands.executeCommand<{ ok: boolean; runIds: string[] }>('btnb.compareRuns', {
      runIds: [ids.ok, ids.running],
    });
    assert.deepEqual(cmp.runIds, [ids.ok, ids.running]);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('picks up a data dir that does not exist yet once the CLI creates it (ancestor watch, no polling)', async () => {
    const a = apiSync!;
    const late = join(workspaceDir(), 'late', 'nested', 'data');
    await vscode.workspace.getConfiguration('btnb').update('dataDir', late, vscode.ConfigurationTarget.Workspace);
    await waitFor(() => a.services.catalog.dataDir === late, 'switched to the missing dir');
    assert.deepEqual(await a.services.tree.getChildren(), []);
    await run(
      process.execPath,
      [
        join(repoRoot(), 'dist/cli.js'),
        'data',
        'synth',
        '--symbol',
        'LATE',
        '--start',
        '2024-03-04',
        '--days',
        '1',
        '--seed',
        '3',
        '--out',
        join(workspaceDir(), 'late-synth'),
        '--import',
        '--data-dir',
        late,
      ],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
    );
    await waitFor(
      async () => (await a.services.tree.getChildren()).some((n) => n.kind === 'dataset' && n.dataset.symbol === 'LATE'),
      'the LATE dataset in the tree',
    );
  });
});
