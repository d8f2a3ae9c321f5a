/**
 * Run costs — the one grammar (docs/backtest.md "Costs"). Every caller goes through here: the
 * CLI flags, the `key=value` text of the extension's input box and notebook cells, the job
 * protocol's and the HTTP API's objects, reruns of a cataloged run (its stored costs are valid
 * input as they are), sweeps and walk-forward. Errors name the field and what was expected.
 *
 *   CostsInput (partial, JSON)  ──toCosts──▶  Costs (every field, defaults filled: hashed, stored)
 *   "cash=50000 slippage=half-spread"  ──parseCostsText──▶  CostsInput
 */
import { z } from 'zod';
import { DEFAULT_COSTS, type Costs, type SlippageModel } from './types.ts';

export class CostsError extends RangeError {
  override name = 'CostsError';
  /** The field at fault, e.g. `fee_bps`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

const amount = z.number().finite().nonnegative();

/**
 * The object form. `slippage` is shorthand for the model: `half-spread`, `random:MAXBPS`,
 * `fixed:BPS` (or just the bps as a number); it excludes `slippage_model`/`slippage_bps`.
 */
export const CostsInput = z.strictObject({
  cash: z.number().finite().positive().optional(),
  slippage_model: z.enum(['fixed', 'half-spread', 'random']).optional(),
  slippage_bps: amount.optional(),
  slippage: z.union([z.string(), amount]).optional(),
  fee_per_unit: amount.optional(),
  fee_bps: amount.optional(),
  fee_min: amount.optional(),
});
export type CostsInput = z.infer<typeof CostsInput>;

export const COST_KEYS = ['cash', 'slippage', 'slippage_bps', 'slippage_model', 'fee_per_unit', 'fee_bps', 'fee_min'] as const;

function shorthand(v: string | number): { model: SlippageModel; bps: number } {
  if (typeof v === 'number') return { model: 'fixed', bps: v };
  const t = v.trim();
  if (t === 'half-spread') return { model: 'half-spread', bps: 0 };
  const m = /^(fixed|random):(\d+(?:\.\d+)?)$/.exec(t) ?? (/^(\d+(?:\.\d+)?)$/.test(t) ? ['', 'fixed', t] : null);
  if (!m) throw new CostsError('slippage', `costs.slippage: expected half-spread, random:MAXBPS or fixed:BPS, got '${v}'`);
  return { model: m[1] as SlippageModel, bps: Number(m[2]) };
}

/** Any costs input → the engine's complete Costs. Throws CostsError naming the field. */
export function toCosts(input: unknown): Costs {
  const r = CostsInput.safeParse(input ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    const field = i.path.length ? i.path.map(String).join('.') : 'costs';
    const got = i.path.length && input && typeof input === 'object' ? (input as Record<string, unknown>)[String(i.path[0])] : input;
    const expected =
      i.code === 'unrecognized_keys'
        ? `one of ${COST_KEYS.join(', ')}`
        : field === 'cash'
          ? 'a finite number > 0'
          : field === 'slippage_model'
            ? "'fixed', 'half-spread' or 'random'"
            : 'a finite number ≥ 0';
    const what =
      i.code === 'unrecognized_keys'
        ? `unknown key${(i as { keys?: string[] }).keys?.length === 1 ? '' : 's'} ${(i as { keys?: string[] }).keys?.join(', ')}`
        : `got ${JSON.stringify(got)}`;
    throw new CostsError(
      field,
      `costs.${i.code === 'unrecognized_keys' ? ((i as { keys?: string[] }).keys?.[0] ?? field) : field}: expected ${expected}, ${what}`,
    );
  }
  const c = r.data;
  let model = c.slippage_model ?? DEFAULT_COSTS.slippage_model;
  let bps = c.slippage_bps ?? DEFAULT_COSTS.slippage_bps;
  if (c.slippage !== undefined) {
    if (c.slippage_model !== undefined || c.slippage_bps !== undefined)
      throw new CostsError('slippage', 'costs: slippage and slippage_model/slippage_bps are exclusive (give one)');
    ({ model, bps } = shorthand(c.slippage));
  }
  if (model === 'half-spread' && bps !== 0)
    throw new CostsError('slippage_bps', 'costs: slippage_bps and half-spread slippage are exclusive (give one)');
  return {
    cash: c.cash ?? DEFAULT_COSTS.cash,
    slippage_model: model,
    slippage_bps: bps,
    fee_per_unit: c.fee_per_unit ?? DEFAULT_COSTS.fee_per_unit,
    fee_bps: c.fee_bps ?? DEFAULT_COSTS.fee_bps,
    fee_min: c.fee_min ?? DEFAULT_COSTS.fee_min,
  };
}

/**
 * `cash=50000 slippage=half-spread fee_per_unit=0.005` (spaces or commas between) → CostsInput,
 * checked through toCosts (so the text is refused exactly when the object would be).
 */
export function parseCostsText(text: string): CostsInput {
  const out: Record<string, unknown> = {};
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([a-z_]+)=(.+)$/.exec(part);
    if (!m) throw new CostsError('costs', `costs: '${part}': expected key=value (keys: ${COST_KEYS.join(', ')})`);
    const [, k, v] = m as unknown as [string, string, string];
    if (!(COST_KEYS as readonly string[]).includes(k))
      throw new CostsError(k, `costs.${k}: unknown key; expected one of ${COST_KEYS.join(', ')}`);
    if (Object.hasOwn(out, k)) throw new CostsError(k, `costs.${k} given twice`);
    if (k === 'slippage' || k === 'slippage_model') out[k] = v;
    else {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new CostsError(k, `costs.${k}: expected a number, got '${v}'`);
      out[k] = n;
    }
  }
  toCosts(out);
  return out;
}

