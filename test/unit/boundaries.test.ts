import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** src/engine is pure: it must not import vscode or the other rooms (extension, webview, notebook). */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx|mts|cts|js)$/.test(name) ? [p] : [];
  });
}

describe('room boundaries', () => {
  it('src/engine imports neither vscode nor the extension, webview or notebook rooms', () => {
    const offenders: string[] = [];
    const pattern = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](vscode|[./]+(?:extension|webview|notebook)(?:\/[^'"]*)?)['"]/g;
    for (const file of files('src/engine')) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(pattern)) offenders.push(`${file}: ${m[1]}`);
    }
    assert.deepEqual(offenders, []);
  });

  it('the boundary check itself catches a vscode import', () => {
    const pattern = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](vscode|[./]+(?:extension|webview|notebook)(?:\/[^'"]*)?)['"]/g;
    assert.equal([..."import * as vscode from 'vscode';".matchAll(pattern)].length, 1);
    assert.equal([..."import { x } from '../extension/foo.ts';".matchAll(pattern)].length, 1);
    assert.equal([..."import { x } from './dbn/decoder.ts';".matchAll(pattern)].length, 0);
  });
});

/** Relative imports of a source file, resolved to paths. */
function importsOf(file: string): { spec: string; resolved: string | null }[] {
  const text = readFileSync(file, 'utf8');
  const out: { spec: string; resolved: string | null }[] = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = (m[1] ?? m[2] ?? m[3])!;
    out.push({ spec, resolved: spec.startsWith('.') ? join(file, '..', spec) : null });
  }
  return out;
}

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
    const { offenders, seen } = browserOffenders(files('src/webview').filter((f) => /\.(ts|tsx)$/.test(f)));
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
