// A private code-server (real VS Code 1.139.1 + Node extension host) per test run.
// Used by the extension-host integration runner (test/vscode/run.mjs) and the Chromium
// end-to-end helpers (test/e2e/browser.ts). See docs/DEVELOPING.md ("Tests in real VS Code and Chromium").
//
// The server runs in its own process group (detached spawn = setsid) because it forks an
// agent host, file watchers and extension hosts that outlive the main PID; stop() and the
// process-exit hook kill the whole group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CODE_SERVER_VERSION = '4.139.1';
export const VSCODE_VERSION = '1.139.1';

/** Directory of the cached code-server install (scripts/install-code-server.sh). */
export function codeServerDir(): string {
  const tools = process.env.BTNB_TOOLS_DIR || join(homedir(), '.cache', 'btnb-tools');
  return join(tools, `code-server-${CODE_SERVER_VERSION}`);
}

/**
 * Path of the code-server entry script; installs it (about 2 min, once) when missing.
 * `BTNB_CODE_SERVER` may point at another code-server bin script.
 */
export function ensureCodeServer(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): string {
  if (process.env.BTNB_CODE_SERVER) return process.env.BTNB_CODE_SERVER;
  const dir = codeServerDir();
  const bin = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (existsSync(join(dir, '.btnb-install-complete')) && existsSync(bin)) return bin;
  log(`code-server ${CODE_SERVER_VERSION} not installed in ${dir}; running scripts/install-code-server.sh (about 2 min)`);
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'install-code-server.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(bin)) {
    throw new Error(`code-server install failed (exit ${r.status}); run: bash scripts/install-code-server.sh`);
  }
  return bin;
}

/** Node 24 that runs code-server (the repo's node@24 dev dependency; code-server needs 24). */
export function nodeForCodeServer(): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major === 24) return process.execPath;
  const local = join(REPO_ROOT, 'node_modules', '.bin', 'node');
  if (existsSync(local)) return local;
  throw new Error(`code-server needs Node 24; this is ${process.version} and ${local} is missing (run npm ci)`);
}

/** A free TCP port on 127.0.0.1 (the OS picks; tiny race window handled by startCodeServer's retry). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? res(port) : rej(new Error('no port from listen(0)'))));
    });
  });
}

/** Offline look-ups (marketplace, telemetry, update, remote extension galleries) that fill logs and are harmless. */
const NOISE = [
  /getaddrinfo (ENOTFOUND|EAI_AGAIN)/,
  /open-vsx\.org|openvsx|marketplace\.visualstudio\.com|vscode-unpkg|gallery|vscode-sync|update\.code\.visualstudio\.com|default\.exp-tas\.com|mobile\.events\.data\.microsoft\.com|az764295\.vo\.msecnd\.net/i,
  /Failed to fetch|net::ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|CONNECTION_REFUSED)/,
  /\[(ExtensionGalleryService|ExtensionManagementService|extensionGalleryManifestService)\]/,
  /Error while (fetching|getting) (extension|latest)|Error fetching extension|Could not get (extensions|latest)/i,
  /UpdateService|Checking for updates|update#/,
];
export function isNoise(line: string): boolean {
  return NOISE.some((re) => re.test(line));
}

export interface CodeServerOptions {
  /** Folder opened in the workbench. Default: a new temp folder. */
  workspace?: string;
  /** Extensions dir (installed .vsix land here). Default: `<tmp>/ext`. */
  extensionsDir?: string;
  /** User-data dir (settings, state). Default: `<tmp>/ud`. */
  userDataDir?: string;
  /** Extra code-server CLI args. */
  args?: string[];
  /** Extra environment for code-server (and so for its extension hosts). */
  env?: Record<string, string>;
  /** Receives code-server's own stdout/stderr lines (noise filtered). Default: dropped, kept in output(). */
  onLine?: (line: string) => void;
  /**
   * Start with `--vscode-option enable-smoke-test-driver` (default true): needed for the `payload`
   * URL parameter (extensionTestsPath); but with it the workbench shows no notification toasts.
   */
  smokeTestDriver?: boolean;
  /** Healthz wait (ms). Default 30 s. */
  startTimeoutMs?: number;
}

