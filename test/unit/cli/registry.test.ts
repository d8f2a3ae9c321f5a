import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { COMMANDS } from '../../../src/engine/cli/registry.ts';

const main = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

describe('btnb command table (registry.ts)', () => {
  it("each command's --help line is the summary its module declares", async () => {
    for (const [name, entry] of Object.entries(COMMANDS)) assert.equal(entry.summary, (await entry.load()).summary, name);
  });

  it('--help lists every command with its summary; a name that is not a command is refused', () => {
    const r = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    for (const [name, entry] of Object.entries(COMMANDS)) assert.ok(r.stdout.includes(`  ${name.padEnd(8)}  ${entry.summary}\n`), name);
    const bad = spawnSync(process.execPath, [main, 'constructor'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command 'constructor'/);
  });
});
