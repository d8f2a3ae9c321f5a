/**
 * User strategy files: a workspace `.ts`/`.js` file bundled with esbuild at run time into one
 * CommonJS string and evaluated in this process (the job/CLI child, never the extension host).
 *
 * `import { defineStrategy, z } from 'backtest-notebook'` and `import { z } from 'zod'` resolve
 * to the engine's own modules (so there is one zod and one API); local imports are bundled;
 * Node built-ins are allowed. The module must export its strategy as `default` or `strategy`
 * (or as its only export that looks like one).
 *
 * The source hash is SHA-256 over the contents of every bundled input (sorted by their own
 * hashes, so it does not depend on where the workspace lives) plus the esbuild version.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';
import { readFile } from 'node:fs/promises';
import { resolve, dirname } from 'node:path';
import * as zod from 'zod';
import * as api from './api.ts';
import type { StrategyDefinition } from './strategy.ts';
import { mapStack, registerSourceMap } from './sourceMap.ts';

export interface LoadedStrategy {
  def: StrategyDefinition;
  /** SHA-256 (hex) of the strategy's bundled sources. */
  sourceHash: string;
  path: string;
  /** The bundled inputs, relative to the entry's folder (what sourceHash covers): a distributed sweep ships them. */
  inputs: string[];
}

export class StrategyLoadError extends Error {
  override name = 'StrategyLoadError';
}

const API_MODULES: Record<string, unknown> = { 'backtest-notebook': api, zod };
/** Time a strategy module's top-level code may take to evaluate. */
const LOAD_TIMEOUT_MS = 10_000;

function looksLikeStrategy(v: unknown): v is StrategyDefinition {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as StrategyDefinition).id === 'string' &&
    typeof (v as StrategyDefinition).onBar === 'function' &&
    !!(v as StrategyDefinition).params
  );
}

export async function loadStrategyFile(file: string): Promise<LoadedStrategy> {
  const path = resolve(file);
  if (!/\.(ts|mts|cts|js|mjs|cjs)$/.test(path)) throw new StrategyLoadError(`${path}: expected a .ts or .js strategy file`);
  try {
    await readFile(path);
  } catch (e) {
    throw new StrategyLoadError(`${path}: cannot read the strategy file (${(e as Error).message})`);
  }
  const esbuild = await import('esbuild');
  let out: Awaited<ReturnType<typeof esbuild.build>>;
  try {
    out = await esbuild.build({
      entryPoints: [path],
      absWorkingDir: dirname(path),
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'node',
      target: 'node22',
      // A separate map: V8 would not apply an inline one to evaluated code, sourceMap.ts does.
      sourcemap: 'external',
      outfile: `${path}.bundle.js`,
      metafile: true,
      logLevel: 'silent',
      external: ['backtest-notebook', 'backtest-notebook/*', 'zod', 'zod/*'],
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
    const lines = errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text));
    throw new StrategyLoadError(`${path}: bundling failed\n${lines.join('\n') || (e as Error).message}`);
  }
  const code = out.outputFiles!.find((f) => f.path.endsWith('.bundle.js'))!.text;
  const map = out.outputFiles!.find((f) => f.path.endsWith('.bundle.js.map'))?.text;
  const inputs = Object.keys(out.metafile!.inputs).sort();
  const parts = await Promise.all(
    inputs.map(async (p) =>
      createHash('sha256')
        .update(await readFile(resolve(dirname(path), p)))
        .digest('hex'),
    ),
  );
  const sourceHash = createHash('sha256')
    .update(`esbuild@${esbuild.version}\n${parts.sort().join('\n')}`)
    .digest('hex');

  const nodeRequire = createRequire(path);
  const req = (id: string): unknown => {
    const base = id.startsWith('zod') ? 'zod' : id.startsWith('backtest-notebook') ? 'backtest-notebook' : null;
    if (base) return API_MODULES[base];
    return nodeRequire(id);
  };
  // Stack frames into the bundle map back to the strategy's own lines (StrategyError, load errors).
  if (map) registerSourceMap(path, map, (s) => resolve(dirname(path), s));
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  try {
    // Evaluated like a CommonJS module (the wrapper shares the bundle's first line, so stack
    // lines are bundle lines; the file name names the strategy in stack traces). The module body
    // runs inside the script, under a time limit: a top-level loop that never ends is stopped.
    const g = globalThis as { __btnbLoadStrategy?: (fn: (...a: unknown[]) => void) => void };
    g.__btnbLoadStrategy = (fn) => fn(mod, mod.exports, req, path, dirname(path));
    try {
      runInThisContext(`__btnbLoadStrategy(function (module, exports, require, __filename, __dirname) {${code}\n})`, {
        filename: path,
        timeout: LOAD_TIMEOUT_MS,
      });
    } finally {
      delete g.__btnbLoadStrategy;
    }
  } catch (e) {
    const err = new StrategyLoadError(`${path}: evaluating the strategy module threw: ${(e as Error).message}`);
    err.stack = `${err.stack}\n${mapStack((e as Error).stack ?? '')}`;
    throw err;
  }
  const ex = mod.exports;
  let def: unknown = ex.default ?? ex.strategy;
  if (!looksLikeStrategy(def)) {
    const candidates = Object.values(ex).filter(looksLikeStrategy);
    def = candidates.length === 1 ? candidates[0] : undefined;
  }
  if (!looksLikeStrategy(def)) {
    throw new StrategyLoadError(
      `${path}: no strategy export found (expected \`export default defineStrategy({...})\` or \`export const strategy = ...\`; exports: ${Object.keys(ex).join(', ') || 'none'})`,
    );
  }
  return { def, sourceHash, path, inputs };
}
