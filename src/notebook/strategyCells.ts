/**
 * Strategy cells: a `typescript` cell defines a strategy (`export default defineStrategy(...)`,
 * the API of a strategy file) that later backtest and sweep cells name. A cell's name is its
 * metadata `name`, else its first named export, else the `id` it gives defineStrategy. No vscode.
 */

export interface CellLike {
  index: number;
  language: string;
  source: string;
  metadata: Readonly<Record<string, unknown>>;
}

export function strategyCellName(source: string, metadata: Readonly<Record<string, unknown>>): string | null {
  const named = metadata.name;
  if (typeof named === 'string' && named.trim() !== '') return named.trim();
  const exported = /^\s*export\s+(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/m.exec(source);
  if (exported) return exported[1]!;
  const id = /defineStrategy\s*\(\s*\{[\s\S]*?\bid\s*:\s*['"`]([^'"`]+)['"`]/.exec(source);
  return id ? id[1]! : null;
}

/** Strategy cells above `before` (all when undefined), by name; a later cell of the same name wins. */
export function strategyCells(cells: readonly CellLike[], before?: number): Map<string, CellLike> {
  const out = new Map<string, CellLike>();
  for (const c of cells) {
    if (before !== undefined && c.index >= before) break;
    if (c.language !== 'typescript') continue;
    const name = strategyCellName(c.source, c.metadata);
    if (name) out.set(name, c);
  }
  return out;
}

/** Rewrites `<file>:line:col` of a materialized strategy cell to `strategy cell "name", line L:C`. */
export function cellLocations(text: string, files: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [file, name] of files) {
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`${escaped}(?::(\\d+):(\\d+))?`, 'g'), (_m, l?: string, c?: string) =>
      l ? `strategy cell "${name}", line ${l}:${c}` : `strategy cell "${name}"`,
    );
  }
  return out;
}
