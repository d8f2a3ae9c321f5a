import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../../../src/engine/io/files.ts';

/** Runs the real CLI (`btnb …` from source) in a child process. */
function btnb(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      ['src/engine/cli/main.ts', ...args],
      { env: { ...process.env, ...env }, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('btnb data (CLI, real processes)', function () {
  this.timeout(60_000);

  it('synth --import --derive --json, then list, show and derive again', async () => {
    await withTempDir(async (dir) => {
      const dataDir = join(dir, 'data');
      const s = await btnb([
        'data',
        'synth',
        '--symbol',
        'DEMO',
        '--start',
        '2024-03-04',
        '--days',
        '1',
        '--seed',
        '7',
        '--trades-per-day',
        '2000',
        '--out',
        join(dir, 'in'),
        '--import',
        '--derive',
        '--json',
        '--data-dir',
        dataDir,
      ]);
      assert.equal(s.code, 0, s.stderr);
      const out = JSON.parse(s.stdout);
      assert.equal(out.files.length, 2);
      assert.deepEqual(out.trading_days, ['2024-03-04']);
      const ds = out.datasets[0];
      assert.match(ds.dataset_id, /^ds_[0-9a-f]{16}$/);
      assert.deepEqual(ds.schemas, ['trades', 'tbbo']);
      assert.ok(ds.bar_count > 300);
      assert.ok(existsSync(join(dataDir, ds.bars_path)));

      const l = await btnb(['data', 'list', '--json'], { BTNB_DATA_DIR: dataDir });
      assert.equal(l.code, 0, l.stderr);
      const listed = JSON.parse(l.stdout).datasets;
      assert.deepEqual(
        listed.map((r: { dataset_id: string; status: string; bar_count: number }) => [r.dataset_id, r.status, r.bar_count]),
        [[ds.dataset_id, 'ready', ds.bar_count]],
      );

      const sh = await btnb(['data', 'show', ds.dataset_id, '--rows', '3', '--json', '--data-dir', dataDir]);
      assert.equal(sh.code, 0, sh.stderr);
      const shown = JSON.parse(sh.stdout);
      assert.equal(shown.bars.length, 3);
      assert.equal(shown.dataset.manifest.rows, ds.bar_count);
      assert.deepEqual(Object.keys(shown.bars[0]).slice(0, 3), ['ts', 'symbol', 'open']);
      assert.ok(shown.bars[0].ts < shown.bars[1].ts);

      const before = readFileSync(join(dataDir, ds.bars_path));
      const d = await btnb(['data', 'derive', ds.dataset_id, '--json', '--data-dir', dataDir]);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(JSON.parse(d.stdout).bar_count, ds.bar_count);
      assert.ok(readFileSync(join(dataDir, ds.bars_path)).equals(before), 'byte-identical re-derive');

      // Import of the same files again: same dataset, human output says so.
      const again = await btnb(['data', 'import', ...out.files, '--data-dir', dataDir]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`${ds.dataset_id}  DEMO  trades\\+tbbo .*\\(already imported\\)`));
    });
  });

  it('exit codes: 2 for usage errors, 1 for failures with the reason on stderr', async () => {
    await withTempDir(async (dir) => {
      const u = await btnb(['data', 'frobnicate']);
      assert.equal(u.code, 2);
      assert.match(u.stderr, /unknown subcommand 'frobnicate'/);
      const noFile = await btnb(['data', 'import', '--data-dir', dir]);
      assert.equal(noFile.code, 2);
      const missing = await btnb(['data', 'show', 'ds_0000000000000000', '--data-dir', dir]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /dataset ds_0000000000000000 is not in the catalog/);
      const mbo = await btnb(['data', 'import', 'test/fixtures/dbn/test_data.mbo.v3.dbn.zst', '--data-dir', dir]);
      assert.equal(mbo.code, 1);
      assert.match(mbo.stderr, /schema 'mbo'.*supported schemas: trades, tbbo/);
      assert.equal(mbo.stdout, '');
    });
  });
});
