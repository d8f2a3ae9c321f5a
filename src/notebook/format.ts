/**
 * The `.btnb` file format (docs/notebooks.md), without VS Code: a zod schema (also published as
 * the JSON Schema `schemas/btnb-notebook.schema.json`), a reader that never throws — invalid
 * input becomes a notebook of one error cell that keeps the original text — and a writer with a
 * stable key order, 2-space indentation and sources as arrays of lines, so notebooks diff cleanly.
 */
import { z } from 'zod';

/** The format this code writes; it reads this one and every older one. */
export const NOTEBOOK_FORMAT = 1;

/** Output MIME types the renderer draws (and the file persists). */
export const MIME = {
  run: 'application/vnd.btnb.run+json',
  sweep: 'application/vnd.btnb.sweep+json',
  dataset: 'application/vnd.btnb.dataset+json',
  table: 'application/vnd.btnb.table+json',
  strategy: 'application/vnd.btnb.strategy+json',
  error: 'application/vnd.code.notebook.error',
  text: 'text/plain',
} as const;
const PERSISTED_MIMES: readonly string[] = Object.values(MIME);
/** text/plain outputs are kept up to this many characters (a note, not a log). */
export const MAX_TEXT_OUTPUT = 10_000;

const Json: z.ZodType<unknown> = z
  .lazy(() => z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(Json), z.record(z.string(), Json)]))
  .meta({ id: 'JsonValue' });
const Source = z.union([z.string(), z.array(z.string())], { error: 'expected the cell text as a string or an array of lines' });

export const OutputJson = z.strictObject({
  mime: z.string().min(1),
  data: Json,
});
export type OutputJson = z.infer<typeof OutputJson>;

export const CellJson = z.strictObject({
  kind: z.enum(['markdown', 'code']),
  language: z.string().min(1),
  /** The cell text: one string per line (a single string is read too). */
  source: Source,
  metadata: z.record(z.string(), Json).optional(),
  /** The last execution: its order number and whether it succeeded. */
  execution: z.strictObject({ order: z.number().int().positive().nullable(), success: z.boolean().nullable() }).optional(),
  outputs: z.array(OutputJson).optional(),
});
export type CellJson = z.infer<typeof CellJson>;

export const NotebookJson = z.strictObject({
  format: z.number().int().positive(),
  metadata: z.record(z.string(), Json).optional(),
  cells: z.array(CellJson),
});

export interface NotebookCell {
  kind: 'markdown' | 'code';
  language: string;
  source: string;
  metadata: Record<string, unknown>;
  execution: { order: number | null; success: boolean | null } | null;
  outputs: OutputJson[];
}

export interface NotebookDoc {
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** Set on the notebook metadata of a file that could not be read; the one cell holds its text. */
export const INVALID_KEY = 'btnbInvalid';

export interface InvalidInfo {
  problem: string;
}

/** The JSON Schema of the format (committed as schemas/btnb-notebook.schema.json). */
export function notebookJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://backtest-notebook.dev/schemas/btnb-notebook.schema.json',
    title: 'Backtest Notebook (.btnb)',
    ...(z.toJSONSchema(NotebookJson, { target: 'draft-2020-12' }) as Record<string, unknown>),
  };
}

function invalid(text: string, problem: string): NotebookDoc {
  return {
    metadata: { [INVALID_KEY]: { problem } satisfies InvalidInfo },
    cells: [
      {
        kind: 'code',
        language: 'json',
        source: text,
        metadata: {},
        execution: null,
        outputs: [
          {
            mime: MIME.error,
            data: {
              name: 'This notebook could not be read',
              message: `${problem}\n\nThe file's text is in this cell, unchanged; nothing is written until you save. Fix the JSON here and save to repair the file, or close without saving.`,
            },
          },
        ],
      },
    ],
  };
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') || '(top level)';
}

/** Reads a `.btnb` file. Never throws: an unreadable file is a notebook with one error cell. */
export function readNotebook(text: string, name = 'notebook'): NotebookDoc {
  if (text.trim() === '') return { metadata: {}, cells: [] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return invalid(text, `${name}: not valid JSON: ${(err as Error).message}`);
  }
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const format = (data as { format?: unknown }).format;
    if (typeof format === 'number' && Number.isInteger(format) && format > NOTEBOOK_FORMAT) {
      return invalid(
        text,
        `${name}: format ${format} is newer than this version of Backtest Notebook reads (format ${NOTEBOOK_FORMAT}); update the extension to open it`,
      );
    }
  }
  const parsed = NotebookJson.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    return invalid(text, `${name}: ${issuePath(first.path)}: ${first.message}`);
  }
  return {
    metadata: parsed.data.metadata ?? {},
    cells: parsed.data.cells.map((c) => ({
      kind: c.kind,
      language: c.language,
      source: typeof c.source === 'string' ? c.source : c.source.join('\n'),
      metadata: c.metadata ?? {},
      execution: c.execution ?? null,
      outputs: c.outputs ?? [],
    })),
  };
}

/** JSON with object keys sorted at every depth (stable output whatever order values were built in). */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, sorted(o[k])]),
    );
  }
  return v;
}

/** What of an output the file keeps: our outputs, errors, and short text; nothing else. */
export function persistedOutputs(outputs: readonly OutputJson[]): OutputJson[] {
  const kept: OutputJson[] = [];
  for (const o of outputs) {
    if (!PERSISTED_MIMES.includes(o.mime)) continue;
    if (o.mime === MIME.text) {
      if (typeof o.data !== 'string') continue;
      kept.push({ mime: o.mime, data: o.data.length > MAX_TEXT_OUTPUT ? `${o.data.slice(0, MAX_TEXT_OUTPUT)}\n… (cut)` : o.data });
    } else kept.push({ mime: o.mime, data: sorted(o.data) });
  }
  return kept;
}

/**
 * Writes a notebook: `format`, `metadata`, `cells`, each cell `kind`, `language`, `source` (lines),
 * `metadata`, `execution`, `outputs`; keys of free-form objects sorted; 2-space indent, final
 * newline. A notebook read from an unreadable file writes its one cell's text back verbatim.
 */
export function writeNotebook(doc: NotebookDoc): string {
  if (doc.metadata[INVALID_KEY] !== undefined && doc.cells.length === 1) return doc.cells[0]!.source;
  const file = {
    format: NOTEBOOK_FORMAT,
    metadata: sorted(doc.metadata),
    cells: doc.cells.map((c) => ({
      kind: c.kind,
      language: c.language,
      source: c.source.split('\n'),
      ...(Object.keys(c.metadata).length > 0 ? { metadata: sorted(c.metadata) } : {}),
      ...(c.kind === 'code' && c.execution && (c.execution.order !== null || c.execution.success !== null)
        ? { execution: { order: c.execution.order, success: c.execution.success } }
        : {}),
      ...(c.kind === 'code' ? { outputs: persistedOutputs(c.outputs) } : {}),
    })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
