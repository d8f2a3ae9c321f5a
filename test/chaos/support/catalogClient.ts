/**
 * A separate process writing or reading the same catalog for the concurrent-writers probe.
 *   node catalogClient.ts write DATA_DIR DATASET_ID WRITER N  → N backtests with distinct params
 *   node catalogClient.ts read DATA_DIR STOP_FILE             → lists runs until STOP_FILE exists
 * Each run opens its own catalog, as separate CLI calls would. Prints one JSON line at the end:
 * runs made and every error seen (a reader's error is also a succeeded run it saw half-written).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LocalBacktestRunner } from '../../../src/engine/backtest/runner.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';

const [mode, dataDir, a, b, c] = process.argv.slice(2);
const errors: string[] = [];

if (mode === 'write') {
  const writer = Number(b);
  const n = Number(c);
  const runner = new LocalBacktestRunner(dataDir!);
  const made: string[] = [];
  for (let k = 0; k < n; k++) {
    try {
      const r = await runner.run({ datasetId: a!, strategy: 'sma-cross', params: { fast: 2 + writer * n + k, slow: 250 } });
      if (r.run.status !== 'succeeded') errors.push(`run ${r.run.run_id} ${r.run.status}: ${r.run.error ?? ''}`);
      made.push(r.input_hash);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  process.stdout.write(`${JSON.stringify({ made, errors })}\n`);
} else {
  let reads = 0;
  let seen = 0;
  while (!existsSync(a!)) {
    try {
      const cat = openCatalog(join(dataDir!, 'catalog.sqlite'));
      try {
        const runs = cat.listRuns({ limit: 100_000 });
        reads++;
        for (const r of runs) {
          if (r.status !== 'succeeded') continue;
          seen++;
          // a light sweep point is whole without files: its metrics and the manifest it will get
          if (!r.materialized) {
            if (!r.metrics || !cat.getRunManifest(r.run_id)) errors.push(`light run ${r.run_id} without metrics or manifest`);
          } else if (!r.artifacts_dir || !existsSync(join(dataDir!, r.artifacts_dir, 'run-manifest.json')))
            errors.push(`succeeded run ${r.run_id} without its artifacts`);
        }
      } finally {
        cat.close();
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  process.stdout.write(`${JSON.stringify({ reads, seen, errors })}\n`);
}
