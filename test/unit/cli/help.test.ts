import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';

const main = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;
const btnb = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });

describe('btnb help and exit codes', () => {
  it('--help lists every command and exits 0', () => {
    const r = btnb('--help');
    assert.equal(r.status, 0);
    for (const name of ['decode', 'data', 'db', 'backtest', 'runs', 'sweep', 'demo'])
      assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
  });
  it('no command prints help and exits 2 (usage)', () => {
    assert.equal(btnb().status, 2);
  });
  it('an unknown command is a usage error on stderr', () => {
    const r = btnb('frobnicate');
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });
  it('a subcommand gets its own help (data fetch --help)', () => {
    const r = btnb('data', 'fetch', '--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: btnb data fetch --dataset/);
    const d = btnb('data', '--help');
    assert.match(d.stdout, /^Usage: btnb data </);
  });
});
