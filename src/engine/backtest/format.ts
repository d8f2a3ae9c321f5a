/** Human-readable metrics for the CLI (TTY); --json prints the numbers as stored. */
import { METRIC_KEYS } from './statistics.ts';

const PERCENT = new Set(['total_return', 'cagr', 'volatility', 'max_drawdown', 'win_rate', 'exposure']);

export function formatMetric(key: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (PERCENT.has(key)) return `${(v * 100).toFixed(2)} %`;
  if (key === 'num_trades' || key === 'num_fills') return String(v);
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
  return v.toFixed(4);
}

export function metricsTable(metrics: Record<string, number | null> | null): string {
  if (!metrics) return '  (no metrics)\n';
  const w = Math.max(...METRIC_KEYS.map((k) => k.length));
  return METRIC_KEYS.map((k) => `  ${k.padEnd(w)}  ${formatMetric(k, metrics[k]).padStart(16)}\n`).join('');
}
