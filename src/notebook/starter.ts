/**
 * The starter notebook (Backtest: New Backtest Notebook, and the sample workspace's
 * `analysis.btnb`): every cell kind, top to bottom on the sample dataset — a data cell that
 * synthesizes it, a strategy cell, backtests of a built-in and of that strategy, a sweep, and a
 * query over the catalog. No vscode: cells as plain data.
 */
import type { NotebookDoc } from './format.ts';

const md = (source: string) => ({ kind: 'markdown' as const, language: 'markdown', source, metadata: {}, execution: null, outputs: [] });
const code = (language: string, source: string, metadata: Record<string, unknown> = {}) => ({
  kind: 'code' as const,
  language,
  source,
  metadata,
  execution: null,
  outputs: [],
});

export function starterNotebook(): NotebookDoc {
  return {
    metadata: {},
    cells: [
      md(
        [
          '# Backtest notebook',
          '',
          'Each code cell runs as a job in a child process (**Run All** runs them in order and stops at the first failure); its output stays with the notebook.',
          '',
          '- **btnb-data** — synthesize, import, fetch (Databento) or derive a dataset → a dataset summary.',
          '- **typescript** — a strategy (`export default defineStrategy(...)`, the API of a strategy file), named by its first export.',
          '- **btnb-backtest** — a dataset, a strategy (built-in, file or strategy cell), params, costs, seed, session → a run: metrics, chart, and replay (**Play**).',
          '  Re-running an unchanged cell shows the same run (same `input_hash`); `force: true` makes a new one.',
          '- **btnb-sweep** — a grid (as `btnb sweep --grid`), optionally walk-forward → a heatmap and the best runs.',
          '- **sql** — a read-only query over the catalog tables `runs` and `datasets`.',
          '',
          'Keys are completed and checked as you type (hover a key for its meaning).',
        ].join('\n'),
      ),
      code(
        'btnb-data',
        [
          '# The sample dataset: 5 synthetic XNYS sessions of DEMO (seeded: the same bytes every time)',
          'synth:',
          '  symbol: DEMO',
          '  start: 2024-03-04',
          '  days: 5',
          '  seed: 1',
        ].join('\n'),
      ),
      code(
        'typescript',
        [
          "import { defineStrategy, z } from 'backtest-notebook';",
          '',
          '// Buy a dip below the lower Bollinger band, sell back at the middle.',
          'export const meanReversion = defineStrategy({',
          "  id: 'mean-reversion',",
          '  params: z.strictObject({',
          '    period: z.number().int().min(2).default(30),',
          '    k: z.number().positive().default(2),',
          '    size: z.number().positive().default(100),',
          '  }),',
          '  onStart(ctx, p) {',
          '    return { bands: ctx.bollinger(p.period, p.k) };',
          '  },',
          '  onBar(ctx, s, p) {',
          '    if (!s.bands.ready || ctx.isLastBar) return;',
          '    if (ctx.position === 0 && ctx.close() < s.bands.lower) ctx.targetPosition(p.size);',
          '    else if (ctx.position > 0 && ctx.close() >= s.bands.middle) ctx.targetPosition(0);',
          '  },',
          '});',
        ].join('\n'),
      ),
      code(
        'btnb-backtest',
        [
          'dataset: { symbol: DEMO, from: 2024-03-04, to: 2024-03-08 }',
          'strategy: sma-cross',
          'params: { fast: 10, slow: 30 }',
          'costs: cash=100000 fee_per_unit=0.005 slippage=half-spread',
        ].join('\n'),
      ),
      code(
        'btnb-backtest',
        ['dataset: { symbol: DEMO, from: 2024-03-04, to: 2024-03-08 }', 'strategy: meanReversion', 'params: { period: 40, k: 2.5 }'].join(
          '\n',
        ),
      ),
      code(
        'btnb-sweep',
        [
          'dataset: { symbol: DEMO, from: 2024-03-04, to: 2024-03-08 }',
          'strategy: sma-cross',
          'grid:',
          '  fast: 5:20:5',
          '  slow: 30,60,90',
          'sort: sharpe',
        ].join('\n'),
      ),
      code(
        'sql',
        [
          "SELECT run_id, strategy_id, params, json_extract(metrics, '$.total_return') AS total_return,",
          "       json_extract(metrics, '$.sharpe') AS sharpe, status",
          'FROM runs',
          'ORDER BY sharpe DESC NULLS LAST',
          'LIMIT 20',
        ].join('\n'),
      ),
    ],
  };
}
