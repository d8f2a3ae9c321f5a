// Runs the extension-host integration suite (out/test/suite/index.js) inside a real VS Code:
// a private code-server + headless Chromium, using the workbench's `payload` URL parameter
// (extensionDevelopmentPath / extensionTestsPath / extensionEnvironment), which code-server
// honours with `--vscode-option enable-smoke-test-driver`. Test output arrives through
// window.codeAutomationLog, the suite's exit code through window.codeAutomationExit.
//
// Env: BTNB_VSCODE_GREP (mocha grep), BTNB_VSCODE_TIMEOUT_MS (default 240000),
// BTNB_VSCODE_VERBOSE=1 (server + workbench logs too), BTNB_SKIP_BUILD=1, BTNB_TEST_STATS
// (JSON stats file for test/run-all.mjs); every BTNB_TEST_* variable is passed to the host.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { REPO_ROOT, isNoise, startCodeServer, type CodeServerHandle } from './codeServer.ts';
import { seedWorkspace, writeUserSettings } from './seedWorkspace.ts';

interface SuiteStats {
  passes: number;
  failures: number;
  pending: number;
}

const verbose = process.env.BTNB_VSCODE_VERBOSE === '1';
const timeoutMs = Number(process.env.BTNB_VSCODE_TIMEOUT_MS || 240_000);
const say = (line: string) => process.stdout.write(line + '\n');

/** Workbench log lines that are not test output (shown only with BTNB_VSCODE_VERBOSE=1). */
const CHATTER = [
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket/,
  /^\[(reconnection-grace-time|Service Worker|AgentHost[^\]]*|AccountPolicyGate|driver)\]/,
  /^Updating additional builtin extensions cache/,
  /^(Started|Starting) (local )?extension host/i,
  /authentication provider '(github|microsoft)'/, // no accounts offline
];
function isWorkbenchChatter(line: string): boolean {
  return CHATTER.some((re) => re.test(line));
}

/** codeAutomationLog receives console-style arguments (printf format first) or a plain string. */
function formatLogMessage(message: unknown): string {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return format(...(message as unknown[]));
  return JSON.stringify(message);
}

