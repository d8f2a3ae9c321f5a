/** What several CLI commands print the same way: progress lines, `--json` documents, dataset lists. */
import { resolve } from 'node:path';

type Progress = { phase: string; done: number; total: number };

/**
 * Import/derive progress as one self-overwriting `phase done/total` line on a terminal; off the
 * terminal there is no callback at all (the work skips reporting). end() clears the line.
 */
export function phaseLine(out: { write(s: string): unknown; isTTY?: boolean } = process.stderr): {
  onProgress: ((p: Progress) => void) | undefined;
  end(): void;
} {
  if (!out.isTTY) return { onProgress: undefined, end() {} };
  let last = '';
  return {
    onProgress(p) {
      const line = `${p.phase} ${p.done}/${p.total}`;
      if (line !== last) out.write(`\r${line}\x1b[K`);
      last = line;
    },
    end() {
      if (last) out.write('\r\x1b[K');
    },
  };
}

/** Pretty JSON with bigint nanoseconds as decimal strings (the `--json` documents of `btnb data`). */
export function jsonText(v: unknown): string {
  return `${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`;
}

export interface DatasetLike {
  dataset_id: string;
  symbol: string;
  schemas: string[];
  start: string | null;
  end: string | null;
  sources: unknown[];
  created?: boolean;
  bars_path?: string;
  bar_count?: number;
}

/** Imported datasets as `btnb data import|synth|fetch` list them: one line each, plus the bars file once derived. */
export function formatDatasets(list: DatasetLike[], dataDir: string): string {
  let out = '';
  for (const d of list) {
    const tag = d.created === false ? ' (already imported)' : '';
    out += `${d.dataset_id}  ${d.symbol}  ${d.schemas.join('+')}  ${d.start ?? '?'} → ${d.end ?? '?'}  ${d.sources.length} source${d.sources.length === 1 ? '' : 's'}${tag}\n`;
    if (d.bars_path) out += `  bars: ${resolve(dataDir, d.bars_path)} (${d.bar_count} rows)\n`;
  }
  return out;
}
