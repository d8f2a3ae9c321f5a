#!/usr/bin/env node
// npm run package [-- --target T ...| --all-targets] [--no-build]
//
// Production build, then `vsce package`. .vscodeignore decides what ships (bundles +
// better-sqlite3 prebuilds + parquet-wasm/node + esbuild); dependencies are listed by vsce
// (npm list --production) but .vscodeignore whitelists only the files that load at run time.
//
// Without --target: one universal <name>-<version>.vsix with every better-sqlite3 prebuild and
// the esbuild binaries installed here (this machine's platform only — npm installs just that
// one). With --target T: a platform-specific <name>-<version>@T.vsix (vsce --target) carrying
// T's better-sqlite3 prebuild and T's esbuild binary, fetched from the npm registry when this
// machine does not have it — so user .ts strategies, which esbuild bundles at run time, work
// on every platform the Marketplace serves.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const esbuildVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;

/** vsce target → the better-sqlite3 prebuild and the @esbuild package whose binary runs there. */
const TARGETS = {
  'linux-x64': { sqlite: 'linux-x64', esbuild: 'linux-x64' },
  'linux-arm64': { sqlite: 'linux-arm64', esbuild: 'linux-arm64' },
  // esbuild's Linux binaries are static Go executables: the same ones run on musl.
  'alpine-x64': { sqlite: 'linuxmusl-x64', esbuild: 'linux-x64' },
  'alpine-arm64': { sqlite: 'linuxmusl-arm64', esbuild: 'linux-arm64' },
  'darwin-x64': { sqlite: 'darwin-x64', esbuild: 'darwin-x64' },
  'darwin-arm64': { sqlite: 'darwin-arm64', esbuild: 'darwin-arm64' },
  'win32-x64': { sqlite: 'win32-x64', esbuild: 'win32-x64' },
  'win32-arm64': { sqlite: 'win32-arm64', esbuild: 'win32-arm64' },
};

const fail = (msg) => {
  console.error(`package: ${msg}`);
  process.exit(1);
};
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return r;
};

function parseArgs(argv) {
  const targets = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') {
      const t = argv[++i];
      if (!t || !(t in TARGETS)) fail(`--target: expected one of ${Object.keys(TARGETS).join(', ')}, got ${t ?? 'nothing'}`);
      targets.push(t);
    } else if (argv[i] === '--all-targets') targets.push(...Object.keys(TARGETS));
    else if (argv[i] !== '--no-build') fail(`unknown argument ${argv[i]} (expected --target T, --all-targets, --no-build)`);
  }
  return { targets: [...new Set(targets)], build: !argv.includes('--no-build') };
}

/**
 * node_modules/@esbuild/<name> for another platform: `npm pack` it from the registry (same
 * version as esbuild, which checks it) and unpack it in place. Returns a cleanup that removes
 * it again, so node_modules stays as npm left it.
 */
function stageEsbuildBinary(name) {
  const dest = join(root, 'node_modules', '@esbuild', name);
  if (existsSync(join(dest, 'package.json'))) return () => {};
  const tmp = mkdtempSync(join(tmpdir(), 'btnb-esbuild-'));
  try {
    const r = spawnSync('npm', ['pack', `@esbuild/${name}@${esbuildVersion}`, '--pack-destination', tmp, '--silent'], {
      cwd: tmp,
      encoding: 'utf8',
    });
    if (r.status !== 0) fail(`npm pack @esbuild/${name}@${esbuildVersion} failed: ${r.stderr.trim()}`);
    const tgz = join(tmp, r.stdout.trim().split('\n').pop());
    run('tar', ['-xzf', tgz, '-C', tmp]);
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(join(tmp, 'package'), dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return () => rmSync(dest, { recursive: true, force: true });
}

/** .vscodeignore with the native whitelist narrowed to one target's files. */
function targetIgnoreFile(target) {
  const { sqlite, esbuild } = TARGETS[target];
  const lines = readFileSync(join(root, '.vscodeignore'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('!node_modules/better-sqlite3/prebuilds/') && !l.startsWith('!node_modules/@esbuild/'));
  lines.push(
    `# ${target} only (scripts/package.mjs)`,
    `!node_modules/better-sqlite3/prebuilds/${sqlite}.node`,
    `!node_modules/@esbuild/${esbuild}/package.json`,
    `!node_modules/@esbuild/${esbuild}/bin/esbuild`,
    `!node_modules/@esbuild/${esbuild}/esbuild.exe`,
  );
  const file = join(mkdtempSync(join(tmpdir(), 'btnb-vscodeignore-')), '.vscodeignore');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const vsceArgs = ['package', '--no-rewrite-relative-links', '--allow-missing-repository', '--skip-license', '--allow-star-activation'];
const vsce = join(root, 'node_modules', '.bin', 'vsce');
const { targets, build } = parseArgs(process.argv.slice(2));
if (build) run(process.execPath, ['esbuild.mjs', '--production']);

if (targets.length === 0) {
  const out = join(root, `${pkg.name}-${pkg.version}.vsix`);
  run(vsce, [...vsceArgs, '-o', out]);
  console.log(`package: ${out} (${(statSync(out).size / 1e6).toFixed(2)} MB)`);
}
for (const target of targets) {
  const out = join(root, `${pkg.name}-${pkg.version}@${target}.vsix`);
  const cleanup = stageEsbuildBinary(TARGETS[target].esbuild);
  const ignore = targetIgnoreFile(target);
  try {
    run(vsce, [...vsceArgs, '--target', target, '--ignoreFile', ignore, '-o', out]);
  } finally {
    cleanup();
    rmSync(dirname(ignore), { recursive: true, force: true });
  }
  console.log(`package: ${out} (${(statSync(out).size / 1e6).toFixed(2)} MB, ${target})`);
}
