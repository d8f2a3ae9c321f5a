// Builds every target. Node targets are CJS bundles; native/wasm packages stay external
// (they load their own binaries relative to their package folder).
import * as esbuild from 'esbuild';
import { mkdirSync, chmodSync, readdirSync, existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const nodeExternal = ['vscode', 'better-sqlite3', 'parquet-wasm', '@duckdb/node-api', 'esbuild'];

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
  loader: { '.sql': 'text' },
};

/** Child-process job entry points: every src/engine/jobs/*Job.ts becomes dist/jobs/<name>.js. */
function jobEntries() {
  const dir = 'src/engine/jobs';
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('Job.ts')).map((f) => `${dir}/${f}`);
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
  },
  {
    ...common,
    entryPoints: { cli: 'src/engine/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: nodeExternal,
    banner: { js: '#!/usr/bin/env node' },
  },
];
const jobs = jobEntries();
if (jobs.length > 0) {
  targets.push({ ...common, entryPoints: jobs, outdir: 'dist/jobs', platform: 'node', format: 'cjs', target: 'node22', external: nodeExternal });
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
  });
}

mkdirSync('dist', { recursive: true });
if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  chmodSync('dist/cli.js', 0o755);
}
