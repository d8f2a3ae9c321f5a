// What a person sees, in real Chromium: the Backtest sidebar lists a dataset and its run from a
// catalog written by the btnb CLI; clicking the run opens its metrics view; the palette opens
// the runs list. Then the packaged .vsix, installed into a fresh code-server, runs a palette
// command end to end (sample dataset job: native SQLite, Parquet wasm, forked job bundles).
// Screenshots go to test-output/. Expected values come from the CLI's own JSON output.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, sleep } from '../vscode/codeServer.ts';
import { openWorkbench, packageVsix, waitUntil, type Workbench } from './browser.ts';

const cli = (args: string[]) => execFileSync(process.execPath, [join(REPO_ROOT, 'dist/cli.js'), ...args], { encoding: 'utf8' });
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

describe('e2e: Backtest sidebar, run view and the packaged extension (Chromium + code-server)', function () {
  this.timeout(300_000);
  let wb: Workbench | undefined;
  const tmp: string[] = [];

  afterEach(async function () {
    if (wb && this.currentTest?.state === 'failed') await wb.screenshot(`ext-failed-${Date.now()}`).catch(() => {});
    await wb?.close();
    wb = undefined;
  });
  after(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('shows the CLI-written dataset and run in the tree, opens the run and the runs list', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'btnb-e2e-ws-'));
    tmp.push(ws);
    const data = join(ws, 'data');
    const synth = JSON.parse(
      cli([
        'data',
        'synth',
        '--symbol',
        'E2E',
        '--start',
        '2024-03-04',
        '--days',
        '2',
        '--seed',
        '4',
        '--out',
        join(ws, 'synth'),
        '--import',
        '--derive',
        '--json',
        '--data-dir',
        data,
      ]),
    ) as { datasets?: { dataset_id: string }[] } & Record<string, unknown>;
    const datasetId = /"dataset_id":\s*"(ds_[0-9a-f]{16})"/.exec(JSON.stringify(synth))![1]!;
    const bt = JSON.parse(
      cli([
        'backtest',
        '--dataset',
        datasetId,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=5',
        '--param',
        'slow=20',
        '--json',
        '--data-dir',
        data,
      ]),
    );
    const runId: string = bt.run_id ?? bt.run?.run_id;
    assert.match(runId, /^[0-9A-Z]{26}$/, JSON.stringify(bt).slice(0, 300));
    const metrics = JSON.parse(readFileSync(join(data, 'backtests', runId, 'metrics.json'), 'utf8')) as { total_return: number };

    wb = await openWorkbench({ developmentExtension: true, workspace: ws });
    await wb.waitForActivityBar('Backtest');
    await wb.page.locator('.part.activitybar .action-item [aria-label^="Backtest"]').first().click();
    const tree = wb.page.locator('.pane-body .monaco-list-row');
    await waitUntil(
      async () => (await tree.allInnerTexts()).some((t) => t.includes('E2E')),
      30_000,
      'the E2E dataset row in the Backtest tree',
    );
    const runRow = wb.page.locator('.monaco-list-row', { hasText: 'sma-cross' }).first();
    await runRow.waitFor({ state: 'visible', timeout: 30_000 });
    const rowText = await runRow.innerText();
    assert.ok(rowText.includes(pct(metrics.total_return)), `tree row "${rowText}" should show ${pct(metrics.total_return)}`);
    assert.ok(statSync(await wb.screenshot('e2e-tree')).size > 10_000);

    await runRow.click();
    const view = wb.webview();
    await view.locator('.metric-cards').waitFor({ timeout: 30_000 });
    assert.equal((await view.locator('[data-metric-value="total_return"]').innerText()).trim(), pct(metrics.total_return));
    await view.getByRole('tab', { name: 'Manifest' }).click();
    assert.ok((await view.locator('#manifest').innerText()).includes(runId));
    await wb.screenshot('e2e-run-view');

    await wb.runCommand('Backtest: Open Runs List');
    const row = () => wb!.webview().locator(`.vrow[data-vscode-context*="${runId}"]`);
    await waitUntil(async () => (await row().count()) > 0, 30_000, 'the run in the runs list webview');
    await wb.screenshot('e2e-runs-list');
    // A row click goes webview → host (postMessage) → Open Run: the run's tab becomes active.
    await row().click();
    await waitUntil(
      async () =>
        /Run sma-cross/.test(
          await wb!.page
            .locator('.tab.active')
            .innerText()
            .catch(() => ''),
        ),
      20_000,
      'the run tab active after a row click',
    );

    // Run Backtest… through the real prompts: dataset and strategy quick picks, one input box per
    // parameter (an invalid value shows the schema's message in the box), costs, seed, session.
    const page = wb.page;
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    const answer = async (title: RegExp, text: string) => {
      await waitUntil(async () => title.test(await widget.innerText().catch(() => '')), 20_000, `prompt ${title}`);
      await input.fill(text);
      await sleep(150);
      await page.keyboard.press('Enter');
      await sleep(250);
    };
    // Not wb.runCommand: it waits for the palette to close, but this command keeps the same quick
    // input open for its first prompt.
    const openPaletteCommand = async (label: string) => {
      // A webview that has the focus (the run view a click just opened) keeps F1 to itself
      // now and then: take the focus back to the workbench and retry until the palette shows.
      for (let k = 0; k < 5 && !(await widget.isVisible()); k++) {
        await page.keyboard.press('Escape');
        await page.evaluate('document.activeElement && document.activeElement.blur && document.activeElement.blur()');
        await page
          .locator('.part.activitybar')
          .click({ position: { x: 5, y: 300 } })
          .catch(() => undefined);
        await page.keyboard.press('F1');
        await widget.waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
      }
      await input.fill(`>${label}`);
      const row = widget.locator(`.monaco-list-row[aria-label^="${label}"]`);
      await waitUntil(async () => (await row.count()) > 0, 20_000, `the ${label} palette row`);
      await row.first().click();
    };
    await openPaletteCommand('Backtest: Run Backtest…');
    await answer(/Dataset to backtest/, 'E2E');
    await answer(/Strategy/, 'sma-cross');
    await waitUntil(async () => /fast \(integer\)/.test(await widget.innerText().catch(() => '')), 20_000, 'the fast prompt');
    await input.fill('0');
    const message = widget.locator('.quick-input-message');
    await waitUntil(async () => /fast:/.test(await message.innerText().catch(() => '')), 10_000, 'the validation message for fast = 0');
    assert.match(await message.innerText(), /fast: .*1/);
    await wb.screenshot('e2e-invalid-parameter');
    await answer(/fast \(integer\)/, '7');
    await answer(/slow \(integer\)/, '21');
    await answer(/size \(number\)/, '100');
    await answer(/allow_short \(boolean\)/, 'false');
    await answer(/Costs/, 'fee_per_unit=0.01');
    await answer(/Seed/, '0');
    await answer(/Session/, 'rth');
    const done = await wb.waitForNotification(/Backtest sma-cross .*fast=7.*: done — return [+-]\d+\.\d\d%, Sharpe/, 90_000);
    assert.ok(done);
    await waitUntil(async () => (await tree.allInnerTexts()).some((t) => t.includes('fast=7')), 30_000, 'the new run in the tree');
    await wb.screenshot('e2e-run-backtest-from-palette');

    // Cancel from the progress notification: a workspace strategy that never yields is killed and
    // its run ends canceled in the catalog and the tree.
    mkdirSync(join(ws, 'strategies'), { recursive: true });
    writeFileSync(
      join(ws, 'strategies', 'spin.ts'),
      `import { defineStrategy, z } from 'backtest-notebook';
export default defineStrategy({ id: 'spin', params: z.strictObject({}), onBar() { const t = Date.now(); while (Date.now() - t < 50) { /* never yields */ } } });
`,
    );
    await openPaletteCommand('Backtest: Run Backtest…');
    await answer(/Dataset to backtest/, 'E2E');
    await answer(/Strategy/, 'spin');
    await answer(/spin parameters \(JSON object\)/, '{}');
    await answer(/Costs/, '');
    await answer(/Seed/, '0');
    await answer(/Session/, 'all');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Backtest spin' });
    await toast.waitFor({ timeout: 30_000 });
    await wb.screenshot('e2e-progress-notification');
    await toast.hover();
    await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await wb.waitForNotification('Backtest spin: canceled', 30_000);
    const runs = JSON.parse(cli(['runs', 'list', '--json', '--data-dir', data])) as unknown;
    const spin = (Array.isArray(runs) ? runs : (runs as { runs: unknown[] }).runs).find(
      (r) => (r as { strategy_id: string }).strategy_id === 'spin',
    ) as { status: string } | undefined;
    assert.equal(spin?.status, 'canceled');
    await waitUntil(
      async () => (await tree.allInnerTexts()).some((t) => t.includes('spin') && t.includes('canceled')),
      30_000,
      'the canceled run in the tree',
    );
    await wb.screenshot('e2e-canceled-run');
    assert.deepEqual(
      wb.consoleErrors.filter((e) => /btnb|backtest/i.test(e)),
      [],
    );
  });

  it('the packaged .vsix installs into a fresh code-server and "Generate Sample Dataset" works from the palette', async () => {
    const vsix = packageVsix();
    wb = await openWorkbench({ vsix });
    await wb.waitForActivityBar('Backtest');
    await wb.runCommand('Backtest: Generate Sample Dataset');
    const text = await wb.waitForNotification(/Imported DEMO \(ds_[0-9a-f]{16}, \d+ bars\)/, 90_000);
    assert.match(text, /Imported DEMO/);
    await wb.page.locator('.part.activitybar .action-item [aria-label^="Backtest"]').first().click();
    await waitUntil(
      async () => (await wb!.page.locator('.pane-body .monaco-list-row').allInnerTexts()).some((t) => t.includes('DEMO')),
      30_000,
      'DEMO in the tree',
    );
    await wb.screenshot('e2e-vsix-sample-dataset');
  });
});
