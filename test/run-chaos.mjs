#!/usr/bin/env node
// `npm run test:chaos [-- --full]`: the reliability suite (test/chaos/*.chaos.ts, docs/reliability.md).
// Quick, bounded counts by default (the CI phase); --full runs the counts the report quotes.
// Prints the probe table at the end and writes test-output/chaos.json. Extra args go to mocha.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE24 = join(ROOT, 'node_modules', '.bin', 'node');
if (!existsSync(NODE24)) {
  console.error(`run-chaos: ${NODE24} missing: run 'npm ci' first (it brings Node 24)`);
  process.exit(1);
}
const argv = process.argv.slice(2);
const full = argv.includes('--full');
const rest = argv.filter((a) => a !== '--full');
const specs = rest.some((a) => a.endsWith('.ts')) ? [] : ['test/chaos/*.chaos.ts'];
const r = spawnSync(
  NODE24,
  [
    join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'),
    '--no-config',
    '--extension',
    'ts',
    '--timeout',
    '0',
    '--reporter',
    join(ROOT, 'test', 'summaryReporter.cjs'),
    '--file',
    'test/chaos/support/hooks.ts',
    ...specs,
    ...rest,
  ],
  { cwd: ROOT, stdio: 'inherit', env: { BTNB_TEST_LABEL: 'chaos', ...process.env, ...(full ? { BTNB_CHAOS_FULL: '1' } : {}) } },
);
process.exit(r.status ?? 1);
