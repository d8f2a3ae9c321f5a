/** Numbers as the views show them. Empty values (null, NaN) are an em dash. */
import type { MetricFormat } from '../../engine/views/metricDefs.ts';

const grouped = new Map<number, Intl.NumberFormat>();
function nf(digits: number): Intl.NumberFormat {
  let f = grouped.get(digits);
  if (!f) grouped.set(digits, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
}

const empty = (x: unknown): x is null | undefined => x === null || x === undefined || (typeof x === 'number' && !Number.isFinite(x));

export function fmtNum(x: number | null | undefined, digits = 2): string {
  return empty(x) ? '—' : nf(digits).format(x);
}

export function fmtPct(x: number | null | undefined, signed = false, digits = 2): string {
  if (empty(x)) return '—';
  const s = nf(digits).format(x * 100);
  return `${signed && x > 0 ? '+' : ''}${s}%`;
}

/** A price with as many decimals as it needs (up to 6), at least 2. */
export function fmtPrice(x: number | null | undefined): string {
  if (empty(x)) return '—';
  const s = x.toFixed(6).replace(/0+$/, '');
  const d = Math.max(2, s.length - s.indexOf('.') - 1);
  return nf(Math.min(6, d)).format(x);
}

/** A quantity: integers without decimals, others with up to 4. */
export function fmtQty(x: number | null | undefined): string {
  if (empty(x)) return '—';
  return Number.isInteger(x) ? nf(0).format(x) : nf(4).format(x).replace(/0+$/, '');
}

export function fmtMetric(x: number | null | undefined, format: MetricFormat): string {
  switch (format) {
    case 'money':
      return fmtNum(x, 2);
    case 'pct-signed':
      return fmtPct(x, true);
    case 'pct':
      return fmtPct(x);
    case 'ratio':
      return fmtNum(x, 3);
    case 'int':
      return fmtNum(x, 0);
  }
}

/** 1.2 s, 3 min 4 s, 2 h 05 min. */
export function fmtDuration(ms: number | null | undefined): string {
  if (empty(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m - h * 60).padStart(2, '0')} min`;
}

/** The costs a run was charged, short: `cash 100,000 · slippage 1 bps · fee 0.005/unit`. */
export function fmtCosts(c: Record<string, unknown>): string {
  const n = (k: string) => (typeof c[k] === 'number' ? c[k] : 0);
  const parts = [`cash ${fmtNum(n('cash'), 0)}`];
  const model = c.slippage_model as string | undefined;
  if (model === 'half-spread') parts.push('slippage ½ spread');
  else if (model === 'random') parts.push(`slippage random ≤ ${n('slippage_bps')} bps`);
  else if (n('slippage_bps') > 0) parts.push(`slippage ${n('slippage_bps')} bps`);
  if (n('fee_per_unit') > 0) parts.push(`fee ${n('fee_per_unit')}/unit`);
  if (n('fee_bps') > 0) parts.push(`fee ${n('fee_bps')} bps`);
  if (n('fee_min') > 0) parts.push(`min fee ${n('fee_min')}`);
  if (parts.length === 1) parts.push('no slippage or fees');
  return parts.join(' · ');
}
