/**
 * The `.btnb` NotebookSerializer: format.ts's reader and writer between the file and VS Code's
 * NotebookData. Outputs persist (only what re-renders them: see format.ts); a file that cannot
 * be read opens as one error cell holding its text, and saving that cell writes the text back.
 */
import * as vscode from 'vscode';
import type * as FormatModule from './format.ts';
import type { NotebookCell, OutputJson } from './format.ts';

import { NOTEBOOK_TYPE } from './ids.ts';

export { NOTEBOOK_TYPE };
/** Notebook metadata key of a file that could not be read (format.ts's INVALID_KEY). */
const INVALID_KEY = 'btnbInvalid';

const decoder = new TextDecoder();
// The format (and zod) load with the first notebook, not at activation.
type Format = typeof FormatModule;
let format: Promise<Format> | undefined;
const loadFormat = () => (format ??= import('./format.ts'));

function toOutput({ MIME }: Format, o: OutputJson): vscode.NotebookCellOutput {
  if (o.mime === MIME.text) return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(String(o.data))]);
  if (o.mime === MIME.error) {
    const e = (o.data ?? {}) as { name?: string; message?: string; stack?: string };
    const err = new Error(e.message ?? '');
    err.name = e.name ?? 'Error';
    err.stack = e.stack ?? '';
    return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error(err)]);
  }
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.json(o.data, o.mime)]);
}

/** The one item of an output the file keeps: the first of a persisted MIME type. */
function fromOutput({ MIME }: Format, out: vscode.NotebookCellOutput): OutputJson | null {
  const persisted: readonly string[] = Object.values(MIME);
  const item = out.items.find((i) => persisted.includes(i.mime));
  if (!item) return null;
  const text = decoder.decode(item.data);
  if (item.mime === MIME.text) return { mime: item.mime, data: text };
  try {
    return { mime: item.mime, data: JSON.parse(text) as unknown };
  } catch {
    return null;
  }
}

export class BtnbSerializer implements vscode.NotebookSerializer {
  async deserializeNotebook(content: Uint8Array): Promise<vscode.NotebookData> {
    const f = await loadFormat();
    const doc = f.readNotebook(decoder.decode(content));
    const data = new vscode.NotebookData(
      doc.cells.map((c) => {
        const cell = new vscode.NotebookCellData(
          c.kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code,
          c.source,
          c.language,
        );
        cell.metadata = c.metadata;
        cell.outputs = c.outputs.map((o) => toOutput(f, o));
        if (c.execution)
          cell.executionSummary = {
            ...(c.execution.order !== null ? { executionOrder: c.execution.order } : {}),
            ...(c.execution.success !== null ? { success: c.execution.success } : {}),
          };
        return cell;
      }),
    );
    data.metadata = doc.metadata;
    return data;
  }

  async serializeNotebook(data: vscode.NotebookData): Promise<Uint8Array> {
    const f = await loadFormat();
    const cells: NotebookCell[] = data.cells.map((c) => ({
      kind: c.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'code',
      language: c.languageId,
      source: c.value,
      metadata: { ...(c.metadata ?? {}) },
      execution: c.executionSummary
        ? { order: c.executionSummary.executionOrder ?? null, success: c.executionSummary.success ?? null }
        : null,
      outputs: (c.outputs ?? []).map((o) => fromOutput(f, o)).filter((o): o is OutputJson => o !== null),
    }));
    return new TextEncoder().encode(f.writeNotebook({ metadata: { ...(data.metadata ?? {}) }, cells }));
  }
}

/** True for a notebook opened from a file that could not be read (its one cell holds the text). */
export function isInvalidNotebook(nb: vscode.NotebookDocument): boolean {
  return nb.metadata[INVALID_KEY] !== undefined;
}

export function registerSerializer(): vscode.Disposable {
  return vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new BtnbSerializer(), {
    transientOutputs: false,
    transientCellMetadata: {},
  });
}
