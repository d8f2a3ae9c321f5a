// End-to-end smoke test in real Chromium: a person opens VS Code (code-server) with the
// extension, runs "Backtest: Show Version" from the command palette and sees the version.
// The expected text is built from package.json, not from the extension's code.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../vscode/codeServer.ts';
import { openWorkbench, type Workbench } from './browser.ts';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  displayName: string;
  contributes: { commands: { command: string; title: string; category?: string }[] };
};

describe('e2e: command palette (Chromium + code-server)', function () {
  this.timeout(180_000);
  let wb: Workbench | undefined;

  before(function () {
    if (!existsSync(join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js missing: run `npm run build` first');
  });
  afterEach(async function () {
    if (wb && this.currentTest?.state === 'failed') await wb.screenshot(`smoke-failed-${Date.now()}`).catch(() => {});
    await wb?.close();
    wb = undefined;
  });

  it('runs "Backtest: Show Version" and shows the package.json version in a notification', async () => {
    const cmd = pkg.contributes.commands.find((c) => c.command === 'btnb.showVersion');
    assert.ok(cmd, 'btnb.showVersion is not contributed in package.json');
    const label = `${cmd.category}: ${cmd.title}`;
    assert.equal(label, 'Backtest: Show Version');

    wb = await openWorkbench({ developmentExtension: true });
    await wb.waitForActivityBar('Explorer');
    await wb.runCommand(label);
    const text = await wb.waitForNotification(`${pkg.displayName} ${pkg.version}`);
    assert.match(text, new RegExp(`${pkg.displayName} ${pkg.version.replace(/\./g, '\\.')}`));
    const shot = await wb.screenshot('smoke-show-version');
    assert.ok(statSync(shot).size > 10_000, `${shot} looks empty`);
    assert.deepEqual(
      wb.consoleErrors.filter((e) => /btnb|backtest/i.test(e)),
      [],
      'the extension logged errors in the browser console',
    );
  });
});
