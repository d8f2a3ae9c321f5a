// .btnb notebooks in a real extension host: the controller runs a cell of each language as a
// job and writes outputs of the notebook's MIME types; an unchanged backtest cell shows the same
// run; a SQL write is refused by the read-only catalog; Run All stops at the first failure;
// cancel stops a running sweep's processes and its runs end canceled; a saved notebook reopens
// with its outputs, which its renderer (in the test's Chromium) fetches from the catalog; closing
// it closes every output connection and replay.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { alive, api, catalogAt, useDataDir, waitFor, workspaceDir } from './ext-helpers.ts';

const MIME_RUN = 'application/vnd.btnb.run+json';
const decoder = new TextDecoder();

function notebookFile(name: string, cells: { language: string; source: string; metadata?: Record<string, unknown> }[]): vscode.Uri {
  const file = join(workspaceDir(), name);
  const json = {
    format: 1,
    cells: cells.map((c) => ({
      kind: c.language === 'markdown' ? 'markdown' : 'code',
      language: c.language,
      source: c.source.split('\n'),
      ...(c.metadata ? { metadata: c.metadata } : {}),
    })),
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return vscode.Uri.file(file);
}

async function open(uri: vscode.Uri): Promise<vscode.NotebookDocument> {
  const nb = await vscode.workspace.openNotebookDocument(uri);
  await vscode.window.showNotebookDocument(nb);
  await vscode.commands.executeCommand('notebook.selectKernel', { id: 'btnb-controller', extension: 'btnb.backtest-notebook' });
  return nb;
}

/** Runs one cell and waits for its execution to end; its first output item (mime, JSON or text). */
async function run(
  nb: vscode.NotebookDocument,
  index: number,
  ms = 90_000,
): Promise<{ ok: boolean | undefined; mime: string; data: unknown }> {
  const before = nb.cellAt(index).executionSummary?.executionOrder ?? 0;
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: index, end: index + 1 }], document: nb.uri });
  const cell = () => nb.cellAt(index);
  await waitFor(
    () => (cell().executionSummary?.executionOrder ?? 0) > before && cell().executionSummary?.timing?.endTime !== undefined,
    `cell ${index} (${cell().document.languageId}) finished`,
    ms,
  );
  return first(cell());
}

function first(cell: vscode.NotebookCell): { ok: boolean | undefined; mime: string; data: unknown } {
  const item = cell.outputs[0]?.items[0];
  assert.ok(item, `cell ${cell.index} has an output`);
  const text = decoder.decode(item.data);
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    /* text/plain */
  }
  return { ok: cell.executionSummary?.success, mime: item.mime, data };
}

