// The strategy sandbox (backtest/sandbox.ts): user code in a terminable thread with CPU and heap
// limits. A breach fails the run that was executing, not the runs queued behind it; a cancel of
// a queued run skips it; results equal the in-process engine's.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { toCosts } from '../../../src/engine/backtest/costs.ts';
import { RunCanceledError } from '../../../src/engine/backtest/engine.ts';
import { StrategyLimitError, StrategySandbox } from '../../../src/engine/backtest/sandbox.ts';
import { loadStrategyFile } from '../../../src/engine/backtest/userStrategy.ts';
import { applySession } from '../../../src/engine/backtest/session.ts';
import { synthBars } from './support/dataset.ts';

describe('strategy sandbox (worker thread with CPU and heap limits)', function () {
  this.timeout(60_000);
  let dir = '';
  let file = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-sandbox-'));
    file = join(dir, 'modes.ts');
    writeFileSync(
      file,
      `import { defineStrategy, z } from 'backtest-notebook';
const keep: number[][] = [];
export default defineStrategy({
  id: 'modes',
  params: z.object({ mode: z.number().int(), fast: z.number().int().default(5) }),
  onBar(ctx, _s, p) {
    if (p.mode === 1) while (true) {}
    if (p.mode === 2) for (;;) keep.push(new Array(1e5).fill(1.5));
    if (ctx.index > p.fast && !ctx.isLastBar) ctx.targetPosition(ctx.close() > ctx.close(p.fast) ? 1 : 0);
  },
});
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const req = (mode: number, fast = 5) => ({
    strategyPath: file,
    params: { mode, fast },
    seed: 0,
    costs: toCosts({}),
    session: 'all' as const,
  });

  it('rth runs share one session filter of the bars (session.ts), also in the sandbox thread, whose results never detach it', async () => {
    const bars = synthBars(6000, 4);
    const rth = applySession(bars, 'rth');
    assert.ok(rth.length < bars.length && rth.length > 0);
    assert.equal(applySession(bars, 'rth'), rth, 'made once per input');
    assert.notEqual(applySession(synthBars(6000, 4), 'rth'), rth, 'not shared with other bars');
    const sb = new StrategySandbox({ cpuMs: 5000, heapMb: 256 });
    try {
      const def = (await loadStrategyFile(file)).def;
      const direct = runBacktest(synthBars(6000, 4), { strategy: def, params: { mode: 0, fast: 6 }, seed: 0, costs: {}, session: 'rth' });
      const rthReq = { ...req(0, 6), session: 'rth' as const };
      for (let k = 0; k < 3; k++) {
        const r = await sb.run(bars, rthReq);
        assert.deepEqual(r.metrics, direct.metrics, `run ${k}`);
        assert.deepEqual(Array.from(r.equity.equity), Array.from(direct.equity.equity));
      }
      // in this thread too: the cached filter is intact after runs over it
      assert.equal(rth.ts.length, rth.length);
      assert.deepEqual(
        runBacktest(bars, { strategy: def, params: { mode: 0, fast: 6 }, seed: 0, costs: {}, session: 'rth' }).metrics,
        direct.metrics,
      );
    } finally {
      sb.close();
    }
  });

  it('equals the in-process engine; a loop fails on CPU time while the run queued behind it still succeeds', async () => {
    const bars = synthBars(3000, 3);
    const sb = new StrategySandbox({ cpuMs: 500, heapMb: 128 });
    try {
      const def = (await loadStrategyFile(file)).def;
      const direct = runBacktest(bars, { strategy: def, params: { mode: 0, fast: 7 }, seed: 0, costs: {}, session: 'all' });
      const [looping, after] = await Promise.allSettled([sb.run(bars, req(1)), sb.run(bars, req(0, 7))]);
      assert.equal(looping.status, 'rejected');
      assert.ok(looping.reason instanceof StrategyLimitError);
      assert.match(String(looping.reason.message), /more than 0\.5 s of CPU/);
      assert.equal(after.status, 'fulfilled', String((after as PromiseRejectedResult).reason));
      const r = after.value;
      assert.deepEqual(r.metrics, direct.metrics);
      assert.deepEqual([...r.equity.equity], [...direct.equity.equity]);
      assert.equal(r.bars.length, direct.bars.length);
    } finally {
      sb.close();
    }
  });

  it('an allocation spree fails on the heap limit; the sandbox runs the next run on a fresh thread', async () => {
    const bars = synthBars(500, 4);
    const sb = new StrategySandbox({ cpuMs: 20_000, heapMb: 96 });
    try {
      await assert.rejects(sb.run(bars, req(2)), (e: Error) => e instanceof StrategyLimitError && /96 MB heap limit/.test(e.message));
      const ok = await sb.run(bars, req(0));
      assert.ok(Number.isFinite(ok.metrics.final_equity));
    } finally {
      sb.close();
    }
  });

  it('cancel: the executing run ends at once, a queued one is skipped, later runs go on', async () => {
    const bars = synthBars(500, 5);
    const sb = new StrategySandbox({ cpuMs: 60_000, heapMb: 128 });
    try {
      const a = new AbortController();
      const b = new AbortController();
      const t0 = performance.now();
      const running = sb.run(bars, req(1), { signal: a.signal });
      const queued = sb.run(bars, req(0), { signal: b.signal });
      setTimeout(() => {
        b.abort();
        a.abort();
      }, 300);
      await assert.rejects(running, RunCanceledError);
      await assert.rejects(queued, RunCanceledError);
      assert.ok(performance.now() - t0 < 5000);
      const ok = await sb.run(bars, req(0));
      assert.ok(Number.isFinite(ok.metrics.final_equity));
    } finally {
      sb.close();
    }
  });
});
