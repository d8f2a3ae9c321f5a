/** New Backtest Notebook: an untitled .btnb with a starter cell layout. */
import * as vscode from 'vscode';
import { NOTEBOOK_TYPE } from '../../notebook/serializer.ts';

export async function newNotebook(): Promise<{ ok: true; uri: string }> {
  const cells = [
    new vscode.NotebookCellData(
      vscode.NotebookCellKind.Markup,
      "# Backtest notebook\nRuns of this workspace's catalog, one cell per question.",
      'markdown',
    ),
    new vscode.NotebookCellData(
      vscode.NotebookCellKind.Code,
      "// e.g. list the best runs by Sharpe\nbtnb.runs({ sortBy: 'sharpe', limit: 10 })",
      'typescript',
    ),
  ];
  const doc = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, new vscode.NotebookData(cells));
  await vscode.window.showNotebookDocument(doc);
  return { ok: true, uri: doc.uri.toString() };
}
