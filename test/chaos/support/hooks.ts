/** Root hooks of the chaos suite: the report table on stdout and in test-output/chaos.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FULL, rows, table } from './report.ts';

after(() => {
  if (rows.length === 0) return;
  const out = join(process.cwd(), 'test-output');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'chaos.json'), `${JSON.stringify({ mode: FULL ? 'full' : 'quick', probes: rows }, null, 2)}\n`);
  process.stdout.write(`\nchaos report (${FULL ? 'full' : 'quick'} mode), test-output/chaos.json:\n${table(rows)}\n`);
  for (const r of rows) for (const n of r.notes) process.stdout.write(`  ${r.probe}: ${n}\n`);
});
