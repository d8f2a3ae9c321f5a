// The run views in a real extension host: each view opens on real runs (CLI-made catalog and
// artifacts), its webview (running in the test's Chromium) asks the host over the real protocol
// and gets answers whose content matches the catalog; the panel serializer restores a RunDetail.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { api, catalogAt, repoRoot, useDataDir, waitFor, workspaceDir } from './ext-helpers.ts';
import type { TraceEntry } from '../../../src/extension/webview/viewConnection.ts';

const exec = promisify(execFile);

async function cli(args: string[], dir: string): Promise<string> {
  const { stdout } = await exec(process.execPath, [join(repoRoot(), 'dist/cli.js'), ...args, '--data-dir', dir], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    maxBuffer: 1 << 26,
  });
  return stdout;
}

/** The reply to the first request of `method` the view sent. */
function reply(trace: TraceEntry[], method: string): TraceEntry | undefined {
  const req = trace.find((t) => t.dir === 'in' && t.kind === 'request' && t.method === method);
  return req ? trace.find((t) => t.dir === 'out' && t.kind === 'response' && t.id === req.id) : undefined;
}

describe('run views (webviews over the views protocol)', function () {
  this.timeout(120_000);
  let dir = '';
  let runA = '';
  let runB = '';
  let sweepId = '';
  let lightRun = '';

  before(async () => {
    dir = await useDataDir('data-views');
    const synth = await cli(
      [
        'data',
        'synth',
        '--symbol',
        'VIEW',
        '--start',
        '2024-03-04',
        '--days',
        '2',
        '--seed',
        '5',
        '--out',
        join(workspaceDir(), 'views-synth'),
        '--import',
        '--derive',
        '--json',
      ],
      dir,
    );
    const ds = /"dataset_id":\s*"(ds_[0-9a-f]{16})"/.exec(synth)![1]!;
    runA = JSON.parse(
      await cli(['backtest', '--dataset', ds, '--strategy', 'sma-cross', '--param', 'fast=5', '--param', 'slow=20', '--json'], dir),
    ).run_id;
    runB = JSON.parse(await cli(['backtest', '--dataset', ds, '--strategy', 'donchian-breakout', '--json'], dir)).run_id;
    sweepId = JSON.parse(
      await cli(
        ['sweep', '--dataset', ds, '--strategy', 'sma-cross', '--grid', 'fast=3,5', '--grid', 'slow=20,30', '--workers', '1', '--json'],
        dir,
      ),
    ).sweep_id;
    // a sweep whose points are all light: recorded with metrics, no artifacts until opened
    lightRun = JSON.parse(
      await cli(
        ['sweep', '--dataset', ds, '--strategy', 'sma-cross', '--grid', 'fast=4,6', '--grid', 'slow=25', '--artifacts', 'none', '--json'],
        dir,
      ),
    ).results[0].run_id;
    (await api()).services.catalog.refresh();
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const views = async () => (await (await api()).services.views()).list();

  it('RunDetail: the webview says ready, then asks for the run, its chart window and its fills; the answers match the catalog', async () => {
    const r = await vscode.commands.executeCommand<{ ok: boolean; runId: string }>('btnb.openRun', runA);
    assert.equal(r.ok, true);
    let v = (await views()).find((x) => x.key === `run:${runA}`);
    await waitFor(
      async () => {
        v = (await views()).find((x) => x.key === `run:${runA}`);
        return !!v && v.ready && !!reply(v.trace, 'run/series') && !!reply(v.trace, 'run/table');
      },
      'the run view to load its data',
      60_000,
    );
    const cat = catalogAt(dir);
    const row = cat.getRun(runA)!;
    cat.close();
    const detail = reply(v!.trace, 'run/get')!;
    assert.equal(detail.ok, true);
    const body = detail.body as {
      run: { run_id: string; metrics: Record<string, number> };
      series: { bar_count: number; fill_count: number };
    };
    assert.equal(body.run.run_id, runA);
    assert.deepEqual(body.run.metrics, row.metrics);
    assert.equal(body.series.fill_count, row.metrics!.num_fills);
    const series = reply(v!.trace, 'run/series')!;
    assert.equal(series.ok, true);
    const w = series.body as { fills: { fill_id: number[] }; candles: { i: number[] } };
    assert.equal(w.fills.fill_id.length, row.metrics!.num_fills, 'every fill in the full-range window');
    assert.ok(w.candles.i.length > 100);
    const table = reply(v!.trace, 'run/table')!;
    assert.equal((table.body as { total: number }).total, row.metrics!.num_fills, 'the fills tab is the default');
    // the settings handshake went out after ready
    assert.ok(v!.trace.some((t) => t.dir === 'out' && t.method === 'settings'));
    await waitFor(
      () => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label.startsWith('Run sma-cross'))),
      'the tab named after the run',
    );
  });

  it('RunDetail on a light sweep point: opening it materialises its artifacts (catalog and files) and shows its fills', async () => {
    const before = catalogAt(dir);
    const light = before.getRun(lightRun)!;
    before.close();
    assert.equal(light.materialized, false, 'the point has no artifacts before it is opened');
    assert.equal(existsSync(join(dir, 'backtests', lightRun)), false);
    const r = await vscode.commands.executeCommand<{ ok: boolean; runId: string }>('btnb.openRun', lightRun);
    assert.equal(r.ok, true);
    let v = (await views()).find((x) => x.key === `run:${lightRun}`);
    await waitFor(
      async () => {
        v = (await views()).find((x) => x.key === `run:${lightRun}`);
        return !!v && v.ready && !!reply(v.trace, 'run/get') && !!reply(v.trace, 'run/series');
      },
      'the light run view to load its data',
      60_000,
    );
    const detail = reply(v!.trace, 'run/get')!.body as { series: { fill_count: number } | null; unavailable: string | null };
    assert.equal(detail.unavailable, null);
    assert.equal(detail.series!.fill_count, light.metrics!.num_fills);
    const w = reply(v!.trace, 'run/series')!.body as { fills: { fill_id: number[] } };
    assert.equal(w.fills.fill_id.length, light.metrics!.num_fills);
    const after = catalogAt(dir);
    assert.equal(after.getRun(lightRun)!.materialized, true);
    after.close();
    for (const f of ['metrics.json', 'equity.parquet', 'fills.parquet', 'orders.parquet', 'trades.parquet', 'run-manifest.json'])
      assert.ok(existsSync(join(dir, 'backtests', lightRun, f)), f);
  });

  it('RunsList: pages of runs from SQL; a catalog change from another process is pushed and the page refetched', async () => {
    await vscode.commands.executeCommand('btnb.openRunsList');
    let v = (await views()).find((x) => x.key === 'runs');
    await waitFor(
      async () => !!(v = (await views()).find((x) => x.key === 'runs')) && !!reply(v.trace, 'runs/list'),
      'the runs list page',
      60_000,
    );
    const cat = catalogAt(dir);
    const total = cat.countRuns();
    cat.close();
    assert.equal((reply(v!.trace, 'runs/list')!.body as { total: number }).total, total);
    const before = v!.trace.filter((t) => t.dir === 'in' && t.method === 'runs/list').length;
    await cli(['runs', 'tag', runB, 'reviewed'], dir);
    await waitFor(
      async () => {
        v = (await views()).find((x) => x.key === 'runs');
        return (
          v!.trace.some((t) => t.dir === 'out' && t.method === 'catalog/changed') &&
          v!.trace.filter((t) => t.dir === 'in' && t.method === 'runs/list').length > before
        );
      },
      'catalog/changed pushed and the page refetched',
      30_000,
    );
  });

  it('Compare and SweepResults load their data over the protocol', async () => {
    // one at a time: a panel hidden behind another in the same group does not load
    await vscode.commands.executeCommand('btnb.compareRuns', { runIds: [runA, runB] });
    let all = await views();
    await waitFor(
      async () => !!reply((all = await views()).find((x) => x.args.view === 'compare')?.trace ?? [], 'compare/get'),
      'compare data',
      60_000,
    );
    await vscode.commands.executeCommand('btnb.openSweep', { sweepId });
    await waitFor(
      async () => !!reply((all = await views()).find((x) => x.args.view === 'sweep')?.trace ?? [], 'sweep/get'),
      'sweep data',
      60_000,
    );
    const c = reply(all.find((x) => x.args.view === 'compare')!.trace, 'compare/get')!;
    assert.equal(c.ok, true);
    const cmp = c.body as { runs: { run: { run_id: string } }[]; diff: { field: string }[] };
    assert.deepEqual(
      cmp.runs.map((x) => x.run.run_id),
      [runA, runB],
    );
    assert.ok(cmp.diff.some((d) => d.field === 'strategy_id'));
    const s = reply(all.find((x) => x.args.view === 'sweep')!.trace, 'sweep/get')!;
    assert.equal(s.ok, true);
    const sw = s.body as { runs: unknown[]; params: { key: string }[] };
    assert.equal(sw.runs.length, 4);
    assert.deepEqual(
      sw.params.map((p) => p.key),
      ['fast', 'slow'],
    );
  });

  it('a bad request gets an error reply naming the field, not a crash: opening an unknown run', async () => {
    (await (await api()).services.views()).open({ view: 'run', runId: '01ZZZZZZZZZZZZZZZZZZZZZZZZ' });
    let v = (await views()).find((x) => x.key === 'run:01ZZZZZZZZZZZZZZZZZZZZZZZZ');
    await waitFor(
      async () => !!(v = (await views()).find((x) => x.key === 'run:01ZZZZZZZZZZZZZZZZZZZZZZZZ')) && !!reply(v.trace, 'run/get'),
      'the reply to run/get',
      60_000,
    );
    const r = reply(v!.trace, 'run/get')!;
    assert.equal(r.ok, false);
    assert.match(JSON.stringify(r.body), /not_found.*not in the catalog/);
  });

  it('the panel serializer restores a RunDetail from its saved state', async () => {
    const panel = vscode.window.createWebviewPanel('btnb.runDetail', 'restoring', vscode.ViewColumn.Active, {});
    (await (await api()).services.views()).restore(panel, { args: { view: 'run', runId: runB } });
    let v = (await views()).find((x) => x.key === `run:${runB}`);
    await waitFor(
      async () => !!(v = (await views()).find((x) => x.key === `run:${runB}`)) && v.ready && !!reply(v.trace, 'run/get'),
      'the restored view to load',
      60_000,
    );
    assert.equal((reply(v!.trace, 'run/get')!.body as { run: { run_id: string } }).run.run_id, runB);
    assert.ok(panel.webview.html.includes("default-src 'none'"), 'strict CSP');
    assert.doesNotMatch(panel.webview.html, /unsafe-(inline|eval)/);
    // a state without args cannot be restored: the panel says so instead of failing
    const broken = vscode.window.createWebviewPanel('btnb.runDetail', 'broken', vscode.ViewColumn.Active, {});
    (await (await api()).services.views()).restore(broken, {});
    assert.match(broken.webview.html, /could not be restored/);
    broken.dispose();
  });
});
