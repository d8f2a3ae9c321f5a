/**
 * One source of truth: no import cycles anywhere (static or dynamic imports), one module per
 * concept (grid grammar, costs grammar, zstd frame walker), and a repository that does not point
 * outside itself.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { importCycles, importsOf, sourceFiles } from './support/importGraph.ts';

const ROOTS = ['src', 'test', 'bench', 'scripts'];
const all = () => ROOTS.flatMap((d) => sourceFiles(d)).filter((f) => !f.startsWith('bench/scratch/'));

describe('rooms', () => {
  it('the sweep room is entered through sweep/index.ts (running) or sweep/grid.ts (the grammar) only', () => {
    const inside = (f: string) => f.startsWith('src/engine/sweep/');
    const bad: string[] = [];
    for (const f of sourceFiles('src').filter((x) => !inside(x)))
      for (const e of importsOf(f))
        if (e.resolved && inside(e.resolved) && !/^src\/engine\/sweep\/(index|grid)\.ts$/.test(e.resolved))
          bad.push(`${f}:${e.line} → ${e.resolved}`);
    assert.deepEqual(bad, []);
  });

  it('the engine room (backtest/) holds no sweep machinery and no CLI option parsing', () => {
    const names = readdirSync('src/engine/backtest');
    for (const n of [
      'grid.ts',
      'sweep.ts',
      'sweepProtocol.ts',
      'sweepWorker.ts',
      'workerPool.ts',
      'walkForward.ts',
      'walkForwardRun.ts',
      'cliOptions.ts',
    ])
      assert.ok(!names.includes(n), `src/engine/backtest/${n}`);
  });
});

describe('import cycles', () => {
  it('there is none among the sources, tests, benchmarks and scripts (static, side-effect and dynamic imports)', () => {
    const files = all();
    assert.ok(files.length > 250, `walked ${files.length} files`);
    assert.deepEqual(importCycles(files), []);
  });

  it('the check finds a cycle through a dynamic import and a re-export, and ignores type-only imports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'btnb-cycles-'));
    try {
      const f = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const files = [
        f('a.ts', "export const a = async () => (await import('./b.ts')).b;\n"),
        f('b.ts', "export { c as b } from './c.ts';\n"),
        f('c.ts', "import './a.ts';\nexport const c = 1;\n"),
        f('d.ts', "import type { e } from './e.ts';\nexport const d: typeof e = 1;\n"),
        f('e.ts', "import { d } from './d.ts';\nexport const e = d;\n"),
        f('self.ts', "export const s = () => require('./self.ts');\n"),
      ];
      const cycles = importCycles(files, dir);
      assert.deepEqual(cycles.sort(), [['a.ts', 'b.ts', 'c.ts'], ['self.ts']]);
      const edges = importsOf(files[3]!);
      assert.deepEqual(
        edges.map((e) => [e.spec, e.typeOnly, e.dynamic]),
        [['./e.ts', true, false]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Names of the functions, classes and variables a file declares at its top level. */
function declaredNames(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  for (const st of sf.statements) {
    if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) names.push(st.name.text);
    else if (ts.isVariableStatement(st))
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
  }
  return names;
}

describe('one module per concept', () => {
  const src = () => sourceFiles('src');
  const grammar = (home: string, pattern: RegExp) => {
    const strays: string[] = [];
    for (const file of src()) {
      if (file === home) continue;
      for (const name of declaredNames(file)) if (pattern.test(name)) strays.push(`${file}: ${name}`);
    }
    return strays;
  };

  it('grids are parsed and enumerated only in src/engine/sweep/grid.ts', () => {
    const pattern = /^(parse|expand|enumerate|normalize)\w*grid|^grid(points|size|from|to)/i;
    assert.ok(declaredNames('src/engine/sweep/grid.ts').filter((n) => pattern.test(n)).length >= 5, 'the pattern names grid.ts');
    assert.deepEqual(grammar('src/engine/sweep/grid.ts', pattern), []);
  });

  it('costs are parsed and converted only in src/engine/backtest/costs.ts', () => {
    const pattern = /^(parse|normalize|to)\w*costs?$|^costs(from|text)|^parse\w*costs/i;
    assert.ok(declaredNames('src/engine/backtest/costs.ts').filter((n) => pattern.test(n)).length >= 3, 'the pattern names costs.ts');
    assert.deepEqual(grammar('src/engine/backtest/costs.ts', pattern), []);
  });

  it('the zstd frame format (magic, header state machine) lives only in src/engine/dbn/zstdFrames.ts; the download check calls it', () => {
    const magic = /0x0*fd2fb528|0x28\b[^;\n]{0,40}0xb5\b|\\x28\\xb5\\x2f\\xfd|28\s?b5\s?2f\s?fd/i;
    const holders = src().filter((f) => magic.test(readFileSync(f, 'utf8')));
    assert.deepEqual(holders, ['src/engine/dbn/zstdFrames.ts']);
    assert.ok(
      importsOf('src/engine/databento/zstdFrames.ts').some((e) => e.resolved === 'src/engine/dbn/zstdFrames.ts' && !e.typeOnly),
      'databento/zstdFrames.ts is a caller of dbn/zstdFrames.ts',
    );
  });

  it('job results are not cast in src/extension: they arrive typed (RESULT_BY_KIND)', () => {
    const casts: string[] = [];
    for (const file of sourceFiles('src/extension')) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\.(result|payload)\s+as\s+[A-Z{]/g)) casts.push(`${file}: ${m[0]}`);
    }
    assert.deepEqual(casts, []);
  });
});

describe('a self-contained repository', () => {
  it('nothing in README.md, docs, src, test, scripts or bench points to a path outside the repository', () => {
    const outside = `..${'/'}shared`; // spelled apart so this file does not match itself
    const files = ['README.md', ...ROOTS.flatMap((d) => sourceFiles(d)), ...markdown('docs')];
    const hits = files.filter((f) => readFileSync(f, 'utf8').includes(outside));
    assert.deepEqual(hits, []);
  });
});

function markdown(dir: string): string[] {
  return readdirSyncSafe(dir)
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(dir, n));
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
