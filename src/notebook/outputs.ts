/**
 * What a notebook output carries — the JSON of each custom MIME type, shared by the controller
 * (which writes it), the file (which keeps it: summaries only, never series) and the renderer
 * (which checks it on arrival and draws it, asking the host for series when it can).
 */
import { z } from 'zod';

const metrics = z.record(z.string(), z.number().nullable());
const params = z.record(z.string(), z.unknown());

export const RunOutput = z.object({
  run_id: z.string(),
  /** The data dir the run lives in: reopening elsewhere says so instead of showing another run. */
  data_dir: z.string(),
  input_hash: z.string(),
  /** false: an identical run was in the catalog and is shown instead. */
  created: z.boolean(),
  status: z.string(),
  strategy_id: z.string(),
  params,
  dataset_id: z.string(),
  symbol: z.string().nullable(),
  session: z.string(),
  metrics: metrics.nullable(),
});
export type RunOutput = z.infer<typeof RunOutput>;

export const SweepOutput = z.object({
  sweep_id: z.string(),
  data_dir: z.string(),
  kind: z.enum(['grid', 'walk-forward']),
  strategy_id: z.string(),
  dataset_id: z.string(),
  sort: z.string(),
  /** The grid's keys, in enumeration order. */
  keys: z.array(z.string()),
  /** Every point: its params, run and score (the heatmap's cells). */
  cells: z.array(z.object({ params, run_id: z.string().nullable(), status: z.string(), score: z.number().nullable() })),
  /** The best runs by `sort`, best first. */
  best: z.array(z.object({ run_id: z.string(), params, metrics })),
  walk_forward: z
    .object({
      folds: z.array(
        z.object({
          fold: z.number(),
          test_start: z.string(),
          test_end: z.string(),
          params,
          train_score: z.number().nullable(),
          test_return: z.number(),
          run_id: z.string(),
        }),
      ),
      metrics,
    })
    .nullable(),
});
export type SweepOutput = z.infer<typeof SweepOutput>;

export const DatasetOutput = z.object({
  action: z.enum(['synth', 'import', 'fetch', 'derive']),
  datasets: z.array(
    z.object({
      dataset_id: z.string(),
      symbol: z.string(),
      schemas: z.array(z.string()),
      start: z.string().nullable(),
      end: z.string().nullable(),
      bar_count: z.number().nullable(),
    }),
  ),
  note: z.string().nullable(),
});
export type DatasetOutput = z.infer<typeof DatasetOutput>;

export const TableOutput = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.union([z.number(), z.string(), z.boolean(), z.null()]))),
  /** Rows the query produced in all; `rows` holds the first ones. */
  total: z.number(),
});
export type TableOutput = z.infer<typeof TableOutput>;

export const StrategyOutput = z.object({
  name: z.string(),
  strategy_id: z.string(),
  description: z.string().nullable(),
  code_hash: z.string(),
  params: z.array(z.object({ name: z.string(), type: z.string(), default: z.unknown(), description: z.string().nullable() })),
});
export type StrategyOutput = z.infer<typeof StrategyOutput>;

/** Rows a table output keeps in the file (more are shown while the notebook is open). */
export const PERSISTED_TABLE_ROWS = 200;
/** Best runs listed under a sweep. */
export const BEST_RUNS = 10;
