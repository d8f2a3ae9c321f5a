// The run views as a person sees them, in real Chromium on a real VS Code (code-server): open
// the run from the Backtest tree and see candles with fill markers and the equity curve; replay
// it (Play → the cursor and the position move, Pause, seek with the scrubber); compare two runs;
// open a sweep's heatmap and click a cell; switch to the light theme (charts re-theme) and
// reload the window (the run view comes back). Screenshots of each, dark and light, go to
// test-output/. Expected values come from the CLI that made the runs, not from the views.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { REPO_ROOT, sleep } from '../vscode/codeServer.ts';
import { openWorkbench, waitUntil, type Workbench } from './browser.ts';

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

describe('e2e: run views, replay, compare and sweep heatmap (Chromium + code-server)', function () {
  this.timeout(420_000);
  let wb: Workbench | undefined;
  let ws = '';

  afterEach(async function () {
    if (wb && this.currentTest?.state === 'failed') await wb.screenshot(`views-failed-${Date.now()}`).catch(() => {});
  });
  after(async () => {
    await wb?.close();
    if (ws) rmSync(ws, { recursive: true, force: true });
  });

  it('opens, replays, compares and sweeps in the dark theme, then re-themes to light and survives a reload', async function () {
    ws = mkdtempSync(join(tmpdir(), 'btnb-e2e-views-'));
    const data = join(ws, 'data');
    const cli = (args: string[]) =>
      execFileSync(process.execPath, [join(REPO_ROOT, 'dist/cli.js'), ...args, '--data-dir', data], { encoding: 'utf8' });
    const synth = cli([
      'data',
      'synth',
      '--symbol',
      'DEMO',
      '--start',
      '2024-03-04',
      '--days',
      '3',
      '--seed',
      '7',
      '--out',
      join(ws, 'synth'),
      '--import',
      '--derive',
      '--json',
    ]);
    const ds = /"dataset_id":\s*"(ds_[0-9a-f]{16})"/.exec(synth)![1]!;
    const sma = JSON.parse(
      cli(['backtest', '--dataset', ds, '--strategy', 'sma-cross', '--param', 'fast=5', '--param', 'slow=20', '--json']),
    ) as { run_id: string; metrics: Record<string, number> };
    const don = JSON.parse(cli(['backtest', '--dataset', ds, '--strategy', 'donchian-breakout', '--param', 'entry=30', '--json'])) as {
      run_id: string;
    };
    const sweep = JSON.parse(
      cli([
        'sweep',
        '--dataset',
        ds,
        '--strategy',
        'sma-cross',
        '--grid',
        'fast=3:9:3',
        '--grid',
        'slow=30:60:15',
        '--workers',
        '1',
        '--json',
      ]),
    ) as { sweep_id: string };

    wb = await openWorkbench({
      developmentExtension: true,
      workspace: ws,
      settings: { 'workbench.colorTheme': 'Default Dark Modern', 'workbench.secondarySideBar.defaultVisibility': 'hidden' },
      viewport: { width: 1500, height: 1000 },
    });
    const page = wb.page;
    await wb.waitForActivityBar('Backtest');
    await page.locator('.part.activitybar .action-item [aria-label^="Backtest"]').first().click();

    // --- RunDetail from the tree -------------------------------------------------------------
    const runRow = page.locator('.monaco-list-row', { hasText: 'fast=5 slow=20' }).first();
    await runRow.waitFor({ state: 'visible', timeout: 60_000 });
    await runRow.click();
    let view: FrameLocator = wb.webview();
    const chart = () => view.locator('.run-chart');
    await chart().locator('.main-svg').first().waitFor({ timeout: 60_000 });
    await waitUntil(async () => (await chart().locator('.boxlayer path, .trace.boxes path').count()) > 20, 30_000, 'candlesticks drawn');
    await waitUntil(async () => (await chart().locator('.scatterlayer .point').count()) > 5, 30_000, 'fill markers drawn');
    assert.ok((await chart().locator('.scatterlayer .js-line').count()) >= 2, 'equity and drawdown lines');
    assert.equal((await view.locator('[data-metric-value="total_return"]').innerText()).trim(), pct(sma.metrics.total_return!));
    assert.match(await view.locator('.run-header').innerText(), /Times in America\/New_York/);
    await wb.screenshot('views-run-dark');

    // --- Replay --------------------------------------------------------------------------------
    const cursorBar = async () => Number(await view.locator('.cursor-text').getAttribute('data-cursor'));
    await view.getByRole('button', { name: 'Play', exact: true }).click();
    await waitUntil(async () => (await cursorBar()) > 20, 30_000, 'the replay cursor to advance');
    const c1 = await cursorBar();
    await sleep(800);
    assert.ok((await cursorBar()) > c1, 'still advancing while playing');
    await view.locator('[data-account="position"]').waitFor({ timeout: 10_000 });
    await waitUntil(async () => (await view.locator('[data-account="equity"]').innerText()).length > 0, 10_000, 'the P&L panel');
    await wb.screenshot('views-replay-playing-dark');
    await view.getByRole('button', { name: 'Pause', exact: true }).click();
    await view.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 10_000 });
    const paused = await cursorBar();
    await sleep(700);
    assert.equal(await cursorBar(), paused, 'the cursor stops on Pause');
    await view.getByRole('button', { name: 'Step', exact: true }).click();
    await waitUntil(async () => (await cursorBar()) === paused + 1, 10_000, 'Step moves one bar');
    // Next fill: the cursor lands on a bar with a fill (the position panel changes there)
    await view.getByRole('button', { name: 'Next fill' }).click();
    await waitUntil(async () => (await cursorBar()) > paused + 1, 10_000, 'Next fill moves forward');
    // seek with the scrubber
    await view.getByRole('slider', { name: 'Replay position' }).fill('600');
    await waitUntil(async () => (await cursorBar()) === 600, 10_000, 'the scrubber seeks to bar 600');
    assert.match(await view.locator('.cursor-text').innerText(), /Bar 601 \/ [\d,]+ · 2024-03-0\d \d\d:\d\d E[SD]T/);
    await wb.screenshot('views-replay-seek-dark');

    // --- Compare two runs from the runs list -----------------------------------------------------
    await wb.runCommand('Backtest: Open Runs List');
    view = wb.webview();
    for (const id of [sma.run_id, don.run_id]) {
      const box = view.locator(`.vrow[data-vscode-context*="${id}"] input[type=checkbox]`);
      await box.waitFor({ timeout: 30_000 });
      await box.click();
    }
    await wb.screenshot('views-runs-list-dark');
    await view.getByRole('button', { name: /^Compare/ }).click();
    await waitUntil(async () => (await wb!.webview().locator('#compare-metrics').count()) > 0, 30_000, 'the compare view');
    view = wb.webview();
    await view.locator('.compare-chart .main-svg').first().waitFor({ timeout: 30_000 });
    assert.ok((await view.locator('#compare-metrics td.best').count()) >= 5, 'best value per row marked');
    assert.match(await view.locator('#compare-diff').innerText(), /strategy_id/);
    await wb.screenshot('views-compare-dark');

    // --- Sweep heatmap, click a cell → that run ---------------------------------------------------
    await wb.runCommand('Backtest: Open Sweep Results…', { keepOpen: true });
    await page.keyboard.press('Enter');
    await waitUntil(async () => (await wb!.webview().locator('.heatmap .main-svg').count()) > 0, 30_000, 'the sweep heatmap');
    view = wb.webview();
    assert.match(await view.locator('h1').innerText(), /Sweep/);
    assert.match(await view.locator('.sweep').innerText(), new RegExp(sweep.sweep_id));
    await wb.screenshot('views-sweep-dark');
    const drag = view.locator('.heatmap .nsewdrag').first();
    const box = (await drag.boundingBox())!;
    await page.mouse.click(box.x + box.width / 6, box.y + box.height * 0.75); // a cell in the first column, lower row
    await waitUntil(
      async () =>
        /^Run sma-cross/.test(
          await page
            .locator('.tab.active')
            .innerText()
            .catch(() => ''),
        ),
      30_000,
      "the clicked cell's run opens",
    );

    // --- Light theme: every chart re-themes without reopening ----------------------------------------
    const darkAxis = await wb
      .webview()
      .locator('.run-chart .xtick text')
      .first()
      .getAttribute('style')
      .catch(() => '');
    await wb.runCommand('Preferences: Color Theme', { keepOpen: true });
    await page.locator('.quick-input-widget input.input').fill('Light Modern');
    await sleep(600);
    await page.keyboard.press('Enter');
    await waitUntil(async () => (await wb!.webview().locator('body.vscode-light').count()) > 0, 30_000, 'the light theme in the webview');
    await sleep(800);
    const lightAxis = await wb
      .webview()
      .locator('.run-chart .xtick text')
      .first()
      .getAttribute('style')
      .catch(() => '');
    assert.notEqual(lightAxis, darkAxis, 'the chart re-themed');
    await wb.screenshot('views-run-light');
    for (const [label, name] of [
      ['Sweep', 'views-sweep-light'],
      ['Compare', 'views-compare-light'],
      ['Backtest Runs', 'views-runs-list-light'],
    ] as const) {
      await page.locator('.tabs-container .tab', { hasText: label }).first().click();
      await sleep(2500);
      await wb.screenshot(name);
    }

    // --- Reload: the run view is restored by its serializer -------------------------------------------
    await page.locator('.tabs-container .tab', { hasText: 'Run sma-cross' }).first().click();
    await sleep(500);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await wb.waitForActivityBar('Backtest');
    const tabs = page.locator('.tabs-container .tab');
    await waitUntil(async () => (await tabs.allInnerTexts()).join('|').includes('Compare 2 runs'), 60_000, 'the editors restored');
    const titles = (await tabs.allInnerTexts()).join('|');
    for (const t of ['Run sma-cross fast=5 slow=20', 'Backtest Runs', 'Compare 2 runs', 'Sweep sma-cross'])
      assert.ok(titles.includes(t), `${t} restored (${titles})`);
    await tabs.filter({ hasText: 'Run sma-cross fast=5 slow=20' }).first().click();
    await waitUntil(async () => (await wb!.webview().locator('.run-chart .main-svg').count()) > 0, 60_000, 'the restored run view');
    // it resumes its replay where it was, paused
    await waitUntil(
      async () =>
        Number(
          await wb!
            .webview()
            .locator('.cursor-text')
            .getAttribute('data-cursor')
            .catch(() => ''),
        ) > 0,
      30_000,
      'the replay cursor restored',
    );
    await wb.screenshot('views-restored-after-reload-light');
    const csp = wb.consoleErrors.filter((e) => /Content Security Policy|CSP violation/.test(e));
    assert.deepEqual(csp, [], 'no CSP violation in any view');
    assert.deepEqual(
      wb.consoleErrors.filter((e) => /btnb/i.test(e)),
      [],
    );
  });
});
