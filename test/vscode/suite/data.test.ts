// Data commands run as forked job processes in the real extension host: the sample dataset
// (synthesize → import → derive), importing a DBN file, re-deriving bars; cancel kills the child.
import * as assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { alive, api, catalogAt, repoRoot, useDataDir, waitFor } from './ext-helpers.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';

type Result = { ok: boolean; error?: string; result?: { datasets: { dataset_id: string; symbol: string; bar_count?: number }[] } };

describe('data jobs', function () {
  this.timeout(120_000);
  let dir: string;
  let sampleId: string;
  let sampleBars: number;

  before(async () => {
    dir = await useDataDir('data-jobs');
  });

  it('Generate Sample Dataset runs in a child process and the dataset appears in the catalog and tree', async () => {
    const a = await api();
    let pid: number | undefined;
    const sub = a.services.jobs.onDidChangeJobs(() => {
      pid ??= a.services.jobs.jobs().find((j) => j.spec.kind === 'synth')?.pid;
    });
    const r = await vscode.commands.executeCommand<Result>('btnb.generateSampleDataset', { symbol: 'DEMO', days: 2, seed: 3 });
    sub.dispose();
    assert.equal(r.ok, true, r.error);
    const ds = r.result!.datasets;
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.symbol, 'DEMO');
    assert.ok(pid && pid !== process.pid, 'the job ran in its own process');
    await waitFor(() => !alive(pid!), 'the job process exited after its result', 5000);
    sampleId = ds[0]!.dataset_id;
    const cat = catalogAt(dir);
    try {
      const row = cat.getDataset(sampleId)!;
      assert.equal(row.status, 'ready');
      assert.ok(row.bar_count! > 100, `bar_count ${row.bar_count}`);
      sampleBars = row.bar_count!;
    } finally {
      cat.close();
    }
    assert.ok(statSync(dataPaths(dir).barsParquet(sampleId)).size > 0);
    await waitFor(
      async () => (await a.services.tree.getChildren()).some((n) => n.kind === 'dataset' && n.dataset.id === sampleId),
      'the dataset in the tree',
    );
    const node = (await a.services.tree.getChildren()).find((n) => n.kind === 'dataset' && n.dataset.id === sampleId)!;
    assert.equal(a.services.tree.getTreeItem(node).description, `${sampleBars.toLocaleString('en-US')} bars · 0 runs`);
  });

  it('Derive Bars re-derives the same bars (deterministic, same count)', async () => {
    const before = statSync(dataPaths(dir).barsParquet(sampleId));
    const r = await vscode.commands.executeCommand<{ ok: boolean; error?: string; result?: { bar_count: number } }>(
      'btnb.deriveBars',
      sampleId,
    );
    assert.equal(r.ok, true, r.error);
    assert.equal(r.result!.bar_count, sampleBars);
    assert.equal(statSync(dataPaths(dir).barsParquet(sampleId)).size, before.size);
  });

  it('Import DBN Files imports a Databento fixture file', async () => {
    const file = join(repoRoot(), 'test/fixtures/dbn/test_data.trades.v3.dbn.zst');
    assert.ok(existsSync(file));
    const r = await vscode.commands.executeCommand<Result>('btnb.importDbnFiles', { paths: [file] });
    assert.equal(r.ok, true, r.error);
    assert.ok(r.result!.datasets.length >= 1);
    const cat = catalogAt(dir);
    try {
      for (const d of r.result!.datasets) assert.ok(cat.getDataset(d.dataset_id), `${d.dataset_id} in the catalog`);
    } finally {
      cat.close();
    }
  });

  it('a failing job reports the engine error (bad file) without crashing the host', async () => {
    const a = await api();
    const shown: string[] = [];
    const sub = a.ui.onDidShowMessage((m) => m.level === 'error' && shown.push(m.text));
    const r = await vscode.commands.executeCommand<Result>('btnb.importDbnFiles', { paths: [join(repoRoot(), 'package.json')] });
    sub.dispose();
    assert.equal(r.ok, false);
    assert.match(r.error!, /package\.json/);
    assert.ok(
      shown.some((t) => t.includes('package.json')),
      `error shown: ${JSON.stringify(shown)}`,
    );
  });

  it('cancel kills a running job child; the job ends canceled', async () => {
    const a = await api();
    const pending = vscode.commands.executeCommand<Result>('btnb.generateSampleDataset', { symbol: 'LONG', days: 400, seed: 9 });
    await waitFor(
      () => a.services.jobs.jobs().some((j) => j.spec.kind === 'synth' && j.state === 'running' && j.pid !== undefined),
      'the synth job running',
    );
    const job = a.services.jobs.jobs().find((j) => j.spec.kind === 'synth')!;
    const pid = job.pid!;
    assert.ok(alive(pid));
    await new Promise((r) => setTimeout(r, 300));
    // Without arguments Cancel Job asks which job (a quick pick): answer with this job's title.
    a.ui.queueAnswers(job.spec.title);
    const c = await vscode.commands.executeCommand<{ ok: boolean; status: string }>('btnb.cancelJob');
    assert.deepEqual(c, { ok: true, status: 'canceled' });
    const r = await pending;
    assert.equal(r.ok, false);
    assert.equal(r.error, 'canceled');
    assert.equal(job.state, 'canceled');
    await waitFor(() => !alive(pid), `pid ${pid} gone`, 5000);
    const cat = catalogAt(dir);
    try {
      assert.ok(!cat.listDatasets().some((d) => d.symbol === 'LONG'), 'nothing half-imported');
    } finally {
      cat.close();
    }
  });
});
