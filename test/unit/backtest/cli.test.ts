import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { makeDataDir } from './support/dataset.ts';
import { btnbInProcess as btnb } from './support/inProcess.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

describe('btnb backtest / runs (CLI)', function () {
  this.timeout(60_000);
  let dataDir = '';
  let datasetId = '';
  before(async () => ({ dataDir, datasetId } = await makeDataDir(3000, 2)));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('backtest --json prints run_id, status, input_hash, artifacts_dir, metrics; the second call is idempotent', async () => {
    const args = [
      'backtest',
      '--data-dir',
      dataDir,
      '--dataset',
      datasetId,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=10',
      '--param',
      'slow=30',
      '--slippage',
      'random:2',
      '--fee-per-unit',
      '0.005',
      '--fee-min',
      '1',
      '--seed',
      '3',
      '--json',
    ];
    const a = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' }); // the real process once
    assert.equal(a.status, 0, a.stderr);
    const out = JSON.parse(a.stdout);
    assert.deepEqual(Object.keys(out), ['run_id', 'status', 'input_hash', 'artifacts_dir', 'metrics']);
    assert.equal(out.status, 'succeeded');
    assert.equal(out.artifacts_dir, dataPaths(dataDir).runDir(out.run_id));
    assert.equal(Object.keys(out.metrics).length, 16);
    const b = JSON.parse((await btnb(args)).stdout);
    assert.equal(b.run_id, out.run_id);
    const c = JSON.parse((await btnb([...args, '--force'])).stdout);
    assert.notEqual(c.run_id, out.run_id);
    assert.deepEqual(c.metrics, out.metrics);
  });

  it('usage errors exit 2 and name the flag', async () => {
    const r = await btnb([
      'backtest',
      '--data-dir',
      dataDir,
      '--dataset',
      datasetId,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=10',
      '--param',
      'slow=30',
      '--slippage-bps',
      '1',
      '--slippage',
      'half-spread',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--slippage-bps and --slippage are exclusive/);
    const p = await btnb(['backtest', '--data-dir', dataDir, '--dataset', datasetId, '--strategy', 'sma-cross', '--param', 'fast=x']);
    assert.equal(p.status, 2);
    assert.match(p.stderr, /invalid params for strategy 'sma-cross':\n {2}- fast: .*\n {2}- slow: /);
  });

  it('runs list/show/tag/note/verify/delete', async () => {
    const run = JSON.parse(
      (
        await btnb([
          'backtest',
          '--data-dir',
          dataDir,
          '--dataset',
          datasetId,
          '--strategy',
          'bollinger-reversion',
          '--param',
          'period=30',
          '--json',
        ])
      ).stdout,
    );
    assert.equal((await btnb(['runs', 'tag', run.run_id, 'meanrev', '--data-dir', dataDir])).status, 0);
    assert.equal((await btnb(['runs', 'note', run.run_id, 'wide', 'bands', '--data-dir', dataDir])).status, 0);
    const found = JSON.parse((await btnb(['runs', 'list', '--search', 'meanrev', '--json', '--data-dir', dataDir])).stdout);
    assert.deepEqual(
      found.map((r: { run_id: string }) => r.run_id),
      [run.run_id],
    );
    assert.equal(found[0].notes, 'wide bands');
    const all = JSON.parse((await btnb(['runs', 'list', '--json', '--data-dir', dataDir])).stdout);
    assert.ok(all.length >= 3);
    assert.deepEqual(
      all.map((r: { run_id: string }) => r.run_id),
      all
        .map((r: { run_id: string }) => r.run_id)
        .sort()
        .reverse(),
      'newest first',
    );
    const byStrategy = JSON.parse(
      (await btnb(['runs', 'list', '--strategy', 'bollinger-reversion', '--json', '--data-dir', dataDir])).stdout,
    );
    assert.equal(byStrategy.length, 1);
    // metric ranges: exactly the runs whose stored metrics fall inside
    const trades = all.map((r: { metrics: { num_trades: number } }) => r.metrics.num_trades).sort((a: number, b: number) => a - b);
    const mid = trades[Math.floor(trades.length / 2)];
    const ge = JSON.parse((await btnb(['runs', 'list', '--min', `num_trades=${mid}`, '--json', '--data-dir', dataDir])).stdout);
    assert.equal(ge.length, trades.filter((t: number) => t >= mid).length);
    assert.ok(ge.every((r: { metrics: { num_trades: number } }) => r.metrics.num_trades >= mid));
    const lt = JSON.parse((await btnb(['runs', 'list', '--max', `num_trades=${mid - 1}`, '--json', '--data-dir', dataDir])).stdout);
    assert.equal(lt.length + ge.length, all.length);
    assert.equal((await btnb(['runs', 'list', '--min', 'sharpe', '--data-dir', dataDir])).status, 2);
    const show = await btnb(['runs', 'show', run.run_id, '--data-dir', dataDir]);
    assert.match(show.stdout, /strategy {3}bollinger-reversion .*"period":30/);
    const v = await btnb(['runs', 'verify', run.run_id, '--json', '--data-dir', dataDir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.equal(JSON.parse(v.stdout).ok, true);
    // tamper with an artifact: verify must say so and exit 1
    writeFileSync(join(dataPaths(dataDir).runDir(run.run_id), 'metrics.json'), '{}\n');
    const bad = await btnb(['runs', 'verify', run.run_id, '--data-dir', dataDir]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /MISMATCH {2}metrics\.json/);
    const del = await btnb(['runs', 'delete', run.run_id, '--data-dir', dataDir]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal(existsSync(dataPaths(dataDir).runDir(run.run_id)), false);
    assert.equal((await btnb(['runs', 'show', run.run_id, '--data-dir', dataDir])).status, 1);
  });

  it('SIGTERM while running: the run ends canceled and no artifact exists under a final name', async () => {
    const slow = join(dataDir, 'slow.ts');
    writeFileSync(
      slow,
      `import { defineStrategy, z } from 'backtest-notebook';
export default defineStrategy({ id: 'slowpoke', params: z.object({}), onBar() { const t = performance.now(); while (performance.now() - t < 2) {} } });\n`,
    );
    const child = spawn(process.execPath, [MAIN, 'backtest', '--data-dir', dataDir, '--dataset', datasetId, '--strategy', slow], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const catPath = dataPaths(dataDir).catalog;
    let runId = '';
    for (let k = 0; k < 400 && !runId; k++) {
      await new Promise((r) => setTimeout(r, 50));
      const cat = openCatalog(catPath);
      const r = cat.listRuns({ strategy: 'slowpoke', status: 'running' })[0];
      cat.close();
      if (r) runId = r.run_id;
    }
    assert.ok(runId, `the run never reached running: ${stderr}`);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 1, stderr);
    assert.match(stderr, /canceled \(run .* marked canceled\)/);
    const cat = openCatalog(catPath);
    const run = cat.getRun(runId)!;
    cat.close();
    assert.equal(run.status, 'canceled');
    assert.ok(run.finished_at);
    assert.equal(existsSync(dataPaths(dataDir).runDir(runId)), false);
    assert.deepEqual(
      readdirSync(dataPaths(dataDir).backtestsRoot).filter((n) => n.includes(runId)),
      [],
    );
  });
});
