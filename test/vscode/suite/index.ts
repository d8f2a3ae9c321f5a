// Entry point loaded by VS Code's extension host as `extensionTestsPath` (test-electron style):
// VS Code calls run() and ends the test session when its promise settles (reject = failure).
// esbuild bundles this file and every test/vscode/suite/**/*.test.ts into out/test/suite/index.js
// (the glob require below); mocha stays external and resolves from the repo's node_modules.
import Mocha from 'mocha';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';

/** Source folder of the suites, from out/test/suite/index.js (bundle) back to the repo. */
const SUITE_DIR = resolve(__dirname, '../../../test/vscode/suite');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** The bundled module of one suite file; `name` is its path relative to this folder, without `.test.ts`. */
function loadBundled(name: string): unknown {
  // esbuild turns this template into a map of every ./**/*.test.ts beside this file.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundler's require, resolved at build time
  return require(`./${name}.test.ts`);
}

/**
 * Rewrites `out/test/suite/index.js:L:C` frames to the .ts sources with the bundle's source map
 * (the extension host loads this bundle before any code here could enable --enable-source-maps).
 */
function sourceMappedStack(): (stack: string) => string {
  const mapFile = join(__dirname, 'index.js.map');
  if (!existsSync(mapFile)) return (s) => s;
  let map: SourceMap | undefined;
  return (stack) =>
    stack.replace(/([^\s(]*index\.js):(\d+):(\d+)/g, (whole, file: string, line: string, col: string) => {
      if (!resolve(file).startsWith(resolve(__dirname)) && !file.endsWith('out/test/suite/index.js')) return whole;
      map ??= new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
      const e = map.findEntry(Number(line) - 1, Number(col) - 1) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (!e.originalSource) return whole;
      const src = e.originalSource.startsWith('file://') ? e.originalSource.slice(7) : resolve(__dirname, e.originalSource);
      return `${src}:${e.originalLine! + 1}:${e.originalColumn! + 1}`;
    });
}

export function run(): Promise<void> {
  const grep = process.env.BTNB_VSCODE_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, ...(grep ? { grep } : {}) });
  const files = findTests(SUITE_DIR);
  for (const file of files) {
    const name = relative(SUITE_DIR, file)
      .split(sep)
      .join('/')
      .replace(/\.test\.ts$/, '');
    mocha.suite.emit('pre-require', globalThis, file, mocha);
    let mod: unknown;
    try {
      mod = loadBundled(name);
    } catch (e) {
      if (String(e).includes('Module not found in bundle')) {
        return Promise.reject(new Error(`${file} is not in out/test/suite/index.js: rebuild with 'node esbuild.mjs' (${String(e)})`));
      }
      return Promise.reject(e);
    }
    mocha.suite.emit('require', mod, file, mocha);
    mocha.suite.emit('post-require', globalThis, file, mocha);
  }

  return new Promise((resolvePromise, reject) => {
    const mapStack = sourceMappedStack();
    const runner = mocha.run((failures) => {
      const s = runner.stats ?? { passes: 0, failures, pending: 0 };
      const stats = { passes: s.passes, failures: s.failures, pending: s.pending, files: files.length };
      // The launcher (test/vscode/run.mjs) reads this file for the closing summary line.
      if (process.env.BTNB_VSCODE_STATS_FILE) writeFileSync(process.env.BTNB_VSCODE_STATS_FILE, JSON.stringify(stats));
      console.log(`[btnb-suite] ${stats.passes} passing, ${stats.failures} failing, ${stats.pending} pending`);
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolvePromise();
    });
    // The spec reporter prints failures at the end; map their stacks before that.
    runner.on('fail', (_test, err: Error) => {
      if (err && typeof err.stack === 'string') err.stack = mapStack(err.stack);
    });
  });
}
