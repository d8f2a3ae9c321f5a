/**
 * Promise 6 (docs/reliability.md): user code is contained. A workspace strategy that loops
 * forever, allocates without bound, throws at bar 100 or returns garbage fails its run with a
 * clear message within the limit (BTNB_RUN_CPU_MS / BTNB_RUN_HEAP_MB), through `btnb backtest`
 * and as points of one `btnb sweep`, whose other points still succeed. Killing the sweep while a
 * worker is stuck in user code leaves no process behind.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consistencyProblems } from './support/consistency.ts';
import { alive, btnb, childrenOf, start } from './support/processes.ts';
import { Probe } from './support/report.ts';
import { buildWorld, caseDir, disposeWorld, type World } from './support/scenarios.ts';

const LIMITS = { BTNB_RUN_CPU_MS: '2000', BTNB_RUN_HEAP_MB: '256' };

const HOSTILE = `import { defineStrategy, z } from 'backtest-notebook';
const keep: number[][] = [];
export default defineStrategy({
  id: 'hostile',
  params: z.object({ mode: z.number().int() }),
  onBar(ctx, _state, p) {
    if (p.mode === 1) while (true) {}
    if (p.mode === 2) for (;;) keep.push(new Array(1e5).fill(ctx.index + 0.5)); // ~2 GB and on
    if (p.mode === 3 && ctx.index === 100) throw new Error('boom at bar 100');
    if (p.mode === 4 && ctx.index === 5) ctx.buy(Number.NaN);
    if (ctx.index === 10) ctx.buy(1);
  },
});
`;
const EXPECT: Record<number, RegExp> = {
  1: /more than 2 s of CPU.*BTNB_RUN_CPU_MS/,
  2: /256 MB heap limit.*BTNB_RUN_HEAP_MB/,
  3: /boom at bar 100[\s\S]*hostile\.ts:9/,
  4: /qty|quantity|NaN/i,
};

describe('chaos: resource limits, promise 6', function () {
  this.timeout(0);
  let world: World | undefined;
  let file = '';
  before(async () => {
    world = await buildWorld();
    file = join(world.root, 'hostile.ts');
    writeFileSync(file, HOSTILE);
  });
  after(() => disposeWorld(world));

  it('a looping, allocating, throwing or garbage-returning strategy fails its run clearly, in a backtest and as sweep points', async () => {
    const probe = new Probe('resource limits (user code)');
    const dir = caseDir(
      world!,
      world!.scenarios.find((s) => s.name === 'backtest')!,
      'limits',
    );
    for (const mode of [1, 2, 3, 4]) {
      probe.cases++;
      const e = await btnb(
        ['backtest', '--dataset', world!.datasetId, '--strategy', file, '--param', `mode=${mode}`, '--json', '--data-dir', dir],
        LIMITS,
      );
      if (e.code === 0) probe.fail(`mode ${mode}: the run succeeded`);
      else if (!EXPECT[mode]!.test(e.stderr)) probe.fail(`mode ${mode}: unclear message: ${e.stderr.slice(0, 400)}`);
      if (e.ms > 20_000) probe.fail(`mode ${mode}: took ${Math.round(e.ms)} ms`);
      probe.notes.push(`backtest mode ${mode}: failed in ${Math.round(e.ms)} ms: ${e.stderr.trim().split('\n')[0]!.slice(0, 140)}`);
    }
    probe.cases++;
    const sw = await btnb(
      [
        'sweep',
        '--dataset',
        world!.datasetId,
        '--strategy',
        file,
        '--grid',
        'mode=0,1,2,3,4',
        '--workers',
        '2',
        '--json',
        '--data-dir',
        dir,
      ],
      LIMITS,
    );
    const out = JSON.parse(sw.stdout || '{"results":[]}') as {
      results: { params: { mode: number }; status: string; error?: string | null }[];
    };
    const byMode = new Map(out.results.map((r) => [r.params.mode, r]));
    if (byMode.get(0)?.status !== 'succeeded') probe.fail(`sweep: the well-behaved point did not succeed: ${sw.stderr.slice(0, 300)}`);
    for (const mode of [1, 2, 3, 4]) {
      const r = byMode.get(mode);
      if (!r || r.status !== 'failed' || !EXPECT[mode]!.test(r.error ?? ''))
        probe.fail(`sweep point mode=${mode}: ${JSON.stringify(r)?.slice(0, 300)}`);
    }
    probe.notes.push(`sweep of 5 points (4 hostile) ended in ${Math.round(sw.ms)} ms`);
    for (const p of consistencyProblems(dir)) probe.fail(p);
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });

  it('a sweep killed while its workers are stuck in user code leaves no process behind', async () => {
    const probe = new Probe('children die with parent');
    const dir = caseDir(
      world!,
      world!.scenarios.find((s) => s.name === 'backtest')!,
      'orphans',
    );
    for (let k = 0; k < 3; k++) {
      probe.cases++;
      const l = start(
        [
          'sweep',
          '--dataset',
          world!.datasetId,
          '--strategy',
          file,
          '--grid',
          'mode=1,1,1',
          '--grid',
          `x=${k},9`,
          '--workers',
          '2',
          '--force',
          '--data-dir',
          dir,
        ],
        {
          BTNB_RUN_CPU_MS: '60000',
        },
      );
      await new Promise((r) => setTimeout(r, 1500));
      const kids = childrenOf(l.child.pid!);
      l.child.kill('SIGKILL');
      await l.exit;
      const t0 = performance.now();
      while (kids.some(alive) && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
      const ms = performance.now() - t0;
      if (kids.length === 0) probe.fail('no worker process was running');
      if (kids.some(alive)) probe.fail(`workers ${kids.filter(alive).join(', ')} still alive 3 s after the parent's kill`);
      probe.notes.push(`kill ${k + 1}: ${kids.length} worker(s) gone ${Math.round(ms)} ms after the parent`);
    }
    const r = await btnb(['runs', 'list', '--data-dir', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    for (const p of consistencyProblems(dir)) probe.fail(p);
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });
});
