/**
 * The configuration cells of a notebook — `btnb-backtest`, `btnb-sweep`, `btnb-data` — written in
 * YAML or JSON (JSON is YAML). One zod schema per language, built on the engine's own grammars
 * (backtest/costs.ts, sweep/grid.ts): the controller runs what they accept, and the editor's
 * diagnostics, completions and hovers (languageFeatures.ts) come from the same schemas and the
 * key docs below. No vscode here: offsets, not positions.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { CostsError, parseCostsText, toCosts, type CostsInput } from '../engine/backtest/costs.ts';
import { GridError, gridFromRecord, gridSize, parseArtifactsMode, parseGrid, type Grid } from '../engine/sweep/grid.ts';

export const CONFIG_LANGUAGES = ['btnb-backtest', 'btnb-sweep', 'btnb-data'] as const;
export type ConfigLanguage = (typeof CONFIG_LANGUAGES)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const DatasetRef = z.union(
  [
    z.string().regex(/^ds_[0-9a-f]{16}$/, 'expected a dataset id (ds_ + 16 hex digits) or { symbol, from, to }'),
    z.strictObject({ symbol: z.string().min(1), from: isoDate, to: isoDate }),
  ],
  { error: 'expected a dataset id (ds_…) or { symbol, from, to }' },
);

/** Costs as the `key=value` text of the input box or as an object; checked by costs.ts. */
const CostsField = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((v, ctx): CostsInput => {
  try {
    const input = typeof v === 'string' ? parseCostsText(v) : (v as CostsInput);
    toCosts(input);
    return input;
  } catch (err) {
    const field = err instanceof CostsError ? err.field : undefined;
    ctx.addIssue({ code: 'custom', message: (err as Error).message, path: field && typeof v !== 'string' ? [field] : [] });
    return z.NEVER;
  }
});

const runFields = {
  dataset: DatasetRef,
  strategy: z.string().min(1, 'expected a built-in id, a .ts/.js file or the name of a strategy cell'),
  costs: CostsField.optional(),
  seed: z.number().int().nonnegative().default(0),
  session: z.enum(['all', 'rth']).default('all'),
  force: z.boolean().default(false),
};

export const BacktestCell = z.strictObject({
  ...runFields,
  params: z.record(z.string(), z.unknown()).default({}),
});
export type BacktestCell = z.output<typeof BacktestCell>;

/** `grid:` as `btnb sweep --grid` entries (`fast=5:50:5`) or as a map of key → spec or values. */
const GridField = z
  .union([
    z.array(z.string()),
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.number(), z.string(), z.boolean()]))])),
  ])
  .transform((v, ctx): Grid => {
    try {
      const grid = Array.isArray(v)
        ? parseGrid(v)
        : gridFromRecord(
            Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'number' || typeof x === 'boolean' ? [x] : x])),
          );
      if (grid.length === 0) throw new GridError('expected at least one grid key');
      gridSize(grid);
      return grid;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

export const SweepCell = z.strictObject({
  ...runFields,
  grid: GridField,
  params: z.record(z.string(), z.unknown()).default({}),
  sort: z.string().min(1).default('sharpe'),
  artifacts: z
    .string()
    .default('top:10')
    .refine((v) => {
      try {
        parseArtifactsMode(v);
        return true;
      } catch {
        return false;
      }
    }, 'expected all, none or top:N (e.g. top:10)'),
  walk_forward: z
    .strictObject({
      train_days: z.number().int().positive(),
      test_days: z.number().int().positive(),
    })
    .optional(),
});
export type SweepCell = z.output<typeof SweepCell>;

const SynthAction = z.strictObject({
  symbol: z.string().min(1).default('DEMO'),
  start: isoDate,
  days: z.number().int().positive().max(2000),
  seed: z.number().int().default(1),
  trades_per_day: z.number().int().positive().optional(),
});
const ImportAction = z.strictObject({
  files: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  symbol: z.string().min(1).optional(),
  derive: z.boolean().default(true),
});
const FetchAction = z.strictObject({
  dataset: z.string().min(1),
  symbols: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  schemas: z
    .array(z.enum(['trades', 'tbbo']))
    .min(1)
    .default(['trades', 'tbbo']),
  start: z.string().min(1),
  end: z.string().min(1),
  derive: z.boolean().default(true),
});
const DeriveAction = z.string().regex(/^ds_[0-9a-f]{16}$/, 'expected a dataset id (ds_ + 16 hex digits)');

export const DataCell = z
  .strictObject({
    synth: SynthAction.optional(),
    import: ImportAction.optional(),
    fetch: FetchAction.optional(),
    derive: DeriveAction.optional(),
  })
  .superRefine((v, ctx) => {
    const given = Object.keys(v).filter((k) => v[k as keyof typeof v] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `expected exactly one of synth, import, fetch, derive${given.length ? `; got ${given.join(', ')}` : ''}`,
      });
  });
export type DataCell = z.output<typeof DataCell>;

