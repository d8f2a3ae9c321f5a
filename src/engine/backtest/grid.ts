/** Sweep grids: `name=a:b:step` (inclusive numeric range) or `name=v1,v2,…`; cartesian product in a fixed order. */
import { parseParamValue } from './cliOptions.ts';

export type Grid = [name: string, values: unknown[]][];

export class GridError extends Error {
  override name = 'GridError';
}

export function parseGridSpec(spec: string): [string, unknown[]] {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new GridError(`--grid expects name=a:b:step or name=v1,v2,…, got '${spec}'`);
  const name = spec.slice(0, eq);
  const body = spec.slice(eq + 1);
  const range = /^(-?\d+(?:\.\d+)?):(-?\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(body);
  if (range) {
    const [a, b, step] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (!(step > 0)) throw new GridError(`--grid ${name}: step must be > 0, got ${range[3]}`);
    if (b < a) throw new GridError(`--grid ${name}: end ${b} is below start ${a}`);
    // Decimal places of the inputs bound the rounding so 0.1 steps give 0.3, not 0.30000000000000004.
    const decimals = Math.max(...[range[1]!, range[2]!, range[3]!].map((s) => (s.split('.')[1] ?? '').length));
    const count = Math.floor((b - a) / step + 1e-9) + 1;
    if (count > 100_000) throw new GridError(`--grid ${name}: ${count} values; at most 100000`);
    const values = Array.from({ length: count }, (_, k) => Number((a + k * step).toFixed(decimals)));
    return [name, values];
  }
  const values = body.split(',').map((v) => v.trim()).filter((v) => v !== '').map(parseParamValue);
  if (values.length === 0) throw new GridError(`--grid ${name}: no values`);
  return [name, values];
}

export function parseGrid(specs: readonly string[]): Grid {
  const grid: Grid = [];
  for (const s of specs) {
    const [name, values] = parseGridSpec(s);
    if (grid.some(([n]) => n === name)) throw new GridError(`--grid ${name} given twice`);
    grid.push([name, values]);
  }
  return grid;
}

export function gridSize(grid: Grid): number {
  return grid.reduce((n, [, v]) => n * v.length, 1);
}

/** Every combination; the last grid dimension varies fastest. */
export function gridPoints(grid: Grid, fixed: Record<string, unknown> = {}): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const idx = new Array<number>(grid.length).fill(0);
  const total = gridSize(grid);
  for (let n = 0; n < total; n++) {
    const p: Record<string, unknown> = { ...fixed };
    for (let d = 0; d < grid.length; d++) p[grid[d]![0]] = grid[d]![1][idx[d]!];
    out.push(p);
    for (let d = grid.length - 1; d >= 0; d--) {
      if (++idx[d]! < grid[d]![1].length) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Sort key for "best": higher is better, null/NaN worst; `max_drawdown` (a loss) is better when lower. */
export function metricScore(metrics: Record<string, number | null> | null | undefined, key: string): number {
  const v = metrics?.[key];
  if (v === null || v === undefined || Number.isNaN(v)) return -Infinity;
  return key === 'max_drawdown' ? -v : v;
}
