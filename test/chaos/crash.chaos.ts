/**
 * Promise 3 (docs/reliability.md): a process killed at any moment leaves a consistent catalog;
 * the next start settles what it left (failed with the reason, temps removed) and re-running the
 * same command succeeds with byte-identical results.
 *
 * Two ways to kill: deterministically at the k-th write point (BTNB_CRASH_AT_WRITE, every point
 * of every scenario in --full mode), and SIGKILL at a random moment of a clean run's duration.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { recoverDataDir } from '../../src/engine/recovery.ts';
import { Sfc32 } from '../../src/engine/util/prng.ts';
import { consistencyProblems } from './support/consistency.ts';
import { alive, btnb, childrenOf } from './support/processes.ts';
import { count, Probe } from './support/report.ts';
import { buildWorld, caseDir, disposeWorld, type Scenario, type World } from './support/scenarios.ts';

/** A write point's label without ids and paths (`rename <path>`), to count which points were covered. */
const kindOf = (label: string) =>
  label
    .replace(/\S*\/\S*/g, '<path>')
    .replace(/ds_[0-9a-f]{16}/g, '<ds>')
    .replace(/[0-9A-Z]{26}/g, '<run>')
    .trim();

/** How long the children of each killed parent took to go (promise 6). */
const orphanMs: number[] = [];

/** Kill (or let it crash), then: recovery at the next start, consistency, re-run, consistency, same results. */
async function crashCase(
  world: World,
  s: Scenario,
  label: string,
  how: { env?: Record<string, string>; killAfterMs?: number },
  probe: Probe,
) {
  const dir = caseDir(world, s, label);
  const l = s.launch(dir, how.env);
  let orphans: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  if (how.killAfterMs !== undefined)
    timer = setTimeout(() => {
      orphans = childrenOf(l.child.pid!);
      l.child.kill('SIGKILL');
    }, how.killAfterMs);
  const e = await l.exit;
  clearTimeout(timer);
  if (e.signal === 'SIGKILL' && how.env?.BTNB_CRASH_AT_WRITE) orphans = []; // self-kill: children found below
  const problems: string[] = [];
  if (e.signal !== 'SIGKILL' && e.code !== 0) problems.push(`the run itself failed (${e.code}): ${e.stderr.slice(0, 300)}`);
  // Children die with their parent (promise 6): none outlives it by more than 1 s.
  const t0 = performance.now();
  while (orphans.some(alive) && performance.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 20));
  if (orphans.some(alive)) problems.push(`child ${orphans.filter(alive).join(', ')} outlived its killed parent by > 1 s`);
  if (orphans.length) orphanMs.push(performance.now() - t0);
  // The next start: the CLI (any command) or, for a job child, the extension host's settle.
  if (s.name.includes('job child')) await recoverDataDir(dir);
  else if (existsSync(dir)) {
    const r = await btnb(['runs', 'list', '--data-dir', dir, '--json']);
    if (r.code !== 0) problems.push(`runs list after the crash failed: ${r.stderr.slice(0, 300)}`);
  }
  problems.push(...consistencyProblems(dir).map((p) => `after recovery: ${p}`));
  const again = await s.launch(dir).exit;
  if (again.code !== 0) problems.push(`re-run failed (${again.code ?? again.signal}): ${again.stderr.slice(0, 300)}`);
  problems.push(...consistencyProblems(dir).map((p) => `after re-run: ${p}`));
  problems.push(...s.verify(dir));
  probe.cases++;
  for (const p of problems) probe.fail(`${s.name} ${label}: ${p}`);
  if (problems.length === 0) rmSync(dir, { recursive: true, force: true });
  return e.signal === 'SIGKILL';
}

describe('chaos: crash injection (kill -9), promise 3', function () {
  this.timeout(0);
  let world: World | undefined;
  before(async () => {
    world = await buildWorld();
  });
  after(() => disposeWorld(world));

  it('killed at each write point: recovered, re-run succeeds, byte-identical results', async () => {
    const probe = new Probe('crash at write points');
    const coveredAll = new Set<string>();
    const seenAll = new Set<string>();
    for (const s of world!.scenarios) {
      // A clean run with the points logged: how many each process passes.
      const dir = caseDir(world!, s, `${s.name}-count`);
      const log = join(world!.root, `${s.name.replace(/\W+/g, '_')}.points`);
      const e = await s.launch(dir, { BTNB_WRITE_POINTS_FILE: log }).exit;
      assert.equal(e.code, 0, e.stderr);
      const lines = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      const perPid = new Map<string, string[]>();
      for (const [pid, , ...label] of lines) perPid.set(pid!, [...(perPid.get(pid!) ?? []), kindOf(label.join(' '))]);
      const k = Math.max(...[...perPid.values()].map((v) => v.length));
      for (const v of perPid.values()) for (const x of v) seenAll.add(`${s.name}: ${x}`);
      const n = count(Math.min(k, 5), k);
      const ks = [...new Set(Array.from({ length: n }, (_, i) => (n === 1 ? k : 1 + Math.round((i * (k - 1)) / (n - 1)))))];
      for (const at of ks) {
        const killed = await crashCase(world!, s, `at-${at}`, { env: { BTNB_CRASH_AT_WRITE: String(at) } }, probe);
        if (killed) for (const v of perPid.values()) if (v[at - 1]) coveredAll.add(`${s.name}: ${v[at - 1]}`);
      }
    }
    probe.notes.push(`${coveredAll.size} of ${seenAll.size} distinct write points killed at`);
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });

  it('SIGKILL at random moments of each command: recovered, re-run succeeds, byte-identical results', async () => {
    const probe = new Probe('SIGKILL at random moments');
    const rng = new Sfc32(1515);
    for (const s of world!.scenarios) {
      const dir = caseDir(world!, s, `${s.name}-clean`);
      const clean = await s.launch(dir).exit;
      assert.equal(clean.code, 0, clean.stderr);
      let killed = 0;
      const n = count(3, 50);
      for (let i = 0; i < n; i++)
        if (await crashCase(world!, s, `kill-${i}`, { killAfterMs: rng.next() * clean.ms * 1.1 }, probe)) killed++;
      probe.notes.push(`${s.name}: ${killed} of ${n} killed mid-run (clean run ${Math.round(clean.ms)} ms)`);
    }
    if (orphanMs.length)
      probe.notes.push(
        `${orphanMs.length} parents killed with children running: all children gone within ${Math.round(Math.max(...orphanMs))} ms`,
      );
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });
});
