/**
 * The `.btnb` NotebookSerializer: format.ts's reader and writer between the file and VS Code's
 * NotebookData. Outputs persist (only what re-renders them: see format.ts); a file that cannot
 * be read opens as one error cell holding its text, and saving that cell writes the text back.
 */
import * as vscode from 'vscode';
import { INVALID_KEY, MIME, readNotebook, writeNotebook, type NotebookCell, type OutputJson } from './format.ts';

export const NOTEBOOK_TYPE = 'btnb-notebook';

const PERSISTED: readonly string[] = Object.values(MIME);
const decoder = new TextDecoder();

function toOutput(o: OutputJson): vscode.NotebookCellOutput {
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
function fromOutput(out: vscode.NotebookCellOutput): OutputJson | null {
  const item = out.items.find((i) => PERSISTED.includes(i.mime));
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
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const doc = readNotebook(decoder.decode(content));
    const data = new vscode.NotebookData(
      doc.cells.map((c) => {
        const cell = new vscode.NotebookCellData(
          c.kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code,
          c.source,
          c.language,
        );
        cell.metadata = c.metadata;
        cell.outputs = c.outputs.map(toOutput);
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

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const cells: NotebookCell[] = data.cells.map((c) => ({
      kind: c.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'code',
      language: c.languageId,
      source: c.value,
      metadata: { ...(c.metadata ?? {}) },
      execution: c.executionSummary
        ? { order: c.executionSummary.executionOrder ?? null, success: c.executionSummary.success ?? null }
        : null,
      outputs: (c.outputs ?? []).map(fromOutput).filter((o): o is OutputJson => o !== null),
    }));
    return new TextEncoder().encode(writeNotebook({ metadata: { ...(data.metadata ?? {}) }, cells }));
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
