#!/usr/bin/env node
// `npm run test:unit`: the unit tests only (mocha, .mocharc.json: test/unit/**/*.test.ts) on the
// project's Node 24, ending with `unit: N passed, N failed, N skipped`. Extra args go to mocha,
// e.g. `npm run test:unit -- test/unit/dbn/decoder.test.ts`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE24 = join(ROOT, 'node_modules', '.bin', 'node');
if (!existsSync(NODE24)) {
  console.error(`run-unit: ${NODE24} missing: run 'npm ci' first (it brings Node 24)`);
  process.exit(1);
}
const r = spawnSync(NODE24, [join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { BTNB_TEST_LABEL: 'unit', ...process.env },
});
process.exit(r.status ?? 1);
