/**
 * Malformed variants of a message from its zod schema, for the protocol-abuse probe: the whole
 * params replaced by wrong types, each field of an object schema removed or replaced by a wrong
 * type, a huge array or string, a path-traversal or unknown id, and an unknown extra key.
 */
import type { z } from 'zod';

const HUGE_ARRAY = Array.from({ length: 100_000 }, (_, i) => i);
const HUGE_STRING = 'x'.repeat(1_000_000);
export const HOSTILE_VALUES: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1e308,
  Number.NaN,
  true,
  'x',
  '',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '01AAAAAAAAAAAAAAAAAAAAAAAA',
  HUGE_STRING,
  [],
  HUGE_ARRAY,
  {},
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
];

function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | null {
  const s = schema as unknown as { shape?: Record<string, z.ZodType>; def?: { shape?: Record<string, z.ZodType> } };
  return s.shape ?? s.def?.shape ?? null;
}

/** A valid-looking base: each key of the shape with a plain value of a likely type. */
export function variants(schema: z.ZodType, valid: Record<string, unknown> = {}): { label: string; params: unknown }[] {
  const out: { label: string; params: unknown }[] = HOSTILE_VALUES.map((v, i) => ({ label: `params = hostile #${i}`, params: v }));
  const shape = shapeOf(schema);
  if (!shape) return out;
  const base: Record<string, unknown> = { ...valid };
  for (const k of Object.keys(shape)) {
    const { [k]: _dropped, ...rest } = base;
    out.push({ label: `${k} missing`, params: rest });
    HOSTILE_VALUES.forEach((v, i) => out.push({ label: `${k} = hostile #${i}`, params: { ...base, [k]: v } }));
  }
  out.push({ label: 'unknown extra key', params: { ...base, __extra: 1 } });
  return out;
}
