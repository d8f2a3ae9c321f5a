/**
 * A user strategy travels to workers as its bundled inputs (the files esbuild read, relative to
 * the entry's folder) — exactly what its code_hash covers (userStrategy.ts: location-independent
 * hashes of every input plus the esbuild version). The worker lays them out under its cache and
 * loads them with the same loader, so it recomputes code_hash itself and refuses a mismatch
 * instead of trusting a hash it was sent.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import type { ResolvedStrategy } from '../backtest/runner.ts';
import type { StrategySources } from './protocol.ts';

/** The coordinator's side: a user strategy's inputs with their text (null for a built-in). */
export async function strategySources(s: ResolvedStrategy): Promise<StrategySources | null> {
  if (!s.path) return null;
  const dir = dirname(s.path);
  const files = await Promise.all(
    s.inputs.map(async (p) => ({ path: p.split(sep).join('/'), text: await readFile(resolve(dir, p), 'utf8') })),
  );
  const entry = files.find((f) => resolve(dir, f.path) === s.path)?.path;
  if (!entry) throw new Error(`${s.path}: the strategy's bundle inputs do not include the file itself`);
  return { entry, files };
}

/**
 * The worker's side: the inputs written under `<cacheDir>/strategies/<code_hash>/` (once; a
 * temp folder renamed into place) and the entry's path there. Parent-relative inputs (`../lib.ts`)
 * keep their layout: the entry sits as many folders deep as the deepest `..` climbs.
 */
export async function layOutSources(cacheDir: string, codeHash: string, src: StrategySources): Promise<string> {
  const up = Math.max(0, ...src.files.map((f) => f.path.split('/').filter((s) => s === '..').length));
  const nest = Array.from({ length: up }, (_, i) => `d${i}`);
  const root = join(cacheDir, 'strategies', codeHash);
  const entry = normalize(join(root, ...nest, src.entry));
  if (!entry.startsWith(root + sep) || !src.files.some((f) => f.path === src.entry))
    throw new Error(`strategy entry '${src.entry}' is not one of its inputs inside its folder`);
  if (existsSync(entry)) return entry;
  const tmp = `${root}.${process.pid}.${Date.now()}.tmp`;
  try {
    for (const f of src.files) {
      const target = normalize(join(tmp, ...nest, f.path));
      if (!target.startsWith(tmp + sep)) throw new Error(`strategy input '${f.path}' climbs out of its folder`);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, f.text);
    }
    await mkdir(dirname(root), { recursive: true });
    try {
      await rename(tmp, root);
    } catch (err) {
      // another slot of this worker laid out the same strategy first: its files are the same
      if (!existsSync(entry)) throw err;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return entry;
}
