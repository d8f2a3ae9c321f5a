import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;
const btnb = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

describe('btnb db', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-dbcli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('apply creates and migrates a file, then reports it up to date (--json)', () => {
    const f = join(dir, 'nested', 'catalog.sqlite');
    const first = btnb('db', 'apply', f, '--json');
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { file: f, created: true, from_version: 0, user_version: 4 });
    const again = btnb('db', 'apply', f);
    assert.equal(again.stdout, `${f}: user_version 4 (up to date)\n`);
    const db = new Database(f, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), 4);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    const info = JSON.parse(execFileSync(process.execPath, [MAIN, 'db', 'info', f, '--json'], { encoding: 'utf8' }));
    assert.deepEqual(info, { file: f, user_version: 4, datasets: 0, runs: 0, change_counter: 0, journal_mode: 'wal' });
  });

  it('exits 2 on usage errors and 1 with the file named on a non-database', () => {
    const u = btnb('db', 'frobnicate', 'x');
    assert.equal(u.status, 2);
    assert.match(u.stderr, /unknown subcommand 'frobnicate'/);
    assert.equal(btnb('db', 'apply').status, 2);
    const bad = join(dir, 'bad.sqlite');
    writeFileSync(bad, 'not a database at all, just some text that is long enough'.repeat(20));
    const r = btnb('db', 'apply', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${bad.replaceAll('/', '\\/')}: .*not a database`));
  });
});
