// Restricted Mode in real Chromium: a workspace that is not trusted still shows its datasets and
// runs in the Backtest sidebar, but the palette offers no command that runs strategy code
// (Run Backtest…, Run Parameter Sweep…, Rerun) and the strategy file gets no Run Backtest lens.
// Its own code-server (the shared helper always disables workspace trust).
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../vscode/chromium.ts';
import {
  REPO_ROOT,
  ensureCodeServer,
  freePort,
  killGroup,
  nodeForCodeServer,
  registerUnpackedExtension,
  sleep,
} from '../vscode/codeServer.ts';
import { writeUserSettings } from '../vscode/seedWorkspace.ts';
import { TEST_OUTPUT_DIR, waitUntil } from './browser.ts';

const cli = (args: string[]) => execFileSync(process.execPath, [join(REPO_ROOT, 'dist/cli.js'), ...args], { encoding: 'utf8' });

async function paletteRows(page: Page, text: string): Promise<string[]> {
  const widget = page.locator('.quick-input-widget');
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  await widget.locator('input.input').fill(`>${text}`);
  await sleep(1500);
  const rows = await widget.locator('.monaco-list-row').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  await page.keyboard.press('Escape');
  return rows;
}

describe('e2e: Restricted Mode (untrusted workspace)', function () {
  this.timeout(180_000);
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'btnb-e2e-restricted-'));

  after(async () => {
    await browser?.close().catch(() => {});
    if (server?.pid) killGroup(server.pid, 'SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows existing runs but offers no strategy execution', async () => {
    const ws = join(tmp, 'ws');
    const data = join(ws, 'data');
    cli([
      'data',
      'synth',
      '--symbol',
      'UNTR',
      '--start',
      '2024-03-04',
      '--days',
      '1',
      '--seed',
      '6',
      '--out',
      join(tmp, 'synth'),
      '--import',
      '--derive',
      '--data-dir',
      data,
    ]);
    const id = /ds_[0-9a-f]{16}/.exec(cli(['data', 'list', '--json', '--data-dir', data]))![0];
    cli(['backtest', '--dataset', id, '--strategy', 'sma-cross', '--param', 'fast=4', '--param', 'slow=12', '--data-dir', data]);
    mkdirSync(join(ws, 'strategies'));
    copyFileSync(join(REPO_ROOT, 'sample-workspace/strategies/rsiMeanReversion.ts'), join(ws, 'strategies/rsiMeanReversion.ts'));

    const ud = join(tmp, 'ud');
    const ext = join(tmp, 'ext');
    registerUnpackedExtension(ext, REPO_ROOT);
    writeUserSettings(ud, {
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'never',
    });
    const port = await freePort();
    server = spawn(
      nodeForCodeServer(),
      [
        ensureCodeServer(),
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
        ws,
      ],
      { detached: true, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    await waitUntil(
      async () =>
        await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      30_000,
      'code-server healthz',
    );

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    const backtest = page.locator('.part.activitybar .action-item [aria-label^="Backtest"]').first();
    await backtest.waitFor({ timeout: 60_000 });
    await backtest.click();
    const rows = page.locator('.pane-body .monaco-list-row');
    await waitUntil(
      async () => (await rows.allInnerTexts()).some((t) => t.includes('fast=4 slow=12')),
      30_000,
      'the existing run in the tree',
    );

    const open = await paletteRows(page, 'Backtest: Open Runs List');
    assert.ok(
      open.some((r) => r.startsWith('Backtest: Open Runs List')),
      `viewing is allowed: ${open.join(' | ')}`,
    );
    // Derive Bars has the same btnb.hasDatasets clause but no trust clause: its presence shows the
    // absences below come from Restricted Mode, not from an empty catalog.
    const derive = await paletteRows(page, 'Backtest: Derive Bars');
    assert.ok(
      derive.some((r) => r.startsWith('Backtest: Derive Bars')),
      `Derive Bars offered: ${derive.join(' | ')}`,
    );
    for (const cmd of ['Backtest: Run Backtest…', 'Backtest: Run Parameter Sweep…', 'Backtest: Rerun']) {
      const found = await paletteRows(page, cmd);
      assert.ok(!found.some((r) => r.startsWith(cmd)), `${cmd} must not be offered in Restricted Mode: ${found.join(' | ')}`);
    }
    mkdirSync(TEST_OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(TEST_OUTPUT_DIR, 'e2e-restricted-mode.png') });
  });
});
