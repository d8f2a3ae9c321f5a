/** New Backtest Notebook: an untitled .btnb with the starter cells (src/notebook/starter.ts). */
import * as vscode from 'vscode';
import { NOTEBOOK_TYPE } from '../../notebook/ids.ts';
import { starterNotebook } from '../../notebook/starter.ts';

export async function newNotebook(): Promise<{ ok: true; uri: string }> {
  const cells = starterNotebook().cells.map((c) => {
    const cell = new vscode.NotebookCellData(
      c.kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code,
      c.source,
      c.language,
    );
    cell.metadata = c.metadata;
    return cell;
  });
  const doc = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, new vscode.NotebookData(cells));
  await vscode.window.showNotebookDocument(doc);
  return { ok: true, uri: doc.uri.toString() };
}
