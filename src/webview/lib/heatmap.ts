/**
 * A sweep as a heatmap grid: one metric over two parameters, the others fixed to a value or
 * aggregated. Each cell remembers the run that represents it (the best one when aggregated),
 * so a click can open it.
 */
export type Aggregate = 'best' | 'mean' | 'median' | 'min' | 'max';
export type ParamValue = number | string | boolean;

export interface SweepRun {
  run_id: string;
  params: Record<string, unknown>;
  metrics: Record<string, number | null> | null;
}

export interface HeatCell {
  value: number | null;
  runId: string | null;
  count: number;
}

export interface HeatGrid {
  xs: ParamValue[];
  ys: ParamValue[];
  /** cells[y][x] */
  cells: HeatCell[][];
  best: { x: number; y: number } | null;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function heatGrid(
  runs: SweepRun[],
  metric: string,
  better: 'max' | 'min',
  xKey: string,
  xs: ParamValue[],
  yKey: string | null,
  ys: ParamValue[],
  fixed: Record<string, ParamValue | null>,
  agg: Aggregate,
): HeatGrid {
  const yVals = yKey ? ys : ['—'];
  const buckets: { v: number; runId: string }[][][] = yVals.map(() => xs.map(() => []));
  for (const r of runs) {
    const v = r.metrics?.[metric];
    if (typeof v !== 'number') continue;
    if (Object.entries(fixed).some(([k, want]) => want !== null && !same(r.params[k], want))) continue;
    const xi = xs.findIndex((x) => same(x, r.params[xKey]));
    const yi = yKey ? yVals.findIndex((y) => same(y, r.params[yKey])) : 0;
    if (xi < 0 || yi < 0) continue;
    buckets[yi]![xi]!.push({ v, runId: r.run_id });
  }
  const sign = better === 'max' ? 1 : -1;
  let best: HeatGrid['best'] = null;
  let bestV = -Infinity;
  const cells = buckets.map((row, yi) =>
    row.map((list, xi): HeatCell => {
      if (list.length === 0) return { value: null, runId: null, count: 0 };
      const top = list.reduce((a, b) => (sign * b.v > sign * a.v ? b : a));
      const vals = list.map((x) => x.v).sort((a, b) => a - b);
      const value =
        agg === 'best'
          ? top.v
          : agg === 'min'
            ? vals[0]!
            : agg === 'max'
              ? vals.at(-1)!
              : agg === 'mean'
                ? vals.reduce((s, x) => s + x, 0) / vals.length
                : vals.length % 2
                  ? vals[(vals.length - 1) / 2]!
                  : (vals[vals.length / 2 - 1]! + vals[vals.length / 2]!) / 2;
      if (sign * value > bestV) {
        bestV = sign * value;
        best = { x: xi, y: yi };
      }
      return { value, runId: top.runId, count: list.length };
    }),
  );
  return { xs, ys: yVals, cells, best };
}
