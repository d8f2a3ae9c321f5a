// Backtests started from commands run in forked job children and land in the catalog and the
// tree; identical inputs are idempotent; invalid parameters are refused with the schema's
// message; cancel kills the child and the host marks the run canceled; a crash marks it failed.
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { alive, api, catalogAt, repoRoot, useDataDir, waitFor, workspaceDir } from './ext-helpers.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { fmtNum, fmtPct } from '../../../src/extension/catalog/model.ts';

type Res = {
  ok: boolean;
  error?: string;
  runId?: string;
  created?: boolean;
  metrics?: Record<string, number | null>;
  done?: Promise<Res>;
  result?: unknown;
};

function runRow(dir: string, id: string) {
  const cat = catalogAt(dir);
  try {
    return cat.getRun(id);
  } finally {
    cat.close();
  }
}

function writeStrategy(name: string, body: string): string {
  const dir = join(workspaceDir(), 'strategies');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.ts`);
  writeFileSync(
    file,
    `import { defineStrategy, z } from 'backtest-notebook';
export default defineStrategy({ id: '${name}', params: z.strictObject({}), onBar(ctx) { ${body} } });
`,
  );
  return file;
}

describe('backtests from commands', function () {
  this.timeout(120_000);
  let dir: string;
  let datasetId: string;
  let firstRun: string;
  const args = () => ({
    datasetId,
    strategyId: 'sma-cross',
    params: { fast: 5, slow: 20 },
    seed: 0,
    costs: { fee_per_unit: 0.005 },
    session: 'all' as const,
  });

  before(async () => {
    dir = await useDataDir('data-backtest');
    const r = await vscode.commands.executeCommand<Res>('btnb.generateSampleDataset', { symbol: 'BT', days: 2, seed: 5 });
    assert.equal(r.ok, true, r.error);
    datasetId = (r.result as { datasets: { dataset_id: string }[] }).datasets[0]!.dataset_id;
  });

  it('Run Backtest completes in a child; catalog, metrics.json and the tree agree', async () => {
    const a = await api();
    const r = await vscode.commands.executeCommand<Res>('btnb.runBacktest', args());
    assert.equal(r.ok, true, r.error);
    firstRun = r.runId!;
    const row = runRow(dir, firstRun)!;
    assert.equal(row.status, 'succeeded');
    assert.equal(row.strategy_id, 'sma-cross');
    assert.deepEqual(row.params, { fast: 5, slow: 20, size: 100, allow_short: false });
    const onDisk = JSON.parse(readFileSync(dataPaths(dir).runMetrics(firstRun), 'utf8')) as Record<string, number | null>;
    assert.deepEqual(row.metrics, onDisk);
    assert.ok(existsSync(dataPaths(dir).runManifest(firstRun)));
    await waitFor(async () => {
      const ds = (await a.services.tree.getChildren()).find((n) => n.kind === 'dataset' && n.dataset.id === datasetId);
      return !!ds && (await a.services.tree.getChildren(ds)).some((n) => n.kind === 'run' && n.run.id === firstRun);
    }, 'the run in the tree under its dataset');
    const ds = (await a.services.tree.getChildren()).find((n) => n.kind === 'dataset' && n.dataset.id === datasetId)!;
    const node = (await a.services.tree.getChildren(ds)).find((n) => n.kind === 'run' && n.run.id === firstRun)!;
    const item = a.services.tree.getTreeItem(node);
    // Only the params that differ from sma-cross's defaults (size=100, allow_short=false) are in the label.
    assert.equal(item.label, 'sma-cross fast=5 slow=20');
    assert.equal(item.description, `${fmtPct(onDisk.total_return)} · Sharpe ${fmtNum(onDisk.sharpe)}`);
  });

  it('the same inputs return the same run (input_hash idempotency)', async () => {
    const r = await vscode.commands.executeCommand<Res>('btnb.runBacktest', args());
    assert.equal(r.ok, true, r.error);
    assert.equal(r.created, false);
    assert.equal(r.runId, firstRun);
  });

  it('Rerun makes a new run with byte-identical metrics.json (determinism)', async () => {
    const r = await vscode.commands.executeCommand<Res>('btnb.rerun', firstRun);
    assert.equal(r.ok, true, r.error);
    assert.notEqual(r.runId, firstRun);
    assert.equal(readFileSync(dataPaths(dir).runMetrics(r.runId!), 'utf8'), readFileSync(dataPaths(dir).runMetrics(firstRun), 'utf8'));
  });

  it('an invalid parameter is refused with the schema message and creates no run', async () => {
    const a = await api();
    const cat = catalogAt(dir);
    const before = cat.countRuns();
    cat.close();
    const errors: string[] = [];
    const sub = a.ui.onDidShowMessage((m) => m.level === 'error' && errors.push(m.text));
    const r = await vscode.commands.executeCommand<Res>('btnb.runBacktest', { ...args(), params: { fast: 30, slow: 10 } });
    // Interactive path: the input box's validation message for fast = 0 (scripted answers, real prompt code).
    a.ui.queueAnswers('sma-cross', '0');
    const r2 = await vscode.commands.executeCommand<Res>('btnb.runBacktest', { datasetId });
    sub.dispose();
    assert.equal(r.ok, false);
    assert.equal(r.error, 'Invalid parameters for sma-cross: slow: slow must be greater than fast');
    assert.ok(errors.includes('Invalid parameters for sma-cross: slow: slow must be greater than fast'), JSON.stringify(errors));
    assert.equal(r2.ok, false);
    assert.ok(
      errors.some((e) => /^fast: .*(>=|at least|too small).*1/i.test(e)),
      JSON.stringify(errors),
    );
    const cat2 = catalogAt(dir);
    assert.equal(cat2.countRuns(), before);
    cat2.close();
  });

  it('cancel kills the child (SIGKILL when it does not stop) and the host marks the run canceled', async () => {
    const a = await api();
    const file = writeStrategy('spin', 'const t = Date.now(); while (Date.now() - t < 50) { /* busy: never yields */ }');
    const r = await vscode.commands.executeCommand<Res>('btnb.runBacktest', {
      datasetId,
      strategyPath: file,
      params: {},
      seed: 0,
      costs: {},
      session: 'all',
      wait: false,
    });
    assert.equal(r.ok, true, r.error);
    const runId = r.runId!;
    await waitFor(() => runRow(dir, runId)?.status === 'running', 'the run marked running by the child');
    const job = a.services.jobs.jobForRun(runId)!;
    const pid = job.pid!;
    assert.ok(alive(pid));
    const c = await vscode.commands.executeCommand<{ ok: boolean; status: string }>('btnb.cancelJob', runId);
    assert.deepEqual(c, { ok: true, status: 'canceled' });
    const done = await r.done!;
    assert.deepEqual({ ok: done.ok, error: done.error }, { ok: false, error: 'canceled' });
    await waitFor(() => !alive(pid), `pid ${pid} gone`, 5000);
    await waitFor(() => runRow(dir, runId)?.status === 'canceled', 'the run marked canceled by the host');
    assert.ok(!existsSync(dataPaths(dir).runDir(runId)), 'no artifacts under the final name');
  });

  it('btnb.maxParallelJobs = 1 queues the second job (status bar count), cancel of a queued job never forks it', async () => {
    const a = await api();
    await vscode.workspace.getConfiguration('btnb').update('maxParallelJobs', 1, vscode.ConfigurationTarget.Workspace);
    try {
      const file = writeStrategy('spin2', 'const t = Date.now(); while (Date.now() - t < 50) { /* busy */ }');
      const start = (seed: number) =>
        vscode.commands.executeCommand<Res>('btnb.runBacktest', {
          datasetId,
          strategyPath: file,
          params: {},
          seed,
          costs: {},
          session: 'all',
          wait: false,
        });
      const r1 = await start(1);
      const r2 = await start(2);
      const j1 = a.services.jobs.jobForRun(r1.runId!)!;
      const j2 = a.services.jobs.jobForRun(r2.runId!)!;
      await waitFor(() => runRow(dir, r1.runId!)?.status === 'running', 'the first run running in its child');
      assert.equal(j1.state, 'running');
      assert.equal(j2.state, 'queued');
      assert.equal(j2.pid, undefined);
      assert.deepEqual([a.services.jobs.running, a.services.jobs.queued], [1, 1]);
      await vscode.commands.executeCommand('btnb.cancelJob', r2.runId);
      assert.equal(j2.state, 'canceled');
      assert.equal(j2.pid, undefined, 'a canceled queued job never forks');
      await vscode.commands.executeCommand('btnb.cancelJob', r1.runId);
      await Promise.all([r1.done, r2.done]);
      assert.deepEqual([a.services.jobs.running, a.services.jobs.queued], [0, 0]);
      await waitFor(() => runRow(dir, r1.runId!)?.status === 'canceled', 'run 1 canceled');
      assert.equal(runRow(dir, r2.runId!), null, 'the queued run never reached the catalog');
    } finally {
      await vscode.workspace.getConfiguration('btnb').update('maxParallelJobs', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('Reveal Artifacts points at the run directory', async () => {
    const r = await vscode.commands.executeCommand<{ ok: boolean; path: string }>('btnb.revealArtifacts', firstRun);
    assert.equal(r.ok, true);
    assert.equal(r.path, dataPaths(dir).runDir(firstRun));
    assert.ok(existsSync(join(r.path, 'equity.parquet')));
  });

  it('a strategy that exits the process fails its run with the reason and tells the user (the sandbox contains it)', async () => {
    const a = await api();
    const file = writeStrategy('crash', 'process.exit(7);');
    const errors: string[] = [];
    const sub = a.ui.onDidShowMessage((m) => m.level === 'error' && errors.push(m.text));
    const r = await vscode.commands.executeCommand<Res>('btnb.runBacktest', {
      datasetId,
      strategyPath: file,
      params: {},
      seed: 0,
      costs: {},
      session: 'all',
    });
    sub.dispose();
    assert.equal(r.ok, false);
    assert.match(r.error!, /exited with code 7/);
    const row = runRow(dir, r.runId!)!;
    assert.equal(row.status, 'failed');
    assert.match(row.error!, /exited with code 7/);
    assert.ok(
      errors.some((e) => /exited with code 7/.test(e)),
      JSON.stringify(errors),
    );
  });

  it('a workspace strategy: its code lens runs it through the real prompts (scripted answers)', async () => {
    const a = await api();
    const file = join(workspaceDir(), 'strategies', 'rsiMeanReversion.ts');
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(join(repoRoot(), 'sample-workspace/strategies/rsiMeanReversion.ts'), file);
    const doc = await vscode.workspace.openTextDocument(file);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const lens = lenses.find((l) => l.command?.command === 'btnb.runBacktestForFile');
    assert.ok(lens, `no Run Backtest lens among ${JSON.stringify(lenses.map((l) => l.command?.title))}`);
    assert.equal(lens.command!.title, '$(play) Run Backtest');
    assert.equal(
      lens.range.start.line,
      doc
        .getText()
        .split('\n')
        .findIndex((l) => l.includes('defineStrategy({')),
    );
    // Prompts in order: dataset (quick pick), params (JSON: workspace code is validated in the job), costs, seed, session.
    a.ui.queueAnswers('BT', '{"period": 10}', 'fee_per_unit=0.01', '0', 'rth');
    const r = await vscode.commands.executeCommand<Res>(lens.command!.command, ...(lens.command!.arguments ?? []));
    assert.equal(r.ok, true, r.error);
    const row = runRow(dir, r.runId!)!;
    assert.equal(row.status, 'succeeded');
    assert.equal(row.strategy_id, 'rsi-mean-reversion');
    assert.equal(row.session, 'rth');
    assert.deepEqual(row.params, { period: 10, oversold: 30, exit: 55, size: 100 });
    assert.equal((row.costs as { fee_per_unit: number }).fee_per_unit, 0.01);
    // A schema violation in a workspace strategy is reported by the job, naming the field.
    const bad = await vscode.commands.executeCommand<Res>('btnb.runBacktest', {
      datasetId,
      strategyPath: file,
      params: { period: 10, oversold: 40, exit: 35 },
      seed: 0,
      costs: {},
      session: 'all',
    });
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /exit: exit must be above oversold/);
  });

  it('Run Parameter Sweep runs the grid as one job; every combination lands in the catalog', async () => {
    const r = await vscode.commands.executeCommand<Res>('btnb.runSweep', {
      datasetId,
      strategyId: 'sma-cross',
      grid: { fast: [3, 5], slow: [20, 40] },
      costs: {},
      session: 'all',
    });
    assert.equal(r.ok, true, r.error);
    const out = r.result as {
      sweepId: string;
      total: number;
      succeeded: number;
      runs: { runId: string; params: Record<string, number> }[];
    };
    assert.equal(out.total, 4);
    assert.deepEqual(
      out.runs.map((x) => [x.params.fast, x.params.slow]),
      [
        [3, 20],
        [3, 40],
        [5, 20],
        [5, 40],
      ],
    );
    assert.equal(out.succeeded, 4);
    const cat = catalogAt(dir);
    try {
      const rows = cat.listRuns({ sweepId: out.sweepId });
      // All four are new (the earlier runs had other costs), so all carry this sweep's id.
      assert.deepEqual(rows.map((x) => x.run_id).sort(), out.runs.map((x) => x.runId).sort());
      assert.ok(rows.every((x) => x.status === 'succeeded'));
    } finally {
      cat.close();
    }
  });
});
