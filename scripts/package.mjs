#!/usr/bin/env node
// npm run package: production build, then `vsce package` → <repo>/<name>-<version>.vsix. .vscodeignore decides
// what ships (bundles + better-sqlite3 prebuilds + parquet-wasm/node + esbuild); dependencies are
// listed by vsce (npm list --production) but .vscodeignore whitelists only the files that load at run time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = join(root, `${pkg.name}-${pkg.version}.vsix`);
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: ${cmd} ${args.join(' ')} exited ${r.status}`);
    process.exit(r.status ?? 1);
  }
};
if (!process.argv.includes('--no-build')) run(process.execPath, ['esbuild.mjs', '--production']);

run(join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-rewrite-relative-links', '--allow-missing-repository', '--skip-license', '--allow-star-activation', '-o', out]);
console.log(`package: ${out} (${(statSync(out).size / 1e6).toFixed(2)} MB)`);
