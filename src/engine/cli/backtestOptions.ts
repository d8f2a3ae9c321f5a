/**
 * Shared CLI parsing for `btnb backtest` and `btnb sweep`: `--param k=v` values, cost flags,
 * session, seed — every error a UsageError naming the flag and what was expected.
 */
import { UsageError, type OptionSpec, type ParsedArgs } from './args.ts';
import { CostsError, costsFromFlags, type CostsInput } from '../backtest/costs.ts';
import { ParamTextError, parseParamList } from '../backtest/paramText.ts';
import type { Session } from '../backtest/types.ts';

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

export function parseParams(list: readonly string[] | undefined, flag = 'param'): Record<string, unknown> {
  try {
    return parseParamList(list, `--${flag}`);
  } catch (err) {
    if (err instanceof ParamTextError) throw new UsageError(err.message);
    throw err;
  }
}

/** The cost flags, through the one costs grammar (costs.ts); refusals are usage errors naming the flag. */
export function costsOption(args: ParsedArgs): CostsInput {
  try {
    return costsFromFlags(args.values);
  } catch (err) {
    if (err instanceof CostsError) throw new UsageError(err.message);
    throw err;
  }
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
