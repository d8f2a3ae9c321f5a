/**
 * The text forms the Run Backtest / Sweep prompts accept, parsed without the vscode API (unit-tested):
 * costs `cash=100000 slippage_bps=1 fee_per_unit=0.005` or `slippage=half-spread`, sweep grids
 * `fast=5,10,20 slow=30:90:30`, and the catalog's stored engine costs mapped back to job costs.
 */
import type { JobCosts } from '../../engine/jobs/protocol.ts';

const COST_KEYS = ['cash', 'slippage_bps', 'slippage', 'fee_per_unit', 'fee_bps', 'fee_min'] as const;

export function parseCosts(text: string): { ok: true; costs: JobCosts } | { ok: false; error: string } {
  const costs: Record<string, unknown> = {};
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([a-z_]+)=(.+)$/.exec(part);
    if (!m) return { ok: false, error: `'${part}': expected key=value` };
    const [, k, v] = m;
    if (!(COST_KEYS as readonly string[]).includes(k!)) return { ok: false, error: `'${k}': expected one of ${COST_KEYS.join(', ')}` };
    if (k === 'slippage') {
      if (v !== 'half-spread') return { ok: false, error: `slippage: expected half-spread, got '${v}'` };
      costs[k] = v;
    } else {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || (k === 'cash' && n <= 0)) return { ok: false, error: `${k}: expected a ${k === 'cash' ? 'positive' : 'non-negative'} number, got '${v}'` };
      costs[k!] = n;
    }
  }
  if (costs.slippage !== undefined && costs.slippage_bps !== undefined) return { ok: false, error: 'slippage_bps and slippage=half-spread are exclusive' };
  return { ok: true, costs: costs as JobCosts };
}

/** How many runs a grid makes (the size of its cartesian product). */
export function gridSize(grid: Record<string, unknown[]>): number {
  return Object.values(grid).reduce((n, v) => n * v.length, 1);
}

export function parseGrid(text: string): { ok: true; grid: Record<string, unknown[]> } | { ok: false; error: string } {
  const grid: Record<string, unknown[]> = {};
  for (const part of text.split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z_][\w]*)=(.+)$/.exec(part);
    if (!m) return { ok: false, error: `'${part}': expected name=v1,v2,… or name=from:to:step` };
    const [, k, spec] = m;
    const range = /^(-?[\d.]+):(-?[\d.]+):([\d.]+)$/.exec(spec!);
    if (range) {
      const [a, b, st] = [Number(range[1]), Number(range[2]), Number(range[3])];
      if (!(st > 0) || b < a) return { ok: false, error: `${k}: range ${spec} needs from ≤ to and step > 0` };
      const vals: number[] = [];
      for (let i = 0; a + i * st <= b + 1e-12 && vals.length <= 10000; i++) vals.push(Number((a + i * st).toPrecision(12)));
      grid[k!] = vals;
    } else {
      grid[k!] = spec!.split(',').map((x) => (x === 'true' ? true : x === 'false' ? false : Number.isFinite(Number(x)) ? Number(x) : x));
    }
  }
  if (Object.keys(grid).length === 0) return { ok: false, error: 'expected at least one parameter, e.g. fast=5,10,20 slow=30:90:30' };
  return { ok: true, grid };
}

/** The catalog stores the engine's normalized costs (slippage_model …); map them back to the job form. */
export function jobCostsOf(c: Record<string, unknown>): { ok: true; costs: JobCosts } | { ok: false; error: string } {
  const num = (k: string) => (typeof c[k] === 'number' ? { [k]: c[k] as number } : {});
  const model = c.slippage_model ?? 'fixed';
  if (model !== 'fixed' && model !== 'half-spread') return { ok: false, error: `slippage model '${String(model)}' cannot be rerun from VS Code yet; use \`btnb backtest\`` };
  const slip = model === 'half-spread' ? { slippage: 'half-spread' as const } : num('slippage_bps');
  return { ok: true, costs: { ...num('cash'), ...slip, ...num('fee_per_unit'), ...num('fee_bps'), ...num('fee_min') } };
}
