/**
 * Where the job children's entry scripts are: `dist/jobs/` next to a bundled CLI; run from the
 * TypeScript sources (tests, `node src/engine/cli/main.ts`) a temp folder of one-line shims that
 * import `src/engine/jobs/<kind>Job.ts` (Node runs TypeScript by type stripping).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JOB_KINDS } from './protocol.ts';

export function jobsDirFor(entryScript: string): string {
  const bundled = join(dirname(entryScript), 'jobs');
  if (existsSync(join(bundled, 'backtestJob.js'))) return bundled;
  const sources = join(dirname(entryScript), '..', 'jobs');
  if (!existsSync(join(sources, 'backtestJob.ts')))
    throw new Error(`no job scripts next to ${entryScript}: expected ${bundled}/<kind>Job.js or ${sources}/<kind>Job.ts`);
  const dir = mkdtempSync(join(tmpdir(), 'btnb-jobs-'));
  for (const kind of JOB_KINDS)
    writeFileSync(join(dir, `${kind}Job.js`), `import(${JSON.stringify(pathToFileURL(join(sources, `${kind}Job.ts`)).href)});\n`);
  return dir;
}
