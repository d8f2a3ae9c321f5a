#!/usr/bin/env node
// npm start: build, prepare the sample workspace (.sample-workspace/: seeded sample data, a
// workspace strategy, a .btnb notebook), install the packaged extension into a private
// code-server profile and serve VS Code at a printed http://127.0.0.1:PORT URL.
//   --prepare-only   build + sample workspace, no server (F5 uses this)
//   --reset          recreate .sample-workspace/ from sample-workspace/
//   --port N         fixed port (default: env PORT, else a free one)
//   --no-build       reuse dist/
// Ctrl-C stops code-server and everything it started (its own process group).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (f) => argv.includes(f);
const opt = (f) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);
const say = (s) => process.stdout.write(`[start] ${s}\n`);
const die = (s) => {
  process.stderr.write(`[start] error: ${s}\n`);
  process.exit(1);
};
if (Number(process.versions.node.split('.')[0]) < 24) {
  const node24 = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(node24)) die(`needs Node 24 (this is ${process.version}); run 'npm ci' first`);
  const r = spawnSync(node24, [fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const run = (args, what) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) die(`${what} failed (exit ${r.status}): node ${args.join(' ')}`);
};
const cli = (args) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { cwd: root, encoding: 'utf8' });

// 1. Build.
if (!flag('--no-build')) {
  say('building (node esbuild.mjs)');
  run(['esbuild.mjs'], 'build');
}

// 2. Sample workspace.
const ws = join(root, '.sample-workspace');
if (flag('--reset')) rmSync(ws, { recursive: true, force: true });
if (!existsSync(ws)) {
  cpSync(join(root, 'sample-workspace'), ws, { recursive: true });
  say(`created ${ws} from sample-workspace/`);
}
const dataDir = join(ws, 'data');
const listed = cli(['data', 'list', '--json', '--data-dir', dataDir]);
const hasDemo = listed.status === 0 && /"symbol":\s*"DEMO"/.test(listed.stdout);
if (!hasDemo) {
  say('generating the sample dataset DEMO (5 seeded synthetic XNYS sessions, trades + tbbo) and deriving bars');
  const out = mkdtempSync(join(tmpdir(), 'btnb-start-synth-'));
  const r = cli([
    'data',
    'synth',
    '--symbol',
    'DEMO',
    '--start',
    '2024-03-04',
    '--days',
    '5',
    '--seed',
    '1',
    '--out',
    out,
    '--import',
    '--derive',
    '--json',
    '--data-dir',
    dataDir,
  ]);
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) die(`btnb data synth failed (exit ${r.status}):\n${r.stderr}`);
  const id = /"dataset_id":\s*"(ds_[0-9a-f]+)"/.exec(r.stdout)?.[1];
  say(`sample dataset ${id ?? '(id not reported)'}`);
  if (id) {
    const b = cli([
      'backtest',
      '--dataset',
      id,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=10',
      '--param',
      'slow=30',
      '--data-dir',
      dataDir,
    ]);
    say(
      b.status === 0
        ? 'sample run: sma-cross fast=10 slow=30'
        : `no sample run (btnb backtest exited ${b.status}: ${b.stderr.trim().split('\n')[0] ?? ''})`,
    );
  }
} else {
  say('sample dataset DEMO already present');
}
if (flag('--prepare-only')) {
  say(`prepared ${ws}`);
  process.exit(0);
}

// 3. Private code-server profile with the packaged extension installed.
const { ensureCodeServer, nodeForCodeServer, installVsix, freePort } = await import('../test/vscode/codeServer.ts');
const entry = ensureCodeServer((l) => say(l));
run([join(root, 'scripts', 'package.mjs'), '--no-build'], 'packaging');
const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
const vsix = join(root, `${pkg.name}-${pkg.version}.vsix`);
const profile = join(process.env.BTNB_TOOLS_DIR || join(homedir(), '.cache', 'btnb-tools'), 'start-profile');
const ud = join(profile, 'user-data');
const ext = join(profile, 'extensions');
mkdirSync(join(ud, 'User'), { recursive: true });
mkdirSync(ext, { recursive: true });
if (!existsSync(join(ud, 'User', 'settings.json'))) {
  writeFileSync(
    join(ud, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'chat.disableAIFeatures': true,
      },
      null,
      2,
    ),
  );
}
installVsix(vsix, ext, ud);
say(`installed ${pkg.publisher}.${pkg.name}-${pkg.version} into ${ext}`);

// 4. Serve.
const port = Number(opt('--port') ?? process.env.PORT ?? (await freePort()));
const server = spawn(
  nodeForCodeServer(),
  [
    entry,
    '--config',
    '/dev/null',
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    ud,
    '--extensions-dir',
    ext,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    ws,
  ],
  { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
);
const stop = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
};
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});
process.on('SIGTERM', () => {
  stop();
  process.exit(143);
});
server.stderr.on('data', (b) => process.stderr.write(b));
server.on('exit', (code) => {
  say(`code-server exited (${code})`);
  process.exit(code ?? 1);
});
for (let i = 0; i < 100; i++) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    if (r.ok) break;
  } catch {
    /* not yet */
  }
  await new Promise((r) => setTimeout(r, 200));
}
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
say('VS Code with Backtest Notebook is ready:');
process.stdout.write(`\n    ${url}\n\n`);
say('Open the Backtest icon in the activity bar. Ctrl-C stops the server.');
