/**
 * Minimal `.btnb` serializer: the file is JSON `{ "cells": [{ kind, language, value }] }`
 * (a bare array of cells is read too). Deterministic output (2-space JSON, trailing newline)
 * so notebooks diff cleanly. The notebook issue replaces this with the full format.
 */
import * as vscode from 'vscode';

export const NOTEBOOK_TYPE = 'btnb-notebook';

interface RawCell {
  kind: 'markdown' | 'code';
  language?: string;
  value: string;
}

export function parseNotebook(text: string, name = 'notebook'): RawCell[] {
  if (text.trim() === '') return [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${name}: not valid JSON (${(err as Error).message})`);
  }
  const cells = Array.isArray(data) ? data : (data as { cells?: unknown })?.cells;
  if (!Array.isArray(cells)) throw new Error(`${name}: expected { "cells": [...] } at the top level`);
  return cells.map((c: unknown, i) => {
    const cell = c as Partial<RawCell>;
    if (typeof cell?.value !== 'string') throw new Error(`${name}: cells[${i}].value: expected a string`);
    if (cell.kind !== 'markdown' && cell.kind !== 'code') throw new Error(`${name}: cells[${i}].kind: expected "markdown" or "code"`);
    return { kind: cell.kind, language: typeof cell.language === 'string' ? cell.language : undefined, value: cell.value };
  });
}

export class BtnbSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const cells = parseNotebook(new TextDecoder().decode(content)).map(
      (c) =>
        new vscode.NotebookCellData(
          c.kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code,
          c.value,
          c.language ?? (c.kind === 'markdown' ? 'markdown' : 'typescript'),
        ),
    );
    return new vscode.NotebookData(cells);
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const cells: RawCell[] = data.cells.map((c) => ({
      kind: c.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'code',
      language: c.languageId,
      value: c.value,
    }));
    return new TextEncoder().encode(`${JSON.stringify({ cells }, null, 2)}\n`);
  }
}

export function registerSerializer(): vscode.Disposable {
  return vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new BtnbSerializer(), { transientOutputs: true });
}
