/**
 * The catalog DDL text, in both worlds: bundled by esbuild (dist/*.js, CJS) the text loader
 * inlines schema.sql at the `require` below; run from source by Node's type stripping (unit
 * tests, child test scripts) there is no `require` and the file is read next to this module.
 * The module's own location comes from util.getCallSites rather than `import.meta.url`, which
 * esbuild's CJS output cannot represent (it would warn on every build and bundle a dead `{}`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getCallSites } from 'node:util';

declare const require: ((id: string) => unknown) | undefined;

let cached: string | null = null;

function thisModuleDir(): string {
  const script = getCallSites(1)[0]?.scriptName;
  if (!script) throw new Error('catalog schema.sql: cannot locate the schemaSql module (no call site)');
  return dirname(script.startsWith('file:') ? fileURLToPath(script) : script);
}

export function loadSchemaSql(): string {
  if (cached !== null) return cached;
  let text: string;
  if (typeof require === 'function') {
    const mod = require('./schema.sql') as string | { default: string };
    text = typeof mod === 'string' ? mod : mod.default;
  } else {
    const file = join(thisModuleDir(), 'schema.sql');
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`${file}: cannot read the catalog schema: ${(err as Error).message}`, { cause: err });
    }
  }
  if (!text.includes('CREATE TABLE runs')) throw new Error('catalog schema.sql: loaded text does not contain the runs table (bad bundle?)');
  cached = text;
  return text;
}
