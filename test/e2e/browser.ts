// End-to-end helpers: what a person sees in VS Code (code-server) in real headless Chromium.
// A Workbench = a private code-server + a Chromium page showing it, with the extension either
// installed from a packaged .vsix (`--install-extension`, as a user gets it) or loaded as a
// development extension from the repository. See docs/DEVELOPING.md ("Tests in real VS Code and Chromium").
//
//   const wb = await openWorkbench({ vsix: 'backtest-notebook-0.1.0.vsix' });
//   await wb.runCommand('Backtest: Show Version');
//   await wb.waitForNotification(/Backtest Notebook 0\.1\.0/);
//   await wb.screenshot('show-version');
//   await wb.close();
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, FrameLocator, Locator, Page } from 'playwright-core';
import { launchChromium } from '../vscode/chromium.ts';
import {
  REPO_ROOT,
  installVsix,
  isNoise,
  registerUnpackedExtension,
  sleep,
  startCodeServer,
  type CodeServerHandle,
} from '../vscode/codeServer.ts';
import { seedWorkspace, writeUserSettings } from '../vscode/seedWorkspace.ts';

export const TEST_OUTPUT_DIR = join(REPO_ROOT, 'test-output');

export interface WorkbenchOptions {
  /** Install this packaged extension into the private server (the user's way). */
  vsix?: string;
  /** Load the repository as a development extension instead (no packaging). Ignored with `vsix`. */
  developmentExtension?: boolean;
  /** Folder to open; default: a fresh temp folder seeded like the integration suite's. */
  workspace?: string;
  /** Extra environment for code-server and so the extension host. */
  env?: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Viewport; default 1400×900. */
  viewport?: { width: number; height: number };
  /** Print server and browser console lines (also on with BTNB_E2E_VERBOSE=1). */
  verbose?: boolean;
}