export interface CodeServerHandle {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** Temp root holding ud/, ext/ (and the default workspace); removed by stop(). */
  readonly tmpRoot: string;
  readonly pid: number;
  /** Last ~200 lines of server output (for error messages). */
  output(): string;
  /** Resolves if the main code-server process exits (crash, or after stop()). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `vscode-remote://127.0.0.1:PORT/abs/path` for payload URLs. */
  remoteUri(absPath: string): string;
  /** Kills the process group (SIGTERM, then SIGKILL after 3 s) and removes the temp root. */
  stop(): Promise<void>;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;
/** Last-resort cleanup: a crashed or interrupted runner still kills every server group it started. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  };
  process.on('exit', killAll);
  // Node's default SIGINT/SIGTERM ends the process without 'exit' handlers: kill the groups, and
  // exit ourselves only when nobody else (e.g. the launcher's graceful cleanup) handles the signal.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSig = () => {
      killAll();
      if (process.listenerCount(sig) === 1) process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    };
    process.on(sig, onSig);
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* group already gone */
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a private code-server and resolves once GET /healthz answers (`expired` or `alive`). */
export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServerHandle> {
  const entry = ensureCodeServer();
  const node = nodeForCodeServer();
  const tmpRoot = mkdtempSync(join(tmpdir(), 'btnb-cs-'));
  const workspace = opts.workspace ?? join(tmpRoot, 'workspace');
  const userDataDir = opts.userDataDir ?? join(tmpRoot, 'ud');
  const extensionsDir = opts.extensionsDir ?? join(tmpRoot, 'ext');
  for (const d of [workspace, userDataDir, extensionsDir]) mkdirSync(d, { recursive: true });

  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(port);
    } catch (e) {
      lastError = e as Error;
      if (!/EADDRINUSE/.test(lastError.message)) break;
    }
  }
  rmSync(tmpRoot, { recursive: true, force: true });
  throw lastError ?? new Error('code-server did not start');

  async function launch(port: number): Promise<CodeServerHandle> {
    const args = [
      entry,
      '--config',
      '/dev/null',
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      ...(opts.smokeTestDriver === false ? [] : ['--vscode-option', 'enable-smoke-test-driver']),
      '--reconnection-grace-time',
      '5',
      ...(opts.args ?? []),
      workspace,
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    // Not a parent runner's node flags (VS Code strips NODE_OPTIONS from extension hosts anyway).
    delete env.NODE_OPTIONS;
    delete env.VSCODE_IPC_HOOK_CLI;
    const child: ChildProcess = spawn(node, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    const pid = child.pid!;
    liveGroups.add(pid);
    installExitHook();

    const lines: string[] = [];
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > 200) lines.shift();
        if (opts.onLine && !isNoise(line)) opts.onLine(line);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on('exit', (code, signal) => res((exited = { code, signal }))),
    );

    const baseUrl = `http://127.0.0.1:${port}`;
    const handle: CodeServerHandle = {
      port,
      baseUrl,
      workspace,
      userDataDir,
      extensionsDir,
      tmpRoot,
      pid,
      output: () => lines.join('\n'),
      exited: exitedPromise,
      remoteUri: (p) => `vscode-remote://127.0.0.1:${port}${resolve(p)}`,
      async stop() {
        killGroup(pid, 'SIGTERM');
        const deadline = Date.now() + 3000;
        while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
        if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
        rmSync(tmpRoot, { recursive: true, force: true });
      },
    };

    const timeout = opts.startTimeoutMs ?? 30_000;
    const t0 = Date.now();
    while (Date.now() - t0 < timeout) {
      if (exited) {
        liveGroups.delete(pid);
        killGroup(pid, 'SIGKILL');
        throw new Error(
          `code-server exited (code ${exited.code}, signal ${exited.signal}) before /healthz answered on port ${port}:\n${lines.join('\n')}`,
        );
      }
      try {
        const r = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        // 'expired' = up but no browser connected yet (no heartbeat); 'alive' once one is.
        const body = (await r.json()) as { status?: string };
        if (body.status === 'alive' || body.status === 'expired') return handle;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
    throw new Error(`code-server did not answer GET ${baseUrl}/healthz with a status within ${timeout} ms:\n${lines.join('\n')}`);
  }
}

/**
 * Installs a packaged extension into an extensions dir with `code-server --install-extension`
 * (offline: a .vsix path works, a marketplace id does not). Returns the installed extension's folder.
 */
export function installVsix(vsixPath: string, extensionsDir: string, userDataDir: string): string {
  const entry = ensureCodeServer();
  const r = spawnSync(
    nodeForCodeServer(),
    [
      entry,
      '--config',
      '/dev/null',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      resolve(vsixPath),
      '--force',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 || !/successfully installed/i.test(out)) {
    throw new Error(`code-server --install-extension ${vsixPath} failed (exit ${r.status}):\n${out}`);
  }
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const dir = join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  if (!existsSync(dir)) throw new Error(`--install-extension reported success but ${dir} does not exist:\n${out}`);
  return dir;
}

/**
 * Registers an unpacked extension folder (e.g. the repository) as an installed extension of a
 * profile, without packaging: VS Code reads the user extensions of a profile from
 * `<extensionsDir>/extensions.json`, whose entries may point at any folder. Use it where the
 * `payload` URL (which needs the smoke-test driver) is not wanted.
 */
export function registerUnpackedExtension(extensionsDir: string, folder: string): string {
  const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const id = `${pkg.publisher}.${pkg.name}`;
  const manifest = join(extensionsDir, 'extensions.json');
  const entries = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { identifier: { id: string } }[]) : [];
  const entry = {
    identifier: { id },
    version: pkg.version,
    location: { $mid: 1, fsPath: resolve(folder), external: `file://${resolve(folder)}`, path: resolve(folder), scheme: 'file' },
    metadata: { installedTimestamp: 0, pinned: true, source: 'vsix', isApplicationScoped: false, isMachineScoped: false, isBuiltin: false },
  };
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(manifest, JSON.stringify([...entries.filter((e) => e.identifier.id !== id), entry]));
  return id;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
