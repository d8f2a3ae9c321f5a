/**
 * Sweep grids — the one grammar (docs/backtest.md "Sweeps"), used by `btnb sweep --grid`, the job
 * protocol, the extension's input box, walk-forward and (next) notebook cells and the HTTP API.
 *
 * - An entry is `name=a:b:step` (inclusive range, exact in decimal: 0.1:0.5:0.1 gives 0.1, 0.2,
 *   0.3, 0.4, 0.5) or `name=v1,v2,…` (numbers, true/false, or text).
 * - Keys are sorted by name; each key keeps its values in the given order; the cartesian product
 *   enumerates with the last key varying fastest. So the same grid, however typed or built,
 *   gives the same points in the same order everywhere.
 * - At most MAX_GRID_POINTS combinations.
 */
import { parseParamValue } from '../backtest/paramText.ts';

export type GridValue = number | string | boolean;
/** Keys sorted by name, each with its values. */
export type Grid = readonly (readonly [name: string, values: readonly GridValue[]])[];

export const MAX_GRID_POINTS = 100_000;

export class GridError extends RangeError {
  override name = 'GridError';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** a, a + step, … ≤ b, computed on integers scaled by the inputs' decimal places (no float drift). */
function range(name: string, a: string, b: string, step: string): number[] {
  const d = Math.max(...[a, b, step].map((s) => (s.split('.')[1] ?? '').length));
  const scale = 10 ** d;
  const [A, B, S] = [a, b, step].map((s) => Math.round(Number(s) * scale)) as [number, number, number];
  if (!(S > 0)) throw new GridError(`grid ${name}: step must be > 0, got ${step}`);
  if (B < A) throw new GridError(`grid ${name}: end ${b} is below start ${a}`);
  const count = Math.floor((B - A) / S) + 1;
  if (count > MAX_GRID_POINTS) throw new GridError(`grid ${name}: ${count} values; at most ${MAX_GRID_POINTS}`);
  return Array.from({ length: count }, (_, k) => Number(((A + k * S) / scale).toFixed(d)));
}

/** `name=a:b:step` or `name=v1,v2,…` → [name, values]. */
export function parseGridEntry(entry: string): [string, GridValue[]] {
  const eq = entry.indexOf('=');
  const name = eq > 0 ? entry.slice(0, eq) : '';
  if (!NAME.test(name)) throw new GridError(`grid: expected name=a:b:step or name=v1,v2,…, got '${entry}'`);
  const body = entry.slice(eq + 1).trim();
  const parts = body.split(':');
  if (parts.length === 3 && parts.every((p) => DECIMAL.test(p.trim())))
    return [name, range(name, parts[0]!.trim(), parts[1]!.trim(), parts[2]!.trim())];
  if (parts.length > 1 && !body.includes(',')) throw new GridError(`grid ${name}: a range is a:b:step with decimal numbers, got '${body}'`);
  const values = body
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => parseParamValue(v) as GridValue);
  if (values.length === 0) throw new GridError(`grid ${name}: no values`);
  return [name, values];
}

function checked(entries: [string, readonly GridValue[]][]): Grid {
  const seen = new Set<string>();
  for (const [name] of entries) {
    if (seen.has(name)) throw new GridError(`grid ${name} given twice`);
    seen.add(name);
  }
  const grid = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const size = gridSize(grid);
  if (size > MAX_GRID_POINTS)
    throw new GridError(`grid: ${size.toLocaleString('en-US')} combinations; at most ${MAX_GRID_POINTS.toLocaleString('en-US')}`);
  return grid;
}

/** `--grid` entries (CLI). */
export function parseGrid(entries: readonly string[]): Grid {
  if (entries.length === 0) throw new GridError('grid: expected at least one name=values entry, e.g. fast=5,10,20 slow=30:90:30');
  return checked(entries.map(parseGridEntry));
}

/** Entries separated by whitespace (input boxes, notebook cells): `fast=5,10,20 slow=30:90:30`. */
export function parseGridText(text: string): Grid {
  return parseGrid(text.split(/\s+/).filter(Boolean));
}

/** `{ fast: [5, 10], slow: '30:90:30' }` (objects: job protocol, API, notebook YAML) → Grid. */
export function gridFromRecord(rec: Readonly<Record<string, unknown>>): Grid {
  const entries: [string, GridValue[]][] = [];
  for (const [name, v] of Object.entries(rec)) {
    if (!NAME.test(name)) throw new GridError(`grid: '${name}' is not a parameter name`);
    if (typeof v === 'string') entries.push(parseGridEntry(`${name}=${v}`));
    else if (Array.isArray(v)) {
      if (v.length === 0) throw new GridError(`grid ${name}: no values`);
      const bad = v.find((x) => !(typeof x === 'number' ? Number.isFinite(x) : typeof x === 'string' || typeof x === 'boolean'));
      if (bad !== undefined) throw new GridError(`grid ${name}: values must be numbers, text or true/false, got ${JSON.stringify(bad)}`);
      entries.push([name, v as GridValue[]]);
    } else throw new GridError(`grid ${name}: expected a list of values or 'a:b:step', got ${JSON.stringify(v)}`);
  }
  if (entries.length === 0) throw new GridError('grid: expected at least one parameter');
  return checked(entries);
}

export function gridToRecord(grid: Grid): Record<string, GridValue[]> {
  return Object.fromEntries(grid.map(([k, v]) => [k, [...v]]));
}

export function gridSize(grid: Grid): number {
  return grid.reduce((n, [, v]) => n * v.length, 1);
}

/** Every combination (with `fixed` params), the last key varying fastest. */
export function gridPoints(grid: Grid, fixed: Readonly<Record<string, unknown>> = {}): Record<string, unknown>[] {
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

/**
 * Which sweep points get artifacts when they run (`--artifacts`): every one, the best N by the
 * sort metric, or none; the others are light (catalog only) and materialised when opened.
 */
export type ArtifactsMode = { kind: 'all' } | { kind: 'top'; n: number } | { kind: 'none' };
export const DEFAULT_ARTIFACTS: ArtifactsMode = { kind: 'top', n: 10 };

/** `all`, `none` or `top:N` (N ≥ 0). */
export function parseArtifactsMode(text: string): ArtifactsMode {
  if (text === 'all' || text === 'none') return { kind: text };
  const m = /^top:(\d{1,6})$/.exec(text);
  if (m) return { kind: 'top', n: Number(m[1]) };
  throw new GridError(`artifacts: expected all, none or top:N (e.g. top:10), got ${JSON.stringify(text)}`);
}

export function formatArtifactsMode(m: ArtifactsMode): string {
  return m.kind === 'top' ? `top:${m.n}` : m.kind;
}