const SCHEMAS = { 'btnb-backtest': BacktestCell, 'btnb-sweep': SweepCell, 'btnb-data': DataCell } as const;
export type CellConfig<L extends ConfigLanguage> = z.output<(typeof SCHEMAS)[L]>;

export interface KeyDoc {
  doc: string;
  /** Values to offer (completion), when the set is closed or well known. */
  values?: readonly string[];
  /** Keys of a nested map. */
  keys?: Readonly<Record<string, KeyDoc>>;
}

const COSTS_KEYS: Record<string, KeyDoc> = {
  cash: { doc: 'Starting cash (default 100000).' },
  slippage: { doc: 'Slippage model shorthand: `half-spread`, `random:MAXBPS`, `fixed:BPS` or a number of bps.' },
  slippage_bps: { doc: 'Fixed slippage in basis points of the reference price (default 0).' },
  slippage_model: { doc: 'Slippage model.', values: ['fixed', 'half-spread', 'random'] },
  fee_per_unit: { doc: 'Fee per unit traded (default 0).' },
  fee_bps: { doc: 'Fee in basis points of notional (default 0).' },
  fee_min: { doc: 'Minimum fee per fill (default 0).' },
};
const RUN_KEYS: Record<string, KeyDoc> = {
  dataset: {
    doc: 'The dataset: its id (`ds_…`, see `btnb data list`) or `{ symbol, from, to }` (New York dates, inclusive) naming the dataset that covers them.',
    keys: {
      symbol: { doc: 'Instrument symbol, e.g. DEMO.' },
      from: { doc: 'First date, YYYY-MM-DD.' },
      to: { doc: 'Last date, YYYY-MM-DD.' },
    },
  },
  strategy: {
    doc: 'A built-in strategy id, a `.ts`/`.js` strategy file (relative to the notebook), or the name of a `typescript` strategy cell above.',
  },
  costs: {
    doc: 'Costs: a map of the keys below, or the text form `cash=50000 slippage=half-spread fee_per_unit=0.005`.',
    keys: COSTS_KEYS,
  },
  seed: { doc: 'Seed of stochastic models (random slippage); part of the run identity. Default 0.' },
  session: { doc: '`all` bars (default) or `rth`: XNYS regular hours only.', values: ['all', 'rth'] },
  force: { doc: 'A new run even when an identical one (same input_hash) is in the catalog. Default false.', values: ['true', 'false'] },
};

export const KEY_DOCS: Readonly<Record<ConfigLanguage, Readonly<Record<string, KeyDoc>>>> = {
  'btnb-backtest': {
    ...RUN_KEYS,
    params: { doc: "The strategy's parameters; omitted ones take the strategy's defaults." },
  },
  'btnb-sweep': {
    ...RUN_KEYS,
    grid: {
      doc: 'The grid, as `btnb sweep --grid`: a list of `key=a:b:step` / `key=v1,v2` entries, or a map of key → `a:b:step`, `v1,v2` or a list of values. Keys are enumerated in name order, the last fastest.',
    },
    params: { doc: 'Parameters held fixed across the grid.' },
    sort: { doc: 'The metric that ranks the runs (default sharpe), e.g. total_return, max_drawdown, profit_factor.' },
    artifacts: {
      doc: 'Which points get Parquet artifacts as they run: `top:N` (default top:10 by `sort`), `none` or `all`. The others are recorded with their metrics and get their artifacts when opened.',
    },
    walk_forward: {
      doc: 'Walk-forward instead of a plain sweep: rolling folds of train_days in-sample (best params by `sort`) and test_days out-of-sample.',
      keys: { train_days: { doc: 'In-sample trading days per fold.' }, test_days: { doc: 'Out-of-sample trading days per fold.' } },
    },
  },
  'btnb-data': {
    synth: {
      doc: 'Synthesize seeded DBN trades + TBBO, import them and derive bars (as `btnb data synth --import --derive`).',
      keys: {
        symbol: { doc: 'Symbol (default DEMO).' },
        start: { doc: 'First trading day, YYYY-MM-DD.' },
        days: { doc: 'Number of XNYS trading days.' },
        seed: { doc: 'Seed (same seed → same bytes). Default 1.' },
        trades_per_day: { doc: 'Trades per day (default the synthesizer’s).' },
      },
    },
    import: {
      doc: 'Import DBN trades/TBBO files (as `btnb data import`): copy into the raw cache, register datasets, derive bars.',
      keys: {
        files: { doc: 'A file or a list of files (relative to the notebook).' },
        symbol: { doc: 'Only this symbol.' },
        derive: { doc: 'Derive 1-minute bars (default true).', values: ['true', 'false'] },
      },
    },
    fetch: {
      doc: 'Download from Databento (as `btnb data fetch`); needs the API key (Backtest: Set Databento API Key).',
      keys: {
        dataset: { doc: 'Databento dataset, e.g. XNAS.ITCH.' },
        symbols: { doc: 'A symbol or a list of symbols.' },
        schemas: { doc: 'Schemas to download (default [trades, tbbo]).' },
        start: { doc: 'Start (inclusive), ISO date or time, UTC.' },
        end: { doc: 'End (exclusive), ISO date or time, UTC.' },
        derive: { doc: 'Derive 1-minute bars (default true).', values: ['true', 'false'] },
      },
    },
    derive: { doc: 'Re-derive the bars of a dataset id (as `btnb data derive`).' },
  },
};

