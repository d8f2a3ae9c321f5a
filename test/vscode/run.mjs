#!/usr/bin/env node
// Extension-host integration tests in a real VS Code (code-server) driven by headless Chromium.
// Usage: node test/vscode/run.mjs   (npm run test:vscode)   — see test/vscode/launcher.ts.
// code-server and the TypeScript launcher need Node 24: re-run on the repo's node@24 if needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (Number(process.versions.node.split('.')[0]) < 24) {
  const node24 = join(here, '..', '..', 'node_modules', '.bin', 'node');
  if (!existsSync(node24)) {
    console.error(`test/vscode/run.mjs needs Node 24 (this is ${process.version}); run 'npm ci' first, then 'npm run test:vscode'`);
    process.exit(1);
  }
  const r = spawnSync(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { main } = await import('./launcher.ts');
process.exit(await main());
