/** dataset_id (contracts §2) and the canonical JSON it hashes. */
import { createHash } from 'node:crypto';
import { DERIVE_VERSION } from '../version.ts';

/** JSON with object keys sorted at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`canonical JSON: non-finite number ${value}`);
    if (typeof value === 'bigint') return value.toString();
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** `ds_` + 16 hex of SHA-256({derive_version, sources: sorted sha256s, symbol}). */
export function datasetId(symbol: string, sourceShas: readonly string[], deriveVersion: number = DERIVE_VERSION): string {
  const sources = [...new Set(sourceShas.map((s) => s.toLowerCase()))].sort();
  const json = canonicalJson({ derive_version: deriveVersion, sources, symbol });
  return `ds_${createHash('sha256').update(json).digest('hex').slice(0, 16)}`;
}