export interface CellIssue {
  message: string;
  severity: 'error' | 'warning';
  /** Offsets into the cell text. */
  start: number;
  end: number;
}

export type Analysis<L extends ConfigLanguage> =
  { ok: true; config: CellConfig<L>; issues: CellIssue[] } | { ok: false; config: null; issues: CellIssue[] };

function nodeAt(root: YamlNode | null, path: readonly PropertyKey[]): { node: YamlNode | null; key: YamlNode | null } {
  let node: YamlNode | null = root;
  let key: YamlNode | null = null;
  for (const p of path) {
    if (node && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(p));
      if (!pair) return { node, key };
      key = pair.key as YamlNode;
      node = (pair.value as YamlNode | null) ?? key;
    } else if (node && isSeq(node) && typeof p === 'number') {
      const item = node.items[p] as YamlNode | undefined;
      if (!item) return { node, key };
      node = item;
      key = null;
    } else return { node, key };
  }
  return { node, key };
}

function rangeOf(n: YamlNode | null, text: string): [number, number] {
  const r = n?.range;
  if (r) return [r[0], Math.max(r[0] + 1, r[1])];
  return [0, Math.min(text.length, Math.max(1, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n')))];
}

/** Parses and validates a configuration cell; issues carry the offsets of the key or value at fault. */
export function analyzeCell<L extends ConfigLanguage>(language: L, text: string): Analysis<L> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues: CellIssue[] = [];
  for (const e of doc.errors)
    issues.push({ message: e.message.split('\n')[0]!, severity: 'error', start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) });
  if (issues.length) return { ok: false, config: null, issues };
  const value: unknown = doc.toJS() ?? {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const [start, end] = rangeOf(doc.contents, text);
    return { ok: false, config: null, issues: [{ message: 'expected a map of keys (YAML or JSON)', severity: 'error', start, end }] };
  }
  const parsed = SCHEMAS[language].safeParse(value);
  if (parsed.success) return { ok: true, config: parsed.data as CellConfig<L>, issues };
  const root = doc.contents as YamlNode | null;
  for (const i of parsed.error.issues) {
    if (i.code === 'unrecognized_keys') {
      const known = Object.keys(docsAt(language, i.path.map(String)) ?? {});
      for (const k of i.keys) {
        const { key } = nodeAt(root, [...i.path, k]);
        const [start, end] = rangeOf(key, text);
        issues.push({
          message: `unknown key '${k}'${known.length ? `; expected one of ${known.join(', ')}` : ''}`,
          severity: 'error',
          start,
          end,
        });
      }
      continue;
    }
    const { node, key } = nodeAt(root, i.path);
    const missing = i.path.length > 0 && valueAt(value, i.path) === undefined;
    const [start, end] = rangeOf(missing ? (key ?? root) : node, text);
    const dotted = i.path.map(String).join('.');
    // Messages from the engine's grammars already name their field (costs.cash: …).
    const where = i.path.length && !i.message.includes(`${dotted}:`) ? `${dotted}: ` : '';
    issues.push({ message: missing ? `${where}required` : `${where}${i.message}`, severity: 'error', start, end });
  }
  // in the order they appear in the cell
  issues.sort((a, b) => a.start - b.start);
  return { ok: false, config: null, issues };
}

function valueAt(v: unknown, path: readonly PropertyKey[]): unknown {
  let cur = v;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** The documented keys of the map at `path` (top level for []), or undefined. */
export function docsAt(language: ConfigLanguage, path: readonly string[]): Readonly<Record<string, KeyDoc>> | undefined {
  let docs: Readonly<Record<string, KeyDoc>> | undefined = KEY_DOCS[language];
  for (const p of path) docs = docs?.[p]?.keys;
  return docs;
}

/**
 * Where the cursor is, for completion and hover: the chain of map keys that encloses it (by
 * indentation, so it works on text that does not parse yet), and the key of its own line.
 */
export function cursorContext(
  text: string,
  offset: number,
): { path: string[]; lineKey: string | null; inValue: boolean; linePrefix: string } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const linePrefix = before.slice(lineStart);
  const lineEnd = text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const indent = /^\s*(?:-\s+)?/.exec(line)![0].length;
  const own = /^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:/.exec(line);
  const inValue = own !== null && linePrefix.length > line.indexOf(':');
  const path: string[] = [];
  let want = indent;
  const prior = text.slice(0, lineStart).split('\n');
  for (let i = prior.length - 1; i >= 0 && want > 0; i--) {
    const m = /^(\s*)([A-Za-z_][\w-]*)\s*:\s*(?:#.*)?$/.exec(prior[i]!);
    if (m && m[1]!.length < want) {
      path.unshift(m[2]!);
      want = m[1]!.length;
    }
  }
  return { path, lineKey: own ? own[1]! : null, inValue, linePrefix };
}
