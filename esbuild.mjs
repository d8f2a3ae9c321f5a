// Builds every target. Node targets are CJS bundles; native/wasm packages stay external
// (they load their own binaries relative to their package folder).
import * as esbuild from 'esbuild';
import { mkdirSync, chmodSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const nodeExternal = ['vscode', 'better-sqlite3', 'parquet-wasm', '@duckdb/node-api', 'esbuild'];

/** zod re-exports all its locales from one index; every bundle speaks English only (~260 KiB less each). */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${'node_modules'}/zod/`)
        ? { path: new URL('src/webview/lib/zodLocales.js', import.meta.url).pathname }
        : undefined,
    );
  },
};

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
  loader: { '.sql': 'text' },
  plugins: [zodEnglishOnly],
};

/**
 * Child-process job entry points: every src/engine/jobs/<name>Job.ts becomes the bundle
 * dist/jobs/<name>Job.main.js, started through the bootstrap dist/jobs/<name>Job.js (the file the
 * extension forks, see writeBootstraps). Keys: output names.
 */
function jobEntries() {
  const dir = 'src/engine/jobs';
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('Job.ts'))
      .map((f) => [`${f.slice(0, -'.ts'.length)}.main`, `${dir}/${f}`]),
  );
}

/**
 * A bootstrap that turns on Node's on-disk compile cache, then loads the bundle `main` beside
 * it: the cache applies to modules loaded after it is enabled, so it cannot live in the bundle
 * itself. Without it every start compiles the whole bundle (bench: ~90 ms less wall per
 * `btnb backtest`). The cache lives in the OS temp dir (or NODE_COMPILE_CACHE); a stale or
 * missing one is only slower.
 */
function bootstrap(main, what) {
  return [
    `// ${what}: the compile cache first (it applies to modules loaded after it), then ${main}.`,
    "'use strict';",
    'try {',
    "  require('node:module').enableCompileCache?.();",
    '} catch {',
    '  // an unwritable temp dir only means no cache',
    '}',
    `require('./${main}');`,
    '',
  ].join('\n');
}

/**
 * dist/cli.js (`btnb`) loads dist/cli-main.js; each forked job child dist/jobs/<name>Job.js
 * loads dist/jobs/<name>Job.main.js — the same start-up for the CLI and the extension's jobs.
 */
function writeBootstraps() {
  mkdirSync('dist/jobs', { recursive: true });
  writeFileSync('dist/cli.js', `#!/usr/bin/env node\n${bootstrap('cli-main.js', 'btnb')}`);
  chmodSync('dist/cli.js', 0o755);
  for (const name of Object.keys(jobEntries())) {
    const job = name.slice(0, -'.main'.length);
    writeFileSync(`dist/jobs/${job}.js`, bootstrap(`${name}.js`, `job child ${job} (forked by the extension host)`));
  }
}

const targets = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: nodeExternal,
    inject: ['src/extension/zodHost.ts'],
  },
  // The CLI bundle; dist/cli.js is the small bootstrap written below that loads it.
  {
    ...common,
    entryPoints: { 'cli-main': 'src/engine/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: nodeExternal,
  },
  // The strategy sandbox's thread (src/engine/backtest/sandbox.ts), beside the bundles that start it.
  {
    ...common,
    entryPoints: { sandboxWorker: 'src/engine/backtest/sandboxWorker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: nodeExternal,
  },
];
const jobs = jobEntries();
if (Object.keys(jobs).length > 0) {
  targets.push({
    ...common,
    entryPoints: jobs,
    outdir: 'dist/jobs',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: nodeExternal,
  });
}
// Extension-host integration tests (run inside code-server's extension host).
if (existsSync('test/vscode/suite/index.ts')) {
  targets.push({
    ...common,
    entryPoints: { index: 'test/vscode/suite/index.ts' },
    outdir: 'out/test/suite',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: [...nodeExternal, 'mocha'],
    inject: ['src/extension/zodHost.ts'],
  });
}

// Webviews (src/webview): browser ES modules, code-split so Plotly (a partial bundle of the
// traces the views use, see src/webview/lib/plotly.ts) loads only in views that chart. Plotly's
// sources need: GLSL shaders as text, its regl fork, and no Node built-ins (typedarray-pool
// only touches Buffer for an API we never call; the map CSS belongs to traces we leave out).
const emptyModule = 'src/webview/lib/empty.cjs';
targets.push({
  ...common,
  entryPoints: { main: 'src/webview/main.tsx', renderer: 'src/notebook/renderer.tsx' },
  outdir: 'dist/webview',
  platform: 'browser',
  format: 'esm',
  splitting: true,
  target: ['chrome120'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  loader: { '.glsl': 'text' },
  define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
  alias: {
    regl: '@plotly/regl',
    buffer: `./${emptyModule}`,
    stream: `./${emptyModule}`,
    'maplibre-gl/dist/maplibre-gl.css': `./${emptyModule}`,
  },
  chunkNames: 'chunk-[name]-[hash]',
  metafile: true,
  plugins: [zodEnglishOnly],
  // Always minified: the webview parses this on every open (first paint), debug or not.
  minify: true,
});

/**
 * dist/webview/manifest.json: which chunks a view page should preload (<link rel=modulepreload>)
 * so the browser fetches and compiles them while main.js starts — all views need main's static
 * imports, charting views also Plotly's core chunk and its imports.
 */
function writeWebviewManifest(meta) {
  const outputs = meta.outputs;
  const name = (f) => f.replace(/^dist\/webview\//, '');
  const closure = (start) => {
    const seen = new Set();
    const visit = (f) => {
      for (const i of outputs[f]?.imports ?? [])
        if (i.kind === 'import-statement' && !seen.has(i.path)) {
          seen.add(i.path);
          visit(i.path);
        }
    };
    visit(start);
    return [...seen];
  };
  const main = Object.keys(outputs).find((f) => outputs[f].entryPoint === 'src/webview/main.tsx');
  const plotly = Object.keys(outputs).find((f) => /chunk-plotly-[^/]*\.js$/.test(f));
  const manifest = {
    main: name(main),
    css: name(outputs[main].cssBundle),
    preload: closure(main).map(name),
    charts: plotly ? [plotly, ...closure(plotly)].map(name).filter((f) => !closure(main).map(name).includes(f)) : [],
  };
  writeFileSync('dist/webview/manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
}

mkdirSync('dist', { recursive: true });
// Chunk names carry content hashes: drop the previous build's so stale chunks never ship.
if (!watch) rmSync('dist/webview', { recursive: true, force: true });
if (watch) {
  writeBootstraps();
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  const results = await Promise.all(targets.map((t) => esbuild.build(t)));
  writeWebviewManifest(results[targets.findIndex((t) => t.outdir === 'dist/webview')].metafile);
  // What each webview chunk weighs (Plotly stays out of the entry and of the host bundle).
  if (process.argv.includes('--sizes')) {
    for (const r of results)
      for (const [f, o] of Object.entries(r.metafile?.outputs ?? {}))
        if (f.endsWith('.js')) console.log(`${(o.bytes / 1024).toFixed(0).padStart(6)} KiB  ${f}`);
  }
  writeBootstraps();
}
