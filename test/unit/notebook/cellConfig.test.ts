import { strict as assert } from 'node:assert';
import { analyzeCell, cursorContext, docsAt, KEY_DOCS } from '../../../src/notebook/cellConfig.ts';
import { gridPoints, parseGrid } from '../../../src/engine/sweep/grid.ts';
import { cellLocations, strategyCellName, strategyCells } from '../../../src/notebook/strategyCells.ts';

/** The text each issue points at. */
const at = (text: string, issues: { start: number; end: number; message: string }[]) =>
  issues.map((i) => [text.slice(i.start, i.end), i.message]);

describe('notebook cell configs (btnb-backtest, btnb-sweep, btnb-data)', () => {
  it('a backtest cell in YAML and the same in JSON give the same config, defaults filled', () => {
    const yaml =
      'dataset: ds_0123456789abcdef\nstrategy: sma-cross\nparams: { fast: 5, slow: 20 }\ncosts: cash=50000 slippage=half-spread\n';
    const json =
      '{"dataset":"ds_0123456789abcdef","strategy":"sma-cross","params":{"fast":5,"slow":20},"costs":{"cash":50000,"slippage":"half-spread"}}';
    const a = analyzeCell('btnb-backtest', yaml);
    const b = analyzeCell('btnb-backtest', json);
    assert.ok(a.ok && b.ok);
    assert.deepEqual(a.config, b.config);
    assert.deepEqual(a.config, {
      dataset: 'ds_0123456789abcdef',
      strategy: 'sma-cross',
      params: { fast: 5, slow: 20 },
      costs: { cash: 50000, slippage: 'half-spread' },
      seed: 0,
      session: 'all',
      force: false,
    });
  });

  it('issues point at the key or value at fault and say what was expected', () => {
    const text = 'dataset: ds_0123456789abcdef\nstrategy: sma-cross\nbogus: 1\ncosts:\n  cash: -5\nsession: overnight\nseed: 1.5\n';
    const a = analyzeCell('btnb-backtest', text);
    assert.equal(a.ok, false);
    assert.deepEqual(at(text, a.issues), [
      ['bogus', "unknown key 'bogus'; expected one of dataset, strategy, costs, seed, session, force, params"],
      ['-5', 'costs.cash: expected a finite number > 0, got -5'],
      ['overnight', 'session: Invalid option: expected one of "all"|"rth"'],
      ['1.5', 'seed: Invalid input: expected int, received number'],
    ]);
    const missing = analyzeCell('btnb-backtest', 'strategy: sma-cross\n');
    assert.deepEqual(
      missing.issues.map((i) => i.message),
      ['dataset: required'],
    );
    const yamlError = analyzeCell('btnb-backtest', 'strategy: [sma-cross\n');
    assert.match(yamlError.issues[0]!.message, /Flow sequence|flow collection|Missing/i);
    assert.deepEqual(at('- a\n- b\n', analyzeCell('btnb-data', '- a\n- b\n').issues), [
      ['- a\n- b\n', 'expected a map of keys (YAML or JSON)'],
    ]);
  });

  it('a dataset is an id or { symbol, from, to }; anything else says both', () => {
    const ok = analyzeCell('btnb-backtest', 'dataset: { symbol: DEMO, from: 2024-03-04, to: 2024-03-08 }\nstrategy: x');
    assert.ok(ok.ok);
    assert.deepEqual(ok.config.dataset, { symbol: 'DEMO', from: '2024-03-04', to: '2024-03-08' }, 'YAML dates stay text');
    const bad = analyzeCell('btnb-backtest', 'dataset: DEMO\nstrategy: x');
    assert.match(bad.issues[0]!.message, /expected a dataset id \(ds_ \+ 16 hex digits\) or \{ symbol, from, to \}/);
  });

  it('a sweep grid, as --grid entries or as a map, enumerates exactly as the CLI does', () => {
    const entries = ['fast=5:20:5', 'slow=30,60'];
    const cli = gridPoints(parseGrid(entries));
    const list = analyzeCell('btnb-sweep', `dataset: ds_0123456789abcdef\nstrategy: sma-cross\ngrid: ${JSON.stringify(entries)}`);
    const map = analyzeCell('btnb-sweep', 'dataset: ds_0123456789abcdef\nstrategy: sma-cross\ngrid:\n  slow: 30,60\n  fast: 5:20:5\n');
    assert.ok(list.ok && map.ok);
    assert.deepEqual(gridPoints(list.config.grid), cli);
    assert.deepEqual(gridPoints(map.config.grid), cli);
    assert.equal(list.config.sort, 'sharpe');
    const bad = analyzeCell('btnb-sweep', 'dataset: ds_0123456789abcdef\nstrategy: sma-cross\ngrid: { fast: "5:x:5" }');
    assert.match(bad.issues[0]!.message, /grid: grid fast: a range is a:b:step/);
    const wf = analyzeCell(
      'btnb-sweep',
      'dataset: ds_0123456789abcdef\nstrategy: s\ngrid: [a=1]\nwalk_forward: { train_days: 3, test_days: 1 }',
    );
    assert.ok(wf.ok);
    assert.deepEqual(wf.config.walk_forward, { train_days: 3, test_days: 1 });
  });

  it('a data cell does exactly one thing', () => {
    const s = analyzeCell('btnb-data', 'synth: { start: 2024-03-04, days: 5 }');
    assert.ok(s.ok);
    assert.deepEqual(s.config.synth, { symbol: 'DEMO', start: '2024-03-04', days: 5, seed: 1 });
    assert.match(
      analyzeCell('btnb-data', 'synth: { start: 2024-03-04, days: 5 }\nderive: ds_0123456789abcdef').issues[0]!.message,
      /exactly one of synth, import, fetch, derive; got synth, derive/,
    );
    assert.match(analyzeCell('btnb-data', '{}').issues[0]!.message, /exactly one of/);
    const imp = analyzeCell('btnb-data', 'import: { files: a.dbn.zst }');
    assert.ok(imp.ok);
    assert.deepEqual(imp.config.import, { files: 'a.dbn.zst', derive: true });
  });

  it('completion context follows indentation, and every documented key is a key the schema accepts', () => {
    const text = 'dataset: x\ncosts:\n  ca';
    assert.deepEqual(cursorContext(text, text.length), { path: ['costs'], lineKey: null, inValue: false, linePrefix: '  ca' });
    assert.deepEqual(cursorContext('session: ', 9).lineKey, 'session');
    assert.equal(cursorContext('session: ', 9).inValue, true);
    assert.ok(docsAt('btnb-backtest', ['costs'])?.slippage);
    for (const [lang, keys] of Object.entries(KEY_DOCS)) {
      for (const k of Object.keys(keys)) {
        const r = analyzeCell(lang as keyof typeof KEY_DOCS, `${k}: 1\n`);
        assert.ok(!r.issues.some((i) => i.message.startsWith(`unknown key '${k}'`)), `${lang}: documented key ${k} is known`);
      }
    }
  });
});

