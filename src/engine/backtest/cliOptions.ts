/**
 * Shared CLI parsing for `btnb backtest` and `btnb sweep`: `--param k=v` values, cost flags,
 * session, seed — every error a UsageError naming the flag and what was expected.
 */
import { UsageError, type OptionSpec, type ParsedArgs } from '../cli/args.ts';
import type { Costs, Session } from './types.ts';

export const RUN_OPTIONS: Record<string, OptionSpec> = {
  'data-dir': { type: 'string' },
  dataset: { type: 'string' },
  strategy: { type: 'string' },
  param: { type: 'multi' },
  cash: { type: 'string' },
  'slippage-bps': { type: 'string' },
  slippage: { type: 'string' },
  'fee-per-unit': { type: 'string' },
  'fee-bps': { type: 'string' },
  'fee-min': { type: 'string' },
  seed: { type: 'string' },
  session: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
};

export const RUN_OPTIONS_HELP = `  --dataset ID            dataset to run on (see \`btnb data list\`)
  --strategy S            built-in id (sma-cross, bollinger-reversion, donchian-breakout) or a .ts/.js file
  --param k=v             strategy parameter (repeatable); numbers, true/false, or text
  --cash X                starting cash (default 100000)
  --slippage-bps N        fixed slippage in bps of the reference price (default 0)
  --slippage MODEL        half-spread (± spread_mean/2 of the fill bar) or random:MAXBPS (seeded uniform)
  --fee-per-unit X        fee per unit traded (default 0)
  --fee-bps X             fee in bps of notional (default 0)
  --fee-min X             minimum fee per fill (default 0)
  --seed N                seed of stochastic models (default 0)
  --session all|rth       all bars (default) or XNYS regular hours only
  --force                 make a new run even if an identical one exists
  --data-dir D            data directory (default: $BTNB_DATA_DIR or ./data)
  --json                  JSON on stdout`;

/** `k=v` → [k, typed v]: integers/decimals → number, true/false → boolean, otherwise the text. */
export function parseParamValue(text: string): unknown {
  if (/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}

export function parseParams(list: readonly string[] | undefined, flag = 'param'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} expects k=v, got '${item}'`);
    const k = item.slice(0, eq);
    if (Object.hasOwn(out, k)) throw new UsageError(`--${flag} ${k} given twice`);
    out[k] = parseParamValue(item.slice(eq + 1));
  }
  return out;
}

function num(args: ParsedArgs, name: string): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--${name} expects a finite number ≥ 0, got '${raw}'`);
  return v;
}

export function parseCosts(args: ParsedArgs): Partial<Costs> {
  const costs: Partial<Costs> = {};
  const cash = num(args, 'cash');
  if (cash !== undefined) {
    if (cash <= 0) throw new UsageError(`--cash expects a number > 0, got '${args.values.get('cash')}'`);
    costs.cash = cash;
  }
  const bps = num(args, 'slippage-bps');
  const model = args.values.get('slippage');
  if (bps !== undefined && model !== undefined) throw new UsageError('--slippage-bps and --slippage are exclusive (give one)');
  if (bps !== undefined) {
    costs.slippage_model = 'fixed';
    costs.slippage_bps = bps;
  }
  if (model !== undefined) {
    const m = /^random:(\d+(?:\.\d+)?)$/.exec(model);
    if (model === 'half-spread') costs.slippage_model = 'half-spread';
    else if (m) {
      costs.slippage_model = 'random';
      costs.slippage_bps = Number(m[1]);
    } else throw new UsageError(`--slippage expects half-spread or random:MAXBPS, got '${model}'`);
  }
  const per = num(args, 'fee-per-unit');
  if (per !== undefined) costs.fee_per_unit = per;
  const fbps = num(args, 'fee-bps');
  if (fbps !== undefined) costs.fee_bps = fbps;
  const fmin = num(args, 'fee-min');
  if (fmin !== undefined) costs.fee_min = fmin;
  return costs;
}

export function parseSeed(args: ParsedArgs): number {
  const raw = args.values.get('seed');
  if (raw === undefined) return 0;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new UsageError(`--seed expects a non-negative integer, got '${raw}'`);
  return Number(raw);
}

export function parseSession(args: ParsedArgs): Session {
  const s = args.values.get('session') ?? 'all';
  if (s !== 'all' && s !== 'rth') throw new UsageError(`--session expects all or rth, got '${s}'`);
  return s;
}

export function requireValue(args: ParsedArgs, name: string): string {
  const v = args.values.get(name);
  if (v === undefined || v === '') throw new UsageError(`missing --${name}`);
  return v;
}
