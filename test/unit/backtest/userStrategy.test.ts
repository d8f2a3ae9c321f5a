import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStrategyFile, StrategyLoadError } from '../../../src/engine/backtest/userStrategy.ts';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { StrategyError } from '../../../src/engine/backtest/strategy.ts';
import { closesToBars } from './helpers.ts';

describe('user strategy files (esbuild at run time)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-userstrat-'));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'rules.ts'), 'export const threshold = (x: number): number => x * 2;\n');
    writeFileSync(
      join(dir, 'momentum.ts'),
      `
import { defineStrategy, z } from 'backtest-notebook';
import { threshold } from './lib/rules.ts';
export default defineStrategy({
  id: 'my-momentum',
  params: z.object({ lookback: z.number().int().min(1).default(2), size: z.number().default(3) }),
  onBar(ctx, _s, p) {
    if (ctx.index < p.lookback || ctx.isLastBar) return;
    const up = ctx.close() > ctx.close(p.lookback);
    const target: number = up ? threshold(p.size) / 2 : 0;
    if (target !== ctx.position) ctx.targetPosition(target);
  },
});
`,
    );
    writeFileSync(
      join(dir, 'throws.js'),
      `
const { defineStrategy } = require('backtest-notebook');
const { z } = require('zod');
module.exports.strategy = defineStrategy({ id: 'bad', params: z.object({}), onBar(ctx) { if (ctx.index === 1) null.boom; } });
`,
    );
    writeFileSync(join(dir, 'syntax.ts'), 'export default {{;\n');
    writeFileSync(join(dir, 'noexport.ts'), 'export const x = 1;\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bundles a TypeScript file with local imports and runs it through the engine', async () => {
    const { def, sourceHash } = await loadStrategyFile(join(dir, 'momentum.ts'));
    assert.equal(def.id, 'my-momentum');
    assert.match(sourceHash, /^[0-9a-f]{64}$/);
    const r = runBacktest(closesToBars([10, 11, 12, 11, 10, 12, 13]), { strategy: def, params: {} });
    // bar 2: 12 > 10 → buy 3 (fill bar 3 @ 11); bar 3: 11 > 11? no → sell (bar 4 @ 10); bar 4: 10 > 12? no; bar 5: 12 > 11 → buy (bar 6 @ 13)
    assert.deepEqual(Array.from(r.fills.bar), [3, 4, 6]);
    assert.deepEqual(Array.from(r.fills.qty), [3, 3, 3]);
  });

  it('the source hash covers imported files and ignores the directory the workspace lives in', async () => {
    const a = (await loadStrategyFile(join(dir, 'momentum.ts'))).sourceHash;
    const copy = mkdtempSync(join(tmpdir(), 'btnb-userstrat-copy-'));
    try {
      mkdirSync(join(copy, 'lib'));
      writeFileSync(join(copy, 'lib', 'rules.ts'), 'export const threshold = (x: number): number => x * 2;\n');
      writeFileSync(join(copy, 'momentum.ts'), (await import('node:fs')).readFileSync(join(dir, 'momentum.ts')));
      assert.equal((await loadStrategyFile(join(copy, 'momentum.ts'))).sourceHash, a);
      writeFileSync(join(copy, 'lib', 'rules.ts'), 'export const threshold = (x: number): number => x * 3;\n');
      assert.notEqual((await loadStrategyFile(join(copy, 'momentum.ts'))).sourceHash, a);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a CommonJS .js file works; its runtime error fails the run with the file in the stack', async () => {
    const { def } = await loadStrategyFile(join(dir, 'throws.js'));
    assert.throws(
      () => runBacktest(closesToBars([1, 2, 3]), { strategy: def }),
      (e: unknown) => {
        assert.ok(e instanceof StrategyError);
        assert.match(e.message, /strategy 'bad' threw in onBar at bar 1 .*Cannot read properties of null/);
        assert.ok(e.stack!.includes(join(dir, 'throws.js')), e.stack);
        return true;
      },
    );
  });

  it("a throw in a TypeScript strategy's hook or at load is reported at its own line and column, not the bundle's", async () => {
    // Line 7 of the file (1-based), behind an imported module: the bundle puts it elsewhere.
    writeFileSync(
      join(dir, 'lines.ts'),
      [
        "import { defineStrategy, z } from 'backtest-notebook';",
        "import { threshold } from './lib/rules.ts';",
        'export default defineStrategy({',
        "  id: 'lines',",
        '  params: z.object({}),',
        '  onBar(ctx) {',
        "    if (ctx.index === threshold(1)) throw new RangeError('boom on line 7');",
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    const { def } = await loadStrategyFile(join(dir, 'lines.ts'));
    assert.throws(
      () => runBacktest(closesToBars([1, 2, 3, 4]), { strategy: def }),
      (e: unknown) => {
        assert.ok(e instanceof StrategyError);
        assert.match(e.stack!, new RegExp(`${join(dir, 'lines.ts').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:7:\\d+\\)`), e.stack);
        return true;
      },
    );
    writeFileSync(join(dir, 'loadthrow.ts'), "import { z } from 'zod';\nconst x = z.object({});\n\nthrow new Error('at load, line 4');\n");
    await assert.rejects(loadStrategyFile(join(dir, 'loadthrow.ts')), (e: unknown) => {
      assert.ok(e instanceof StrategyLoadError);
      assert.match(e.stack!, /loadthrow\.ts:4:\d+/, e.stack);
      return true;
    });
  });

  it('reports bundling errors with file:line:column, and a missing export', async () => {
    await assert.rejects(loadStrategyFile(join(dir, 'syntax.ts')), (e: unknown) => {
      assert.ok(e instanceof StrategyLoadError);
      assert.match(e.message, /syntax\.ts: bundling failed\n.*syntax\.ts:1:\d+: /);
      return true;
    });
    await assert.rejects(loadStrategyFile(join(dir, 'noexport.ts')), /no strategy export found .*exports: x/);
    await assert.rejects(loadStrategyFile(join(dir, 'missing.ts')), /missing\.ts: cannot read the strategy file/);
  });
});
