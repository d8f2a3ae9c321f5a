/**
 * The sweep room's public entry (docs/backtest.md, sweeps and walk-forward): run a grid of points
 * on worker processes (runSweep), optimise walk-forward (runWalkForward), and the forked worker's
 * main. The grid grammar (grid.ts) is the room's other public module: a leaf that protocols and
 * editors import without loading the runners. Everything else here is internal.
 */
export { runSweep, type SweepRequest, type SweepResult, type SweepPointResult } from './sweep.ts';
export { runWalkForward, type WalkForwardRunRequest, type WalkForwardRunResult } from './walkForwardRun.ts';
export { parseWalkForward, type WalkForwardFold, type WalkForwardResult } from './walkForward.ts';
export { sweepWorkerMain } from './worker.ts';
