// The run views in a plain browser against `btnb serve` (real Chromium, the built CLI and web
// app): open `/`, see the sample run in the list, open it (the page navigates), press Play and
// see the replay cursor advance. Screenshots in the dark and the light scheme go to test-output/.
// Expected values come from the CLI that made the run.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { REPO_ROOT } from '../vscode/codeServer.ts';
import { launchChromium } from '../vscode/chromium.ts';
import { TEST_OUTPUT_DIR } from './browser.ts';

describe('e2e: btnb serve — the run views in a plain browser (Chromium)', function () {
  this.timeout(180_000);
  let dir = '';
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;

  after(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens /, opens the sample run from the list, plays the replay; dark and light', async () => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-e2e-serve-'));
    const data = join(dir, 'data');
    const cli = join(REPO_ROOT, 'dist/cli.js');
    const demo = JSON.parse(execFileSync(process.execPath, [cli, 'demo', '--data-dir', data, '--json'], { encoding: 'utf8' })) as {
      run_id: string;
      metrics: { num_fills: number };
    };
    server = spawn(process.execPath, [cli, 'serve', '--data-dir', data, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n')) resolve((JSON.parse(line!) as { url: string }).url);
      });
      server!.on('exit', (code) => reject(new Error(`btnb serve exited ${code}`)));
    });
    browser = await launchChromium();
    mkdirSync(TEST_OUTPUT_DIR, { recursive: true });
    for (const scheme of ['dark', 'light'] as const) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: scheme });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${url}/`);
      const row = page.locator('.vrow', { hasText: 'sma-cross' }).first();
      await row.waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(TEST_OUTPUT_DIR, `serve-runs-${scheme}.png`) });
      // opening a run replaces the page with its RunDetail (the server says view/navigate)
      await row.click();
      await page.waitForURL(/args=/, { timeout: 30_000 });
      assert.ok(decodeURIComponent(page.url()).includes(demo.run_id));
      await page.getByText(`Fills (${demo.metrics.num_fills})`).waitFor({ timeout: 30_000 });
      await page.locator('.js-plotly-plot').first().waitFor({ timeout: 30_000 });
      const scrubber = page.locator('input[type="range"]').first();
      const before = Number(await scrubber.inputValue());
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      const deadline = Date.now() + 30_000;
      while (Number(await scrubber.inputValue()) <= before + 5) {
        assert.ok(Date.now() < deadline, 'the replay cursor did not advance after Play');
        await new Promise((r) => setTimeout(r, 100));
      }
      await page.screenshot({ path: join(TEST_OUTPUT_DIR, `serve-run-${scheme}.png`) });
      assert.deepEqual(problems, [], `console errors in the ${scheme} scheme`);
      await page.close();
    }
  });
});
