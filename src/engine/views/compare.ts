/**
 * Compare 2–8 runs: equity normalised to 1 at the common start (the latest first bar among the
 * runs) with the drawdown of that normalised curve, and the manifest fields that differ.
 */
import { bucketSize, m4Indices, pickNum } from '../replay/decimate.ts';
import { barAtOrAfter, type RunSeries } from '../replay/runSeries.ts';
import type { CompareData, RunInfo } from './protocol.ts';

/** The manifest fields a comparison looks at, flattened to dotted paths (params.fast, costs.fee_bps, …). */
export function comparableFields(manifest: Record<string, unknown> | null, run: RunInfo): Record<string, unknown> {
  const m = manifest ?? {};
  const out: Record<string, unknown> = {
    strategy_id: run.strategy_id,
    dataset: m.dataset_ids ?? [run.dataset_id],
    symbol: run.symbol,
    seed: run.seed,
    session: run.session,
    code_hash: run.code_hash,
    engine_version: run.engine_version,
    date_range: m.date_range ?? null,
    calendar_version: m.calendar_version ?? null,
  };
  for (const [k, v] of Object.entries(run.params)) out[`params.${k}`] = v;
  for (const [k, v] of Object.entries(run.costs)) out[`costs.${k}`] = v;
  return out;
}

export function manifestDiff(items: { manifest: Record<string, unknown> | null; run: RunInfo }[]): CompareData['diff'] {
  const flat = items.map((x) => comparableFields(x.manifest, x.run));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  const order = (k: string) => (k.startsWith('params.') ? 1 : k.startsWith('costs.') ? 2 : 0);
  keys.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const diff: CompareData['diff'] = [];
  for (const k of keys) {
    const values = flat.map((f) => (k in f ? JSON.stringify(f[k]) : null));
    if (values.some((v) => v !== values[0])) diff.push({ field: k, values });
  }
  return diff;
}

/** Each run's equity / its equity at the common start, with that curve's own drawdown, M4-decimated. */
export function normalisedCurves(series: RunSeries[], points: number): { commonStart: number | null; curves: CompareData['curves'] } {
  if (series.length === 0) return { commonStart: null, curves: [] };
  const commonStart = Math.max(...series.map((s) => (s.length > 0 ? s.tsMs[0]! : -Infinity)));
  const curves = series.map((s) => {
    const k0 = barAtOrAfter(s.tsMs, commonStart);
    const n = s.length - k0;
    const norm = new Float64Array(n);
    const dd = new Float64Array(n);
    const base = n > 0 ? s.equity[k0]! : 1;
    let peak = 1;
    for (let k = 0; k < n; k++) {
      const v = s.equity[k0 + k]! / base;
      norm[k] = v;
      if (v > peak) peak = v;
      dd[k] = 1 - v / peak;
    }
    const idx = n === 0 ? [] : m4Indices([norm, dd], 0, n, bucketSize(0, n, points));
    const ts = s.tsMs.subarray(k0);
    return { run_id: s.run.run_id, ts_ms: pickNum(ts, idx), norm: pickNum(norm, idx), drawdown: pickNum(dd, idx) };
  });
  return { commonStart: Number.isFinite(commonStart) ? commonStart : null, curves };
}
