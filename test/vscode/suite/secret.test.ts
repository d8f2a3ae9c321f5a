// The Databento key: stored in SecretStorage, handed to the fetch job in its start message
// (never argv or env: checked in /proc while the child runs), sent to the (fake, local)
// Databento API as HTTP Basic auth, and never written to disk (user data, workspace, data dir).
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { api, catalogAt, repoRoot, useDataDir, workspaceDir } from './ext-helpers.ts';
import { startFakeDatabento, type FakeDatabento } from '../../support/fakeDatabento.ts';
import { SECRET_KEY } from '../../../src/extension/services.ts';

function filesUnder(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) filesUnder(p, out);
    else if (st.isFile() && st.size < 64 * 1024 * 1024) out.push(p);
  }
  return out;
}

describe('Databento API key', function () {
  this.timeout(120_000);
  const key = `db-${randomBytes(12).toString('hex')}`;
  let fake: FakeDatabento;
  let dir: string;

  before(async () => {
    dir = await useDataDir('data-fetch');
    fake = await startFakeDatabento({ key, files: { trades: join(repoRoot(), 'test/fixtures/dbn/test_data.trades.v3.dbn.zst') } });
    await vscode.workspace.getConfiguration('btnb').update('databento.baseUrl', fake.url, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await fake?.close();
    await vscode.workspace.getConfiguration('btnb').update('databento.baseUrl', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('Set Databento API Key stores it in SecretStorage', async () => {
    const a = await api();
    const r = await vscode.commands.executeCommand<{ ok: boolean }>('btnb.setDatabentoApiKey', { key });
    assert.equal(r.ok, true);
    assert.equal(await a.services.context.secrets.get(SECRET_KEY), key);
  });

  it('Download from Databento quotes the cost, runs the fetch job with the key, imports the data', async () => {
    const a = await api();
    // Hold the download for a moment so the running child can be inspected.
    fake.addFault({ endpoint: 'timeseries.get_range', kind: 'delay', ms: 1500 });
    let inspected = false;
    const sub = a.services.jobs.onDidChangeJobs(() => {
      const job = a.services.jobs.jobs().find((j) => j.spec.kind === 'fetch' && j.pid !== undefined);
      if (!job || inspected) return;
      inspected = true;
      const cmdline = readFileSync(`/proc/${job.pid}/cmdline`, 'latin1');
      const environ = readFileSync(`/proc/${job.pid}/environ`, 'latin1');
      assert.ok(!cmdline.includes(key), 'key in the job argv');
      assert.ok(!environ.includes(key), 'key in the job environment');
    });
    const r = await vscode.commands.executeCommand<{
      ok: boolean;
      error?: string;
      cost?: string;
      result?: { datasets: { dataset_id: string; symbol: string }[] };
    }>('btnb.downloadDatabento', {
      dataset: 'GLBX.MDP3',
      symbols: ['ESH1'],
      schemas: ['trades'],
      start: '2020-12-28',
      end: '2020-12-29',
      confirm: true,
    });
    sub.dispose();
    assert.equal(r.ok, true, r.error);
    assert.ok(inspected, 'the fetch child was seen running');
    // The fake prices the whole file: billable bytes / 1e9 × $10/GB.
    assert.equal(r.cost, `$${fake.costOf('trades').toFixed(2)}`);
    const expectedAuth = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
    const endpoints = fake.requests.map((q) => q.endpoint);
    assert.ok(endpoints.includes('metadata.get_cost') && endpoints.includes('timeseries.get_range'), endpoints.join(','));
    assert.ok(fake.requests.every((q) => q.authorization === expectedAuth && q.authOk));
    assert.deepEqual(
      r.result!.datasets.map((d) => d.symbol),
      ['ESH1'],
    );
    const cat = catalogAt(dir);
    try {
      assert.equal(cat.getDataset(r.result!.datasets[0]!.dataset_id)!.databento_dataset, 'GLBX.MDP3');
    } finally {
      cat.close();
    }
  });

  it('declining the cost confirmation downloads nothing', async () => {
    const a = await api();
    const before = fake.requests.filter((q) => q.endpoint === 'timeseries.get_range').length;
    const asked: string[] = [];
    const sub = a.ui.onDidShowMessage((m) => asked.push(m.text));
    a.ui.queueAnswers(false);
    const r = await vscode.commands.executeCommand<{ ok: boolean; error?: string }>('btnb.downloadDatabento', {
      dataset: 'GLBX.MDP3',
      symbols: ['ESH1'],
      schemas: ['trades'],
      start: '2020-12-28',
      end: '2020-12-29',
    });
    sub.dispose();
    assert.deepEqual(r, { ok: false, error: 'declined' });
    assert.ok(
      asked.some((t) => t.includes(`Estimated cost $${fake.costOf('trades').toFixed(2)}`)),
      JSON.stringify(asked),
    );
    assert.equal(fake.requests.filter((q) => q.endpoint === 'timeseries.get_range').length, before);
  });

  it("a rejected key reports Databento's error without echoing the key", async () => {
    const a = await api();
    await a.services.context.secrets.store(SECRET_KEY, `${key}x`);
    try {
      const r = await vscode.commands.executeCommand<{ ok: boolean; error?: string }>('btnb.downloadDatabento', {
        dataset: 'GLBX.MDP3',
        symbols: ['ESH1'],
        schemas: ['trades'],
        start: '2020-12-28',
        end: '2020-12-29',
        confirm: true,
      });
      assert.equal(r.ok, false);
      assert.match(r.error!, /401|[Aa]uthentication/);
      assert.ok(!r.error!.includes(key), 'key echoed in the error');
    } finally {
      await a.services.context.secrets.store(SECRET_KEY, key);
    }
  });

  it('the key is never written to disk: user data (settings, logs, storage), workspace, data dir', async () => {
    const a = await api();
    // globalStorageUri = <user-data>/User/globalStorage/<ext id>; scan the whole user-data dir.
    const userData = dirname(dirname(dirname(a.services.context.globalStorageUri.fsPath)));
    const needles = [key, Buffer.from(`${key}:`).toString('base64')].map((s) => Buffer.from(s));
    const roots = [userData, workspaceDir(), dir];
    const scanned: string[] = [];
    const hits: string[] = [];
    for (const root of roots) {
      for (const f of filesUnder(root)) {
        scanned.push(f);
        const bytes = readFileSync(f);
        if (needles.some((n) => bytes.includes(n))) hits.push(f);
      }
    }
    assert.ok(scanned.length > 20, `scanned only ${scanned.length} files`);
    assert.ok(
      scanned.some((f) => f.endsWith('.sqlite')),
      'the catalog was among the scanned files',
    );
    assert.deepEqual(hits, []);
  });
});
