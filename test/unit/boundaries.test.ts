import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