export interface Workbench {
  readonly server: CodeServerHandle;
  readonly browser: Browser;
  readonly page: Page;
  readonly workspace: string;
  /** Browser console errors seen so far (offline noise filtered). */
  readonly consoleErrors: string[];
  /** Waits for the workbench and (optionally) an activity-bar item whose label matches. */
  waitForActivityBar(label?: string | RegExp, timeoutMs?: number): Promise<void>;
  /**
   * F1, type the command's palette label (`Category: Title`), select the exact row, Enter; retries
   * (Escape + F1) while the palette is not ready. `keepOpen: true` for commands whose first prompt
   * reuses the same quick input (then it returns once the palette row was accepted).
   */
  runCommand(label: string, opts?: { attempts?: number; keepOpen?: boolean }): Promise<void>;
  /** Resolves with the notification toast text matching `text`. */
  waitForNotification(text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** The content frame of the visible webview (two nested iframes). */
  webview(): FrameLocator;
  /** Saves test-output/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts a private code-server with the extension and opens the workbench in Chromium. */
export async function openWorkbench(opts: WorkbenchOptions = {}): Promise<Workbench> {
  const verbose = opts.verbose ?? process.env.BTNB_E2E_VERBOSE === '1';
  const log = (l: string) => process.stdout.write(`      ${l}\n`);
  // No smoke-test driver: with it the workbench suppresses notification toasts. The development
  // extension is registered in the profile's extensions.json instead of the `payload` URL.
  const tmpExt = mkdtempSync(join(tmpdir(), 'btnb-e2e-ext-'));
  if (!opts.vsix && opts.developmentExtension !== false) registerUnpackedExtension(tmpExt, REPO_ROOT);
  const server = await startCodeServer({
    workspace: opts.workspace,
    extensionsDir: tmpExt,
    smokeTestDriver: false,
    env: opts.env,
    onLine: verbose ? (l) => log(`[code-server] ${l}`) : undefined,
  });
  let browser: Browser | undefined;
  try {
    if (!opts.workspace) await seedWorkspace(server.workspace);
    writeUserSettings(server.userDataDir, opts.settings);
    if (opts.vsix) installVsix(opts.vsix, server.extensionsDir, server.userDataDir);

    const params = new URLSearchParams({ folder: server.workspace });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: opts.viewport ?? { width: 1400, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      const text = m.text();
      if (isNoise(text)) return;
      if (m.type() === 'error') consoleErrors.push(text);
      if (verbose) log(`[console.${m.type()}] ${text}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${server.baseUrl}/?${params.toString()}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    return makeWorkbench(server, browser, page, consoleErrors);
  } catch (e) {
    await browser?.close().catch(() => {});
    await server.stop();
    rmSync(tmpExt, { recursive: true, force: true });
    throw e;
  }
}

function makeWorkbench(server: CodeServerHandle, browser: Browser, page: Page, consoleErrors: string[]): Workbench {
  const wb: Workbench = {
    server,
    browser,
    page,
    workspace: server.workspace,
    consoleErrors,

    async waitForActivityBar(label, timeoutMs = 60_000) {
      await page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout: timeoutMs });
      if (label === undefined) return;
      const matches = (aria: string) => (typeof label === 'string' ? aria.includes(label) : label.test(aria));
      const items = page.locator('.part.activitybar .action-item [aria-label]');
      await waitUntil(
        async () => {
          for (const aria of await items.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? '')))
            if (matches(aria)) return true;
          return false;
        },
        timeoutMs,
        `activity-bar item ${String(label)}`,
      );
    },

    async runCommand(label, { attempts = 5, keepOpen = false } = {}) {
      const widget = page.locator('.quick-input-widget');
      const input = widget.locator('input.input');
      const rows = widget.locator('.monaco-list-row');
      let last = '';
      for (let i = 0; i < attempts; i++) {
        // Escape closes a palette or menu left open; blurring the active element takes the keyboard
        // back from a webview iframe, so F1 reaches the workbench's keybindings.
        await page.keyboard.press('Escape');
        await page.evaluate('document.activeElement && document.activeElement.blur && document.activeElement.blur()');
        await page.keyboard.press('F1');
        let idx = -1;
        try {
          await widget.waitFor({ state: 'visible', timeout: 5000 });
          await input.fill(`>${label}`, { timeout: 5000 });
          // The palette filters asynchronously; an early palette (before extensions registered their
          // contributions) says "No matching commands": close it and retry.
          await waitUntil(async () => (idx = await exactRowIndex(rows, label)) >= 0, 4000, `palette row "${label}"`);
        } catch (e) {
          last = `${(e as Error).message}; palette shows: ${(await rows.allInnerTexts().catch(() => [])).slice(0, 5).join(' | ') || '(no rows)'}`;
          await sleep(500 * (i + 1));
          continue;
        }
        // Move the selection onto the exact row (the first row may be a recently-used one), then
        // Enter. From here on no retry: the command has been started.
        for (let k = 0; k < 50 && !(await rows.nth(idx).evaluate((e) => e.classList.contains('focused'))); k++)
          await page.keyboard.press('ArrowDown');
        await page.keyboard.press('Enter');
        if (keepOpen) {
          // The command's own prompt replaces the palette in the same widget: wait until the input
          // no longer holds the palette query.
          await waitUntil(
            async () => !(await input.inputValue().catch(() => '>')).startsWith('>'),
            10_000,
            `"${label}" to take over the quick input`,
          );
        } else {
          await widget.waitFor({ state: 'hidden', timeout: 10_000 });
        }
        return;
      }
      await page.keyboard.press('Escape');
      throw new Error(`command palette: could not run "${label}" after ${attempts} attempts (${last})`);
    },

    async waitForNotification(text, timeoutMs = 30_000) {
      const toasts = page.locator('.notifications-toasts .notification-toast, .notification-list-item-message');
      let found = '';
      await waitUntil(
        async () => {
          for (const t of await toasts.allInnerTexts()) {
            if (typeof text === 'string' ? t.includes(text) : text.test(t)) {
              found = t;
              return true;
            }
          }
          return false;
        },
        timeoutMs,
        `notification ${String(text)}`,
      );
      return found;
    },

    webview() {
      // Outer iframe.webview (the visible one: VS Code keeps hidden webviews around), then the
      // document frame inside it.
      return page.locator('iframe.webview:visible').first().contentFrame().locator('#active-frame').contentFrame();
    },

    async screenshot(name) {
      mkdirSync(TEST_OUTPUT_DIR, { recursive: true });
      const file = join(TEST_OUTPUT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path: file });
      return file;
    },

    async close() {
      await browser.close().catch(() => {});
      await server.stop();
      rmSync(server.extensionsDir, { recursive: true, force: true });
    },
  };
  return wb;
}

/** Index of the palette row whose label is exactly `label` (rows' aria-labels may add ", keybinding"…), or -1. */
async function exactRowIndex(rows: Locator, label: string): Promise<number> {
  const arias = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  return arias.findIndex((a) => a === label || a.startsWith(`${label},`) || a.startsWith(`${label} `));
}

export async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await cond()) return;
    await sleep(150);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * `npm run package` (vsce) when the project defines it; returns the newest .vsix in the repo root.
 * Throws with vsce's output when packaging fails.
 */
export function packageVsix(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (!pkg.scripts?.package) throw new Error('package.json has no "package" script (npm run package → .vsix)');
  const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  // The universal package by its exact name (platform-specific ones are <name>-<version>@<target>.vsix).
  const { name, version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const vsix = join(REPO_ROOT, `${name}-${version}.vsix`);
  if (!existsSync(vsix)) throw new Error(`npm run package succeeded but ${vsix} is missing`);
  return vsix;
}