export async function main(): Promise<number> {
  const t0 = Date.now();
  if (process.env.BTNB_SKIP_BUILD !== '1') {
    const b = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (b.status !== 0) {
      say(`vscode: build failed (node esbuild.mjs exited ${b.status})`);
      return finish(null, 1);
    }
  }
  const suiteIndex = join(REPO_ROOT, 'out', 'test', 'suite', 'index.js');
  if (!existsSync(suiteIndex)) {
    say(`vscode: ${suiteIndex} missing after the build (esbuild.mjs bundles test/vscode/suite/index.ts into it)`);
    return finish(null, 1);
  }

  const runTmp = mkdtempSync(join(tmpdir(), 'btnb-vscode-'));
  const workspace = join(runTmp, 'workspace');
  const statsFile = join(runTmp, 'suite-stats.json');
  mkdirSync(workspace, { recursive: true });
  await seedWorkspace(workspace);

  let server: CodeServerHandle | undefined;
  let browser: Browser | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await browser?.close().catch(() => {});
      await server?.stop().catch(() => {});
      rmSync(runTmp, { recursive: true, force: true });
    })());
  const onSignal = (sig: NodeJS.Signals) => {
    say(`vscode: interrupted by ${sig}; stopping code-server and Chromium`);
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  // `on`, not `once`: codeServer.ts's own last-resort handler exits only when it is alone.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let code = 1;
  try {
    const userDataDir = join(runTmp, 'ud');
    writeUserSettings(userDataDir);
    server = await startCodeServer({
      workspace,
      userDataDir,
      extensionsDir: join(runTmp, 'ext'),
      onLine: verbose ? (l) => say(`[code-server] ${l}`) : undefined,
    });
    const extensionEnvironment: Record<string, string> = {
      BTNB_TEST_WORKSPACE: workspace,
      BTNB_VSCODE_STATS_FILE: statsFile,
      BTNB_REPO_ROOT: REPO_ROOT,
    };
    for (const [k, v] of Object.entries(process.env))
      if (k.startsWith('BTNB_TEST_') && k !== 'BTNB_TEST_STATS' && v !== undefined) extensionEnvironment[k] = v;
    if (process.env.BTNB_VSCODE_GREP) extensionEnvironment.BTNB_VSCODE_GREP = process.env.BTNB_VSCODE_GREP;
    const payload = [
      ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
      ['extensionTestsPath', server.remoteUri(join(REPO_ROOT, 'out', 'test', 'suite', 'index'))],
      ['skipWelcome', 'true'],
      ['extensionEnvironment', JSON.stringify(extensionEnvironment)],
    ];
    const url = `${server.baseUrl}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

    browser = await launchChromium();
    const page = await browser.newPage();
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationLog', (level: string, message: unknown) => {
      const text = formatLogMessage(message);
      if (isNoise(text) || (!verbose && isWorkbenchChatter(text))) return;
      say(verbose ? `[${level}] ${text}` : text);
    });
    await page.exposeFunction('codeAutomationExit', (c: number) => resolveExit(Number(c)));
    if (verbose) page.on('pageerror', (e) => say(`[page error] ${e.message}`));
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    // Fail fast instead of waiting for the timeout when the browser or the server dies.
    const died = new Promise<string>((r) => {
      page.on('crash', () => r('the Chromium page crashed'));
      browser!.on('disconnected', () => r('Chromium disconnected'));
      void server!.exited.then((e) => r(`code-server exited (code ${e.code}, signal ${e.signal})`));
    });
    const outcome = await Promise.race([exited, timedOut, died]);
    clearTimeout(timer);
    if (typeof outcome === 'string' && outcome !== 'timeout') {
      say(`vscode: ${outcome} before the suite finished`);
      say(
        `last code-server output:\n${server
          .output()
          .split('\n')
          .filter((l) => !isNoise(l))
          .slice(-30)
          .join('\n')}`,
      );
      code = 1;
    } else if (outcome === 'timeout') {
      say(`vscode: TIMEOUT — the suite did not finish within ${timeoutMs / 1000} s (BTNB_VSCODE_TIMEOUT_MS); killed code-server.`);
      say(
        `last code-server output:\n${server
          .output()
          .split('\n')
          .filter((l) => !isNoise(l))
          .slice(-30)
          .join('\n')}`,
      );
      code = 1;
    } else {
      code = outcome;
    }
  } catch (e) {
    say(`vscode: harness error: ${(e as Error).stack ?? String(e)}`);
    code = 1;
  }
  const stats = readStats(statsFile);
  await cleanup();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  if (code === 0 && !stats) {
    say('vscode: the extension host exited 0 but the suite wrote no stats (did run() execute?)');
    code = 1;
  }
  if (code !== 0 && stats && stats.failures === 0) {
    // The host failed outside any test (activation error, suite load error): count it as one failure.
    stats.failures = 1;
  }
  say(`vscode: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return finish(stats, code);
}

function readStats(file: string): SuiteStats | null {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as SuiteStats;
    return { passes: s.passes, failures: s.failures, pending: s.pending };
  } catch {
    return null;
  }
}

function finish(stats: SuiteStats | null, code: number): number {
  const s = stats ?? { passes: 0, failures: code === 0 ? 0 : 1, pending: 0 };
  if (process.env.BTNB_TEST_STATS) writeFileSync(process.env.BTNB_TEST_STATS, JSON.stringify(s));
  say(`vscode: ${s.passes} passed, ${s.failures} failed${s.pending ? `, ${s.pending} skipped` : ''}`);
  return code === 0 && s.failures === 0 ? 0 : 1;
}
