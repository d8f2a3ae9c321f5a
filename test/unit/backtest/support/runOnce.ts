// Child process for the cross-process determinism test: makes a data dir, runs one backtest, prints the artifacts dir.
import { makeDataDir } from './dataset.ts';
import { runBacktestToCatalog } from '../../../../src/engine/backtest/runner.ts';

const [dir, strategy] = process.argv.slice(2);
const { dataDir, datasetId } = await makeDataDir(3000, 5, dir);
const out = await runBacktestToCatalog({
  dataDir,
  datasetId,
  strategy: strategy!,
  params: { allow_short: true },
  seed: 11,
  costs: { slippage_model: 'random', slippage_bps: 3, fee_per_unit: 0.005, fee_min: 1 },
});
process.stdout.write(`${out.artifacts_dir}\n`);