/** The CLI's cost flags (`--cash`, `--slippage-bps`, `--slippage`, `--fee-*`) as costs text. */
export const COST_FLAGS: Readonly<Record<string, (typeof COST_KEYS)[number]>> = {
  cash: 'cash',
  'slippage-bps': 'slippage_bps',
  slippage: 'slippage',
  'fee-per-unit': 'fee_per_unit',
  'fee-bps': 'fee_bps',
  'fee-min': 'fee_min',
};

/** CLI flag values → CostsInput; errors name the flag. */
export function costsFromFlags(values: ReadonlyMap<string, string>): CostsInput {
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(COST_FLAGS)) {
    const v = values.get(flag);
    if (v === undefined) continue;
    if (key === 'slippage') out.slippage = v;
    else {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new CostsError(key, `--${flag} expects a number, got '${v}'`);
      out[key] = n;
    }
  }
  if (out.slippage !== undefined && out.slippage_bps !== undefined)
    throw new CostsError('slippage', '--slippage-bps and --slippage are exclusive (give one)');
  try {
    toCosts(out);
  } catch (err) {
    if (!(err instanceof CostsError)) throw err;
    const flag = Object.entries(COST_FLAGS).find(([, k]) => k === err.field)?.[0];
    throw new CostsError(err.field, flag ? `--${flag}: ${err.message.replace(/^costs\.[a-z_]+: /, '')}` : err.message);
  }
  return out;
}

/** A Costs as the text form (defaults left out): what a rerun prompt shows. */
export function costsText(c: Costs): string {
  const parts: string[] = [];
  if (c.cash !== DEFAULT_COSTS.cash) parts.push(`cash=${c.cash}`);
  if (c.slippage_model === 'half-spread') parts.push('slippage=half-spread');
  else if (c.slippage_model === 'random') parts.push(`slippage=random:${c.slippage_bps}`);
  else if (c.slippage_bps !== 0) parts.push(`slippage_bps=${c.slippage_bps}`);
  for (const k of ['fee_per_unit', 'fee_bps', 'fee_min'] as const) if (c[k] !== 0) parts.push(`${k}=${c[k]}`);
  return parts.join(' ');
}
