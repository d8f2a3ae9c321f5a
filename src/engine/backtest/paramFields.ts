/** A strategy's parameters as fields (name, type, default, description), from its zod schema's JSON Schema. */
import { z } from 'zod';

export interface ParamField {
  name: string;
  type: 'integer' | 'number' | 'boolean' | 'string';
  default?: unknown;
  description?: string;
}

export function paramFields(schema: z.ZodType | undefined): ParamField[] {
  if (!schema) return [];
  let js: { properties?: Record<string, { type?: string; default?: unknown; description?: string }> };
  try {
    js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as typeof js;
  } catch {
    return [];
  }
  return Object.entries(js.properties ?? {}).map(([name, p]) => ({
    name,
    type: p.type === 'integer' || p.type === 'number' || p.type === 'boolean' ? p.type : 'string',
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(p.description ? { description: p.description } : {}),
  }));
}
