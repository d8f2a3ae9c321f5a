/**
 * Strategies offered by Run Backtest: the engine's built-ins (their zod schemas validate
 * parameters right in the prompt) and workspace files `strategies/*.ts|js` (never loaded in
 * the host: their parameters are validated by the backtest job, which runs the code).
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod';
import type { ParamField } from '../engine/backtest/paramFields.ts';

export { paramFields, type ParamField } from '../engine/backtest/paramFields.ts';

export interface StrategyChoice {
  id: string;
  description: string;
  /** Absolute path of a workspace strategy file. */
  path?: string;
  schema?: z.ZodType;
}

export async function builtinChoices(): Promise<StrategyChoice[]> {
  const { BUILTIN_STRATEGIES } = await import('../engine/strategies/index.ts');
  return Object.values(BUILTIN_STRATEGIES).map((d) => ({ id: d.id, description: d.description ?? 'built-in', schema: d.params }));
}

export function workspaceChoices(root: string | undefined): StrategyChoice[] {
  if (!root) return [];
  const dir = join(root, 'strategies');
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.(ts|js|mjs)$/.test(n) && !n.endsWith('.d.ts') && !n.includes('.test.'))
      .sort();
  } catch {
    return [];
  }
  return names.map((n) => ({
    id: basename(n).replace(/\.(ts|js|mjs)$/, ''),
    description: `workspace: strategies/${n}`,
    path: join(dir, n),
  }));
}

export async function allChoices(root: string | undefined): Promise<StrategyChoice[]> {
  return [...(await builtinChoices()), ...workspaceChoices(root)];
}

/** Validates params with the strategy's schema: the parsed value, or the messages to show (`slow: slow must be greater than fast`). */
export function validateParams(
  choice: StrategyChoice,
  params: Record<string, unknown>,
): { ok: true; value: Record<string, unknown> } | { ok: false; issues: string[] } {
  if (!choice.schema) return { ok: true, value: params };
  const r = choice.schema.safeParse(params);
  if (r.success) return { ok: true, value: r.data as Record<string, unknown> };
  return { ok: false, issues: r.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(params)'}: ${i.message}`) };
}

export function parseField(f: ParamField, text: string): unknown {
  const t = text.trim();
  if (f.type === 'boolean') return t === 'true' ? true : t === 'false' ? false : t;
  if (f.type === 'integer' || f.type === 'number') return t === '' ? undefined : Number(t);
  return t;
}
