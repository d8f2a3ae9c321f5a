/** dataset_id (docs/bars.md) and the canonical JSON it hashes. */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonicalJson.ts';
import { DERIVE_VERSION } from '../version.ts';

export { canonicalJson };

/** `ds_` + 16 hex of SHA-256({derive_version, sources: sorted sha256s, symbol}). */
export function datasetId(symbol: string, sourceShas: readonly string[], deriveVersion: number = DERIVE_VERSION): string {
  const sources = [...new Set(sourceShas.map((s) => s.toLowerCase()))].sort();
  const json = canonicalJson({ derive_version: deriveVersion, sources, symbol });
  return `ds_${createHash('sha256').update(json).digest('hex').slice(0, 16)}`;
}
