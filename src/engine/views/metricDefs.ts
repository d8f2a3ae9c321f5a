/**
 * The metrics of metrics.json (docs/backtest.md, "Metrics") in their order, with how views show them and
 * the definition a tooltip gives. Views only display metrics; the engine computes them.
 */
export type MetricFormat = 'money' | 'pct-signed' | 'pct' | 'ratio' | 'int';

export interface MetricDef {
  key: string;
  label: string;
  format: MetricFormat;
  /** Which end is better (for "best" highlights and heatmap colour scales); null when neither is. */
  best: 'max' | 'min' | null;
  definition: string;
}

export const METRIC_DEFS: readonly MetricDef[] = [
  {
    key: 'final_equity',
    label: 'Final equity',
    format: 'money',
    best: 'max',
    definition: 'Equity at the last bar: cash + position × close. Open positions are marked to market, not closed.',
  },
  { key: 'total_return', label: 'Total return', format: 'pct-signed', best: 'max', definition: 'final_equity / initial cash − 1.' },
  {
    key: 'cagr',
    label: 'CAGR',
    format: 'pct-signed',
    best: 'max',
    definition:
      '(final_equity / initial cash)^(1 / years) − 1, years = (last bar − first bar) / 365.25 days. Empty when the span is 0 or equity ≤ 0.',
  },
  {
    key: 'volatility',
    label: 'Volatility (ann.)',
    format: 'pct',
    best: 'min',
    definition: 'Standard deviation (ddof 1) of daily returns × √252. Daily = last bar of each New York calendar date.',
  },
  {
    key: 'sharpe',
    label: 'Sharpe',
    format: 'ratio',
    best: 'max',
    definition: 'mean(daily return) / std(daily return, ddof 1) × √252, no risk-free rate. Empty with fewer than 2 days or zero std.',
  },
  {
    key: 'sortino',
    label: 'Sortino',
    format: 'ratio',
    best: 'max',
    definition: 'mean(daily return) / √(mean of min(r, 0)²) × √252. Empty when no day lost.',
  },
  {
    key: 'max_drawdown',
    label: 'Max drawdown',
    format: 'pct',
    best: 'min',
    definition: 'Largest 1 − equity / running peak over all bars (the peak starts at the initial cash).',
  },
  {
    key: 'calmar',
    label: 'Calmar',
    format: 'ratio',
    best: 'max',
    definition: 'CAGR / max drawdown. Empty when either is empty or the drawdown is 0.',
  },
  {
    key: 'num_trades',
    label: 'Trades',
    format: 'int',
    best: null,
    definition: 'Closed round trips (flat → position → flat or reversal). An open trip at the end is not counted.',
  },
  { key: 'win_rate', label: 'Win rate', format: 'pct', best: 'max', definition: 'Share of closed round trips with P&L > 0 (after fees).' },
  {
    key: 'profit_factor',
    label: 'Profit factor',
    format: 'ratio',
    best: 'max',
    definition: 'Σ P&L of winners / |Σ P&L of losers|. Empty when no trip lost; 0 when some lost and none won.',
  },
  {
    key: 'avg_trade_pnl',
    label: 'Avg trade P&L',
    format: 'money',
    best: 'max',
    definition: 'Mean P&L (after fees) of closed round trips.',
  },
  {
    key: 'exposure',
    label: 'Exposure',
    format: 'pct',
    best: null,
    definition: "Share of bars with a non-zero position after that bar's fills.",
  },
  { key: 'num_fills', label: 'Fills', format: 'int', best: null, definition: 'Fills (a reversal is one fill).' },
  {
    key: 'fees_total',
    label: 'Fees',
    format: 'money',
    best: 'min',
    definition: 'Σ fees: max(fee_min, |qty| × fee_per_unit + |qty| × price × fee_bps / 10⁴) per fill.',
  },
  { key: 'turnover', label: 'Turnover', format: 'money', best: null, definition: 'Σ |qty × fill price| (slippage included, fees not).' },
];

export const METRIC_KEYS: readonly string[] = METRIC_DEFS.map((m) => m.key);

export function metricDef(key: string): MetricDef | undefined {
  return METRIC_DEFS.find((m) => m.key === key);
}
