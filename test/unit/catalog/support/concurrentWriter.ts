// Child process for the concurrent-writers test: opens (creating/migrating if needed) the
// catalog given in argv, says "ready" and waits for the parent's "go" (a barrier: both
// children are loaded before either writes, however slow the machine), then writes `count`
// runs one transaction each, moving every other one through running → succeeded.
import { createHash } from 'node:crypto';
import { openCatalog } from '../../../../src/engine/catalog/sqliteCatalog.ts';

const [file, tag, countText] = process.argv.slice(2);
const count = Number(countText);
const pause = new Int32Array(new SharedArrayBuffer(4));
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.pause();
const cat = openCatalog(file!);
cat.upsertDataset({ dataset_id: 'ds_00000000000000aa', symbol: 'DEMO', schemas: ['trades'], derive_version: 1 });
for (let i = 0; i < count; i++) {
  const hash = createHash('sha256').update(`${tag}/${i}`).digest('hex');
  const { run } = cat.createRun({
    input_hash: hash,
    dataset_id: 'ds_00000000000000aa',
    strategy_id: 'sma-cross',
    params: { fast: i },
    seed: 0,
    costs: {},
    session: 'all',
    code_hash: 'c',
    engine_version: '0',
    notes: `writer ${tag} ${i}`,
  });
  if (i % 2 === 0) {
    cat.markRunning(run.run_id);
    cat.markSucceeded(run.run_id, { total_return: i / 1000, num_trades: i });
  }
  // Yield the write lock for a moment, as a real writer doing other work would; without it one
  // process can finish all its writes inside a single time slice and nothing interleaves.
  Atomics.wait(pause, 0, 0, 1);
}
cat.close();
