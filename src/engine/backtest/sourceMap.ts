/**
 * Stack traces of user strategies in their own lines. A strategy file is bundled by esbuild and
 * evaluated as a script, which V8 does not source-map; the bundle's source map is decoded here (Base64 VLQ, source map v3) once per load, and the frames of a stack that point
 * into the bundle are rewritten to the original file, line and column. Registered per bundle
 * URL, so StrategyError (which wraps every throw from a hook) can map any stack it carries.
 */

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** Per generated line: [generatedColumn, sourceIndex, originalLine, originalColumn] × n, sorted by column. */
type LineSegments = Int32Array;

export interface DecodedMap {
  sources: string[];
  lines: LineSegments[];
}

/** Decodes a v3 `mappings` string (0-based lines and columns). Throws naming the offset on bad input. */
export function decodeMappings(mappings: string, sources: string[]): DecodedMap {
  const lines: LineSegments[] = [];
  let seg: number[] = [];
  let src = 0;
  let oLine = 0;
  let oCol = 0;
  let gCol = 0;
  const fields = [0, 0, 0, 0, 0];
  let nField = 0;
  let value = 0;
  let shift = 0;
  const endSegment = () => {
    if (nField >= 4) {
      gCol += fields[0]!;
      src += fields[1]!;
      oLine += fields[2]!;
      oCol += fields[3]!;
      seg.push(gCol, src, oLine, oCol);
    } else if (nField === 1) gCol += fields[0]!;
    nField = 0;
  };
  for (let i = 0; i <= mappings.length; i++) {
    const c = i < mappings.length ? mappings.charCodeAt(i) : 59; // a final ';'
    if (c === 44 || c === 59) {
      endSegment();
      if (c === 59) {
        lines.push(Int32Array.from(seg));
        seg = [];
        gCol = 0;
      }
      continue;
    }
    const d = c < 128 ? B64[c]! : -1;
    if (d < 0) throw new RangeError(`source map: mappings[${i}]: expected a Base64 VLQ digit, got '${mappings[i]}'`);
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
      continue;
    }
    fields[nField++] = value & 1 ? -(value >>> 1) : value >>> 1;
    value = 0;
    shift = 0;
  }
  return { sources, lines };
}

/** The original position of a generated one (1-based line and column in and out), or null. */
export function originalPosition(map: DecodedMap, line: number, column: number): { source: string; line: number; column: number } | null {
  const seg = map.lines[line - 1];
  if (!seg || seg.length === 0) return null;
  const col = column - 1;
  let best = -1;
  for (let k = 0; k < seg.length; k += 4) {
    if (seg[k]! <= col) best = k;
    else break;
  }
  if (best < 0) best = 0;
  return { source: map.sources[seg[best + 1]!] ?? '?', line: seg[best + 2]! + 1, column: seg[best + 3]! + 1 };
}

const registry = new Map<string, DecodedMap>();

/** Registers a bundle's source map (JSON text) for the stack frames of `url`. */
export function registerSourceMap(url: string, mapJson: string, resolveSource: (s: string) => string = (s) => s): void {
  const json = JSON.parse(mapJson) as { sources: string[]; mappings: string };
  registry.set(url, decodeMappings(json.mappings, json.sources.map(resolveSource)));
}

/** A stack with every frame into a registered bundle rewritten to its original file:line:column. */
export function mapStack(stack: string): string {
  if (registry.size === 0) return stack;
  return stack.replace(
    /(\(|at )([^()\s][^()]*?):(\d+):(\d+)(\)?)$/gm,
    (all, pre: string, url: string, l: string, c: string, post: string) => {
      const map = registry.get(url);
      if (!map) return all;
      const p = originalPosition(map, Number(l), Number(c));
      return p ? `${pre}${p.source}:${p.line}:${p.column}${post}` : all;
    },
  );
}