describe('.btnb notebooks (controller, outputs, renderer bridge)', function () {
  this.timeout(300_000);
  let dir = '';

  before(async () => {
    dir = await useDataDir('data-notebook');
  });

  it('runs a cell of each language as a job: data, strategy, backtest (strategy cell and built-in), sweep, sql', async () => {
    const uri = notebookFile('cells.btnb', [
      { language: 'markdown', source: '# test' },
      { language: 'btnb-data', source: 'synth: { symbol: NBT, start: 2024-03-04, days: 3, seed: 7 }' },
      {
        language: 'typescript',
        source: [
          "import { defineStrategy, z } from 'backtest-notebook';",
          'export const flip = defineStrategy({',
          "  id: 'flip',",
          '  params: z.strictObject({ every: z.number().int().min(1).default(60) }),',
          '  onBar(ctx, _s, p) {',
          '    if (ctx.isLastBar) return;',
          '    if (ctx.index % p.every === 0) ctx.targetPosition(ctx.position === 0 ? 10 : 0);',
          '  },',
          '});',
        ].join('\n'),
      },
      {
        language: 'btnb-backtest',
        source: 'dataset: { symbol: NBT, from: 2024-03-04, to: 2024-03-06 }\nstrategy: flip\nparams: { every: 30 }',
      },
      {
        language: 'btnb-backtest',
        source:
          'dataset: { symbol: NBT, from: 2024-03-04, to: 2024-03-06 }\nstrategy: sma-cross\nparams: { fast: 5, slow: 20 }\ncosts: fee_per_unit=0.01',
      },
      {
        language: 'btnb-sweep',
        source: 'dataset: { symbol: NBT, from: 2024-03-04, to: 2024-03-06 }\nstrategy: sma-cross\ngrid: ["fast=5,10", "slow=20,40"]',
      },
      { language: 'sql', source: "SELECT run_id, strategy_id, status FROM runs WHERE strategy_id = 'flip'" },
      { language: 'sql', source: "UPDATE runs SET notes = 'x'" },
    ]);
    const nb = await open(uri);

    const data = await run(nb, 1);
    assert.equal(data.ok, true, JSON.stringify(data.data));
    assert.equal(data.mime, 'application/vnd.btnb.dataset+json');
    const ds = (data.data as { datasets: { dataset_id: string; symbol: string; bar_count: number }[] }).datasets[0]!;
    assert.equal(ds.symbol, 'NBT');
    assert.ok(ds.bar_count > 1000, `bars ${ds.bar_count}`);

    const strat = await run(nb, 2);
    assert.equal(strat.ok, true, JSON.stringify(strat.data));
    assert.equal(strat.mime, 'application/vnd.btnb.strategy+json');
    assert.deepEqual((strat.data as { params: { name: string; default: unknown }[] }).params, [
      { name: 'every', type: 'integer', default: 60, description: null },
    ]);

    const bt = await run(nb, 3);
    assert.equal(bt.ok, true, JSON.stringify(bt.data));
    assert.equal(bt.mime, MIME_RUN);
    const r = bt.data as { run_id: string; created: boolean; strategy_id: string; dataset_id: string; metrics: Record<string, number> };
    assert.equal(r.created, true);
    assert.equal(r.strategy_id, 'flip');
    assert.equal(r.dataset_id, ds.dataset_id);
    const row = catalogAt(dir).getRun(r.run_id)!;
    assert.equal(row.status, 'succeeded');
    assert.equal(row.metrics!.total_return, r.metrics.total_return);
    // the strategy cell's source became a file whose hash is the run's code identity
    assert.match(readFileSync(join(dir, 'strategies', `${readdirHash(dir)}.ts`), 'utf8'), /export const flip/);

    // unchanged → the same run, said so
    const again = await run(nb, 3);
    assert.equal((again.data as { run_id: string; created: boolean }).run_id, r.run_id);
    assert.equal((again.data as { created: boolean }).created, false);

    const builtin = await run(nb, 4);
    assert.equal(builtin.ok, true, JSON.stringify(builtin.data));
    assert.equal((builtin.data as { strategy_id: string }).strategy_id, 'sma-cross');

    const sweep = await run(nb, 5);
    assert.equal(sweep.ok, true, JSON.stringify(sweep.data));
    assert.equal(sweep.mime, 'application/vnd.btnb.sweep+json');
    const sw = sweep.data as { sweep_id: string; keys: string[]; cells: { run_id: string | null }[]; best: unknown[] };
    assert.deepEqual(sw.keys, ['fast', 'slow']);
    assert.equal(sw.cells.length, 4);
    assert.equal(catalogAt(dir).listRuns({ sweepId: sw.sweep_id }).length, 4);

    const q = await run(nb, 6);
    assert.equal(q.ok, true, JSON.stringify(q.data));
    assert.equal(q.mime, 'application/vnd.btnb.table+json');
    assert.deepEqual((q.data as { columns: string[] }).columns, ['run_id', 'strategy_id', 'status']);
    assert.deepEqual((q.data as { rows: unknown[][] }).rows, [[r.run_id, 'flip', 'succeeded']]);

    const write = await run(nb, 7);
    assert.equal(write.ok, false);
    assert.equal(write.mime, 'application/vnd.code.notebook.error');
    assert.match((write.data as { message: string }).message, /read-only/);
    assert.notEqual(catalogAt(dir).getRun(r.run_id)!.notes, 'x', 'nothing written');

    await vscode.commands.executeCommand('workbench.action.files.save');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Run All stops at the first failing cell; an invalid config cell names the line', async () => {
    const uri = notebookFile('stops.btnb', [
      { language: 'btnb-backtest', source: 'dataset: ds_0000000000000000\nstrategy: sma-cross\nbogus: 1' },
      { language: 'sql', source: 'SELECT 1 AS one' },
    ]);
    const nb = await open(uri);
    await vscode.commands.executeCommand('notebook.execute', nb.uri);
    await waitFor(() => nb.cellAt(0).executionSummary?.success === false, 'the first cell failed', 60_000);
    const err = first(nb.cellAt(0));
    assert.match((err.data as { message: string }).message, /line 3: unknown key 'bogus'/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(nb.cellAt(1).executionSummary?.executionOrder, undefined, 'the second cell never ran');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('configuration cells get diagnostics at the key, completion of keys and values, and hover docs', async () => {
    const uri = notebookFile('assist.btnb', [
      {
        language: 'typescript',
        source:
          "import { defineStrategy, z } from 'backtest-notebook';\nexport const mine = defineStrategy({ id: 'mine', params: z.object({}), onBar() {} });",
      },
      { language: 'btnb-backtest', source: 'dataset: ds_0123456789abcdef\nstrategy: sma-cross\nbogus: 1\nsession: \n' },
    ]);
    const nb = await open(uri);
    const doc = nb.cellAt(1).document;
    await waitFor(() => vscode.languages.getDiagnostics(doc.uri).length > 0, 'diagnostics of the backtest cell');
    const diags = vscode.languages.getDiagnostics(doc.uri);
    const unknown = diags.find((d) => /unknown key 'bogus'/.test(d.message));
    assert.ok(unknown, diags.map((d) => d.message).join('; '));
    assert.equal(doc.getText(unknown.range), 'bogus');
    assert.equal(unknown.range.start.line, 2);

    const at = async (line: number, character: number) =>
      (
        await vscode.commands.executeCommand<vscode.CompletionList>(
          'vscode.executeCompletionItemProvider',
          doc.uri,
          new vscode.Position(line, character),
        )
      ).items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.deepEqual((await at(3, 9)).sort(), ['all', 'rth'], 'session values');
    const keys = await at(4, 0);
    for (const k of ['costs', 'params', 'seed', 'force']) assert.ok(keys.includes(k), `key ${k} offered: ${keys.join(', ')}`);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, doc.lineAt(1).range, 'strategy: ');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const strategies = await at(1, 10);
    for (const s of ['sma-cross', 'donchian-breakout', 'mine'])
      assert.ok(strategies.includes(s), `strategy ${s} offered: ${strategies.join(', ')}`);

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 2));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    assert.match(text, /\*\*dataset\*\* — The dataset: its id/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('cancel stops a running sweep: its processes exit and no run is left running', async () => {
    const uri = notebookFile('cancel.btnb', [
      {
        language: 'btnb-sweep',
        source:
          // every point a full run (artifacts: all): light points finish the whole grid in about a
          // second, before a cancel could land (their cancel is covered by the unit tests)
          'dataset: { symbol: NBT, from: 2024-03-04, to: 2024-03-06 }\nstrategy: sma-cross\ngrid:\n  fast: 2:40:1\n  slow: 50:90:2\nartifacts: all\nforce: true',
      },
    ]);
    const nb = await open(uri);
    const a = await api();
    void vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 0, end: 1 }], document: nb.uri });
    let pid = 0;
    await waitFor(
      () => {
        const j = a.services.jobs.jobs().find((x) => x.spec.kind === 'sweep' && x.state === 'running' && x.lastProgress);
        pid = j?.pid ?? 0;
        return pid > 0 && (j?.lastProgress?.done ?? 0) > 0;
      },
      'the sweep job is running and has finished a run',
      60_000,
    );
    await vscode.commands.executeCommand('notebook.cell.cancelExecution', { ranges: [{ start: 0, end: 1 }], document: nb.uri });
    await waitFor(() => nb.cellAt(0).executionSummary?.timing?.endTime !== undefined, 'the cell execution ended', 30_000);
    assert.equal(nb.cellAt(0).executionSummary?.success, undefined, 'canceled, neither success nor failure');
    assert.equal(first(nb.cellAt(0)).data, 'Canceled.');
    await waitFor(() => !alive(pid), `sweep process ${pid} exited`, 15_000);
    const cat = catalogAt(dir);
    await waitFor(
      () => cat.listRuns({ status: 'running' }).length === 0 && cat.listRuns({ status: 'queued' }).length === 0,
      'no run left running',
    );
    // the sweep stopped part way: its runs (slow ≥ 50 only here) are fewer than its 819 points,
    // each succeeded or canceled (one in flight when the cancel came ends canceled)
    const mine = cat.listRuns({ limit: 5000 }).filter((x) => Number(x.params.slow) >= 50);
    assert.ok(mine.length < 39 * 21, `${mine.length} of 819 points ran`);
    assert.deepEqual(
      [...new Set(mine.map((x) => x.status))].filter((s) => s !== 'succeeded' && s !== 'canceled'),
      [],
    );
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('a saved notebook reopens with its outputs; the renderer fetches the run from the catalog; closing it closes every connection', async () => {
    const uri = vscode.Uri.file(join(workspaceDir(), 'cells.btnb'));
    const saved = JSON.parse(readFileSync(uri.fsPath, 'utf8')) as { cells: { outputs?: { mime: string; data: { run_id?: string } }[] }[] };
    const runOut = saved.cells[3]!.outputs![0]!;
    assert.equal(runOut.mime, MIME_RUN, 'the file keeps the run output');
    assert.ok(!JSON.stringify(saved).includes('"equity"'), 'no series in the file');
    const nb = await open(uri);
    assert.equal(first(nb.cellAt(3)).mime, MIME_RUN);
    assert.equal((first(nb.cellAt(3)).data as { run_id: string }).run_id, runOut.data.run_id);
    const a = await api();
    const bridge = await a.services.notebook!.bridge();
    // outputs render as they come into view: the run output connects to the host for its run
    vscode.window.activeNotebookEditor!.revealRange(new vscode.NotebookRange(3, 4), vscode.NotebookEditorRevealType.AtTop);
    await waitFor(() => bridge.stats.connections >= 1, 'the run output connected through renderer messaging', 60_000);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await waitFor(() => bridge.stats.connections === 0 && bridge.stats.replays === 0, 'every output connection closed', 20_000);
  });
});

/** The one materialized strategy file's hash (this suite makes one). */
function readdirHash(dir: string): string {
  const names = readdirSync(join(dir, 'strategies'));
  assert.equal(names.length, 1, names.join(', '));
  return names[0]!.replace(/\.ts$/, '');
}
