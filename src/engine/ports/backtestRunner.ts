/**
 * BacktestRunnerPort (the seed's `run(dataset_id, strategy, params, seed, costs) -> run_id`): a
 * dataset's bars and a strategy become a catalog run with artifacts (docs/backtest.md, run
 * identity in docs/catalog.md). The local adapter is LocalBacktestRunner
 * (src/engine/backtest/runner.ts), used by `btnb backtest`, `btnb demo`, the backtest job and
 * sweep workers.
 */
import type { RunRow } from './catalog.ts';
import type { CostsInput } from '../backtest/costs.ts';
import type { BacktestResult, Costs, Metrics, Session } from '../backtest/types.ts';

/** New York trading dates, inclusive, YYYY-MM-DD. */
export interface DateRange {
  from: string;
  to: string;
}

export interface BacktestRunRequest {
  datasetId: string;
  /** A built-in id (`sma-cross`, …) or a path to a .ts/.js strategy file. */
  strategy: string;
  params?: Record<string, unknown>;
  seed?: number;
  /** Any form backtest/costs.ts accepts. */
  costs?: CostsInput | Costs;
  session?: Session;
  /** The run id to use (the extension picks it so it can settle a run whose child died). */
  runId?: string;
  /** A new run even when one with the same input_hash exists. */
  force?: boolean;
  sweepId?: string;
  tags?: string[];
  /**
   * Only the bars whose New York trading date is in [from, to]: a walk-forward fold. Part of
   * input_hash and the manifest (`date_range`) when present.
   */
  dateRange?: DateRange;
  signal?: AbortSignal;
  /** Called once the run row exists (queued) and again when it is running. */
  onStatus?: (run: RunRow) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
  /** Receives the in-memory result of a run this call computed (not of a reused one). */
  onResult?: (result: BacktestResult) => void;
}

export interface BacktestOutcome {
  run: RunRow;
  /** false when an identical run (same input_hash) was returned instead. */
  created: boolean;
  input_hash: string;
  artifacts_dir: string;
  metrics: Metrics | Record<string, number | null> | null;
}

export interface BacktestRunnerPort {
  /**
   * Runs (or returns the identical earlier run). Rejects with the run attached (`err.run`) when
   * it failed or was canceled after its row existed.
   */
  run(req: BacktestRunRequest): Promise<BacktestOutcome>;
}
