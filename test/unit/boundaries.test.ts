import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importsOf, sourceFiles } from './support/importGraph.ts';

/** src/engine is pure: it must not import vscode or the other rooms (extension, webview, notebook). */
function engineOffends(spec: string): boolean {
  return spec === 'vscode' || /^[./]+(?:\/[^'"]*)?(?:extension|webview|notebook)(?:\/|$)/.test(spec);
}

describe('room boundaries', () => {
  it('src/engine imports neither vscode nor the extension, webview or notebook rooms', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles('src/engine'))
      for (const e of importsOf(file)) if (engineOffends(e.spec)) offenders.push(`${file}:${e.line}: ${e.spec}`);
    assert.deepEqual(offenders, []);
  });

  it('the boundary check itself catches a vscode import', () => {
    assert.equal(engineOffends('vscode'), true);
    assert.equal(engineOffends('../extension/foo.ts'), true);
    assert.equal(engineOffends('../../webview/lib/time.ts'), true);
    assert.equal(engineOffends('./dbn/decoder.ts'), false);
    const [edge] = importsOf('x.ts', "const v = await import('vscode');\n");
    assert.equal(edge?.dynamic, true);
    assert.equal(engineOffends(edge.spec), true);
  });
});

const NODE_BUILTINS = new Set([
  'fs',
  'path',
  'os',
  'crypto',
  'child_process',
  'http',
  'https',
  'net',
  'stream',
  'url',
  'util',
  'zlib',
  'events',
  'worker_threads',
  'readline',
  'buffer',
  'process',
]);

/** Walks the import graph from `start`, collecting imports that browser code must not have. */
function browserOffenders(start: string[]): { offenders: string[]; seen: Set<string> } {
  const offenders: string[] = [];
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { spec, resolved } of importsOf(file)) {
      const bare = spec.replace(/^node:/, '').split('/')[0]!;
      if (
        spec === 'vscode' ||
        spec.startsWith('node:') ||
        NODE_BUILTINS.has(bare) ||
        /(^|\/)src\/extension\/|\.\.\/extension\//.test(`${resolved ?? ''} ${spec}`)
      )
        offenders.push(`${file}: ${spec}`);
      if (resolved && /\.(ts|tsx)$/.test(resolved) && existsSync(resolved)) queue.push(resolved);
    }
  }
  return { offenders, seen };
}

describe('room boundaries: the webviews are browser code', () => {
  it('src/webview (and every engine module it reaches) imports no vscode, no src/extension and no Node built-in', () => {
    const { offenders, seen } = browserOffenders([...sourceFiles('src/webview'), 'src/notebook/renderer.tsx']);
    assert.ok(seen.size > 20, `walked ${seen.size} files`);
    assert.ok(
      [...seen].some((f) => f.startsWith('src/engine/')),
      'the walk reaches shared engine modules',
    );
    assert.deepEqual(offenders, []);
  });

  it('the webview check catches a Node built-in reached through another module, and an extension import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'btnb-bound-'));
    writeFileSync(join(dir, 'view.tsx'), "import { x } from './shared.ts';\nimport './other.ts';\n");
    writeFileSync(join(dir, 'shared.ts'), "import { readFileSync } from 'node:fs';\nexport const x = 1;\n");
    writeFileSync(join(dir, 'other.ts'), "export { y } from '../extension/ui.ts';\n");
    const { offenders } = browserOffenders([join(dir, 'view.tsx')]);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(offenders.length, 2, offenders.join('\n'));
  });
});
