#!/usr/bin/env node
// `npm test`: every check the project has, in order — typecheck, lint (eslint + prettier), unit tests (mocha),
// the chaos suite (quick mode), build,
// extension-host integration tests (real VS Code via code-server + Chromium), Chromium e2e.
// Prints each phase's result and time, then the closing line `all: N passed, N failed, N skipped`.
// Exit 1 if anything failed. Every phase runs even after an earlier one failed (except that
// vscode/e2e need a successful build).
//   node test/run-all.mjs [--only unit,vscode] [--skip e2e]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE24 = join(ROOT, 'node_modules', '.bin', 'node');
const MOCHA = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const PHASES = ['typecheck', 'lint', 'unit', 'chaos', 'build', 'vscode', 'e2e'];

function parseList(flag) {
  const i = process.argv.indexOf(flag);
  if (i < 0) return null;
  const list = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const bad = list.filter((p) => !PHASES.includes(p));
  if (bad.length) {
    console.error(`run-all: unknown phase(s) ${bad.join(', ')} after ${flag}; phases: ${PHASES.join(', ')}`);
    process.exit(2);
  }
  return list;
}
const only = parseList('--only');
const skip = parseList('--skip') ?? [];
const wanted = (p) => (only ? only.includes(p) : true) && !skip.includes(p);
// vscode/e2e run the bundles: build whenever either runs.
const wantBuild = wanted('build') || wanted('vscode') || wanted('e2e');

if (!existsSync(NODE24)) {
  console.error(`run-all: ${NODE24} missing: run 'npm ci' first (it brings Node 24)`);
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), 'btnb-run-all-'));
const results = [];

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) console.error(`run-all: could not start ${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

function readStats(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** A phase that reports mocha-style counts through BTNB_TEST_STATS; a bad exit without counted failures counts as one failure. */
function testPhase(name, cmd, args, env = {}) {
  const statsFile = join(tmp, `${name}.json`);
  const t0 = Date.now();
  console.log(`\n=== ${name} ===`);
  const code = run(cmd, args, { ...env, BTNB_TEST_STATS: statsFile, BTNB_TEST_LABEL: name });
  const s = readStats(statsFile) ?? { passes: 0, failures: 0, pending: 0 };
  let failures = s.failures;
  if (code !== 0 && failures === 0) failures = 1;
  results.push({
    name,
    tests: true,
    passes: s.passes,
    failures,
    pending: s.pending,
    seconds: (Date.now() - t0) / 1000,
    note: code !== 0 ? `exit ${code}` : '',
  });
  return code === 0;
}

/** A phase that is one check (typecheck, build): 1 failure when it fails, no tests counted when it passes. */
function checkPhase(name, cmd, args) {
  const t0 = Date.now();
  console.log(`\n=== ${name} ===`);
  const code = run(cmd, args);
  results.push({
    name,
    passes: 0,
    failures: code === 0 ? 0 : 1,
    pending: 0,
    seconds: (Date.now() - t0) / 1000,
    note: code === 0 ? 'ok' : `exit ${code}`,
  });
  return code === 0;
}

const tAll = Date.now();
if (wanted('typecheck')) checkPhase('typecheck', 'npm', ['run', '--silent', 'typecheck']);
if (wanted('lint')) checkPhase('lint', 'npm', ['run', '--silent', 'lint']);
if (wanted('unit')) testPhase('unit', NODE24, [MOCHA]);
// the reliability suite in its bounded quick mode (npm run test:chaos -- --full for the report's counts)
if (wanted('chaos')) testPhase('chaos', NODE24, [join(ROOT, 'test', 'run-chaos.mjs')]);
let built = true;
if (wantBuild) built = checkPhase('build', NODE24, ['esbuild.mjs']);
for (const name of ['vscode', 'e2e']) {
  if (!wanted(name)) continue;
  if (!built) {
    results.push({ name, passes: 0, failures: 0, pending: 0, seconds: 0, note: 'not run: build failed' });
    continue;
  }
  if (name === 'vscode') testPhase('vscode', NODE24, [join(ROOT, 'test', 'vscode', 'run.mjs')], { BTNB_SKIP_BUILD: '1' });
  else
    testPhase('e2e', NODE24, [
      MOCHA,
      '--no-config',
      '--extension',
      'ts',
      '--reporter',
      join(ROOT, 'test', 'summaryReporter.cjs'),
      '--timeout',
      '180000',
      'test/e2e/**/*.e2e.ts',
    ]);
}
rmSync(tmp, { recursive: true, force: true });

console.log('\n=== summary ===');
for (const r of results) {
  const counts = r.tests ? `${r.passes} passed, ${r.failures} failed${r.pending ? `, ${r.pending} skipped` : ''}` : '';
  console.log(`${r.name.padEnd(10)} ${r.seconds.toFixed(1).padStart(7)} s  ${[counts, r.note].filter(Boolean).join('  ')}`);
}
const sum = (k) => results.reduce((a, r) => a + r[k], 0);
const passed = sum('passes');
const failed = sum('failures') + results.filter((r) => r.note.startsWith('not run')).length;
const skipped = sum('pending');
console.log(`total      ${((Date.now() - tAll) / 1000).toFixed(1).padStart(7)} s`);
console.log(`all: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
