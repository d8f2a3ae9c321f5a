/**
 * Strategy parameters as text — `k=v` pairs from the CLI (`--param`), grids and notebook cells:
 * numbers (integer, decimal, exponent), true/false, otherwise the text itself.
 */
export class ParamTextError extends RangeError {
  override name = 'ParamTextError';
}

export function parseParamValue(text: string): unknown {
  if (/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}

/** `['fast=10', 'slow=30']` → `{ fast: 10, slow: 30 }`; `label` names the source in errors (e.g. `--param`). */
export function parseParamList(list: readonly string[] | undefined, label = '--param'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ParamTextError(`${label} expects k=v, got '${item}'`);
    const k = item.slice(0, eq);
    if (Object.hasOwn(out, k)) throw new ParamTextError(`${label} ${k} given twice`);
    out[k] = parseParamValue(item.slice(eq + 1));
  }
  return out;
}

/** A parameter value as `k=v` text shows it: objects and arrays as JSON, the rest as `String` does. */
export function paramValueText(v: unknown): string {
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** `fast=10 slow=30`: keys sorted, at most `max` of them (runs list, tree, headers, Compare). */
export function paramsText(params: Record<string, unknown>, max = Infinity): string {
  return Object.keys(params)
    .sort()
    .slice(0, max)
    .map((k) => `${k}=${paramValueText(params[k])}`)
    .join(' ');
}

/** The params that differ from `defaults` (all of them when the defaults are unknown). */
export function keyParams(params: Record<string, unknown>, defaults: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!defaults) return params;
  return Object.fromEntries(
    Object.entries(params).filter(([k, v]) => !(k in defaults) || JSON.stringify(defaults[k]) !== JSON.stringify(v)),
  );
}
