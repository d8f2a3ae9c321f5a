// Child process for the concurrent-importers test: waits for a start time, imports, prints JSON.
import { importFiles } from '../../../../src/engine/ingest/importFiles.ts';

const [dataDir, startAt, ...files] = process.argv.slice(2);
const wait = Number(startAt) - Date.now();
if (wait > 0) await new Promise((r) => setTimeout(r, wait));
try {
  const res = await importFiles(files, { dataDir: dataDir! });
  process.stdout.write(JSON.stringify(res));
} catch (err) {
  process.stderr.write(String((err as Error).stack));
  process.exitCode = 1;
}
