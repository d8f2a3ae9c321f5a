// A Backtest Notebook as a person uses it, in real Chromium on a real VS Code (code-server):
// Backtest: New Backtest Notebook → Notebook: Run All (no kernel picker) → the starter runs top to
// bottom on the sample dataset; the run output draws the chart with fills, Play moves its replay
// cursor; the sweep output draws its heatmap; the query output lists the runs; light and dark
// screenshots go to test-output/.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { sleep } from '../vscode/codeServer.ts';
import { openWorkbench, waitUntil, type Workbench } from './browser.ts';

describe('e2e: Backtest Notebook (Chromium + code-server)', function () {
  this.timeout(420_000);
  let wb: Workbench | undefined;
  let ws = '';

  afterEach(async function () {
    if (wb && this.currentTest?.state === 'failed') await wb.screenshot(`notebook-failed-${Date.now()}`).catch(() => {});
  });
  after(async () => {
    await wb?.close();
    if (ws) rmSync(ws, { recursive: true, force: true });
  });

  it('New Backtest Notebook → Run All: outputs, a chart with fills, replay, a sweep heatmap, in dark and light', async () => {
    ws = mkdtempSync(join(tmpdir(), 'btnb-e2e-nb-'));
    wb = await openWorkbench({
      developmentExtension: true,
      workspace: ws,
      settings: {
        'workbench.colorTheme': 'Default Dark Modern',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'btnb.dataDir': join(ws, 'data'),
      },
      viewport: { width: 1500, height: 1100 },
    });
    const page = wb.page;
    await wb.waitForActivityBar('Backtest');
    await wb.runCommand('Backtest: New Backtest Notebook');
    await page.locator('.notebook-editor').first().waitFor({ timeout: 60_000 });
    await wb.runCommand('Notebook: Run All');
    // The notebook draws outputs as they scroll into view: scroll down while waiting for each.
    const outputs: FrameLocator = page
      .locator('.notebook-editor iframe.webview')
      .first()
      .contentFrame()
      .locator('#active-frame')
      .contentFrame();
    await page.locator('.notebook-editor .cell-list-container').first().hover();
    const scrollUntil = async (what: string, cond: () => Promise<boolean>, ms: number) =>
      waitUntil(
        async () => {
          if (await cond()) return true;
          await page.mouse.wheel(0, 250);
          return false;
        },
        ms,
        what,
      );
    /** Scrolls the notebook (wheel over its gutter) until the element's top part is in view. */
    const reveal = async (el: ReturnType<FrameLocator['locator']>, height = 500) => {
      await page.mouse.move(372, 600);
      for (let k = 0; k < 80; k++) {
        const box = await el.boundingBox();
        const vh = page.viewportSize()!.height;
        if (box && box.y >= 110 && box.y + Math.min(box.height, height) <= vh - 40) return;
        await page.mouse.wheel(0, !box || box.y >= 110 ? 200 : -200);
        await sleep(120);
      }
      throw new Error('could not scroll the element into view');
    };
    await scrollUntil('the dataset output', async () => (await outputs.locator('.dataset-output').count()) > 0, 120_000);
    await scrollUntil('the strategy output', async () => (await outputs.locator('.strategy-output').count()) > 0, 120_000);
    await scrollUntil('two run outputs', async () => (await outputs.locator('.run-output').count()) >= 2, 120_000);
    await scrollUntil('the sweep output', async () => (await outputs.locator('.sweep-output').count()) > 0, 180_000);
    await scrollUntil('the query table', async () => (await outputs.locator('.table-output tbody tr').count()) >= 2, 120_000);

    const run = outputs.locator('.run-output').first();
    const chart = run.locator('.run-chart');
    await chart.locator('.main-svg').first().waitFor({ timeout: 60_000 });
    await waitUntil(async () => (await chart.locator('.boxlayer path, .trace.boxes path').count()) > 20, 30_000, 'candlesticks drawn');
    await waitUntil(async () => (await chart.locator('.scatterlayer .point').count()) > 2, 30_000, 'fill markers drawn');
    assert.match(await run.locator('[data-metric-value="total_return"]').innerText(), /%/);
    await reveal(run, 700);
    // the candles span the chart (the whole run is in view), not a sliver of it
    const spread = await run
      .locator('.js-plotly-plot')
      .first()
      .evaluate((el) => {
        const gd = el as unknown as { data: { x?: number[] }[]; _fullLayout: { xaxis: { l2p(v: number): number; _length: number } } };
        const x = gd.data[0]!.x!;
        const xa = gd._fullLayout.xaxis;
        return (xa.l2p(x[x.length - 1]!) - xa.l2p(x[0]!)) / xa._length;
      });
    assert.ok(spread > 0.9, `candles span ${(spread * 100).toFixed(0)}% of the chart`);
    await wb.screenshot('notebook-run-dark');

    // replay in the output: Play moves the cursor; Pause stops it
    const cursor = async () =>
      Number(
        (await run
          .locator('.cursor-text')
          .getAttribute('data-cursor')
          .catch(() => '0')) ?? '0',
      );
    await run.getByRole('button', { name: 'Play', exact: true }).click();
    await waitUntil(async () => (await cursor()) > 10, 30_000, 'the replay cursor to advance');
    const c1 = await cursor();
    await sleep(700);
    assert.ok((await cursor()) > c1, 'still advancing while playing');
    await wb.screenshot('notebook-replay-dark');
    await run.getByRole('button', { name: 'Pause', exact: true }).click();
    await run.getByRole('button', { name: 'Step', exact: true }).waitFor();

    // the second run output replays independently (its cursor stays put)
    const other = outputs.locator('.run-output').nth(1);
    assert.equal(await other.locator('.cursor-text').getAttribute('data-cursor'), '', 'the other output is not replaying');

    const sweep = outputs.locator('.sweep-output').first();
    await reveal(sweep, 600);
    await waitUntil(
      async () => (await outputs.locator('.heatmap .main-svg, .heat-box .main-svg').count()) > 0,
      60_000,
      'the sweep heatmap',
    );
    await wb.screenshot('notebook-sweep-dark');
    await reveal(outputs.locator('.table-output').first(), 300);
    await wb.screenshot('notebook-query-dark');

    await wb.runCommand('Preferences: Color Theme', { keepOpen: true });
    await page.locator('.quick-input-widget input.input').fill('Light Modern');
    await sleep(600);
    await page.keyboard.press('Enter');
    await sleep(1500);
    await reveal(run, 700);
    await wb.screenshot('notebook-run-light');
    await reveal(sweep, 600);
    await wb.screenshot('notebook-sweep-light');

    const errors = wb.consoleErrors.filter((e) => /btnb|Content Security Policy|CSP/i.test(e));
    assert.deepEqual(errors, [], 'no errors from the notebook or its renderer');
  });
});
