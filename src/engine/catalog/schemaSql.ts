/**
 * The catalog DDL text, in both worlds: bundled by esbuild (dist/*.js, CJS) the text loader
 * inlines schema.sql at the `require` below; run from source by Node's type stripping (unit
 * tests, child test scripts) there is no `require` and the file is read next to this module.
 */
import { readFileSync } from 'node:fs';

declare const require: ((id: string) => unknown) | undefined;

let cached: string | null = null;

export function loadSchemaSql(): string {
  if (cached !== null) return cached;
  let text: string;
  if (typeof require === 'function') {
    const mod = require('./schema.sql') as string | { default: string };
    text = typeof mod === 'string' ? mod : mod.default;
  } else {
    text = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
  }
  if (!text.includes('CREATE TABLE runs')) throw new Error('catalog schema.sql: loaded text does not contain the runs table (bad bundle?)');
  cached = text;
  return text;
}