describe('strategy cells', () => {
  it('are named by metadata, else their first named export, else the id they give defineStrategy', () => {
    assert.equal(strategyCellName('export const momentum = defineStrategy({ id: "m" })', { name: ' custom ' }), 'custom');
    assert.equal(strategyCellName('import x from "y";\nexport const momentum = defineStrategy({ id: "m" })', {}), 'momentum');
    assert.equal(strategyCellName("export default defineStrategy({\n  id: 'breakout',\n})", {}), 'breakout');
    assert.equal(strategyCellName('const x = 1;', {}), null);
    const cells = [
      { index: 0, language: 'typescript', source: 'export const a = 1', metadata: {} },
      { index: 1, language: 'sql', source: 'export const b = 1', metadata: {} },
      { index: 2, language: 'typescript', source: 'export const a = 2', metadata: {} },
      { index: 3, language: 'typescript', source: 'export const c = 3', metadata: {} },
    ];
    const above = strategyCells(cells, 3);
    assert.deepEqual([...above.keys()], ['a']);
    assert.equal(above.get('a')!.index, 2, 'the later cell of a name wins');
  });

  it('errors name the cell and its line instead of the materialized file', () => {
    const files = new Map([['/d/strategies/abc.ts', 'flip']]);
    assert.equal(
      cellLocations("strategy 'flip' threw\n    at onBar (/d/strategies/abc.ts:7:12)\n at /d/strategies/abc.ts", files),
      'strategy \'flip\' threw\n    at onBar (strategy cell "flip", line 7:12)\n at strategy cell "flip"',
    );
  });
});
