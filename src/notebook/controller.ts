/**
 * The `.btnb` notebook controller: the one kernel of the notebook type, preferred for every
 * `.btnb` (Run All never asks which kernel), running cells in order — each cell's work a job in
 * a child process (cellRunners.ts) — with execution order numbers, progress in the cell, cancel
 * through the cell's stop button or Cancel All (the child is stopped, a run it started ends
 * canceled), and Run All stopping at the first failure, as Jupyter does. Untrusted workspaces
 * run nothing: the cell says why.
 */
import * as vscode from 'vscode';
import { dataDir } from '../extension/settings.ts';
import type { Services } from '../extension/services.ts';
import { CONTROLLER_ID, NOTEBOOK_TYPE } from './ids.ts';
import { CellCanceled, CellError } from './cellErrors.ts';

/** The languages cells run in (cellRunners.ts has a runner for each; it loads with the first run). */
export const CELL_LANGUAGES = ['btnb-backtest', 'btnb-sweep', 'btnb-data', 'sql', 'typescript'];

const errorOutput = (name: string, message: string, stack?: string) => {
  const err = new Error(message);
  err.name = name;
  err.stack = stack ?? '';
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error(err)]);
};

/** Progress lines are replaced at most this often (a sweep reports every run). */
const PROGRESS_MS = 150;

export class BtnbController implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  readonly #s: Services;
  readonly #order = new Map<string, number>();
  readonly #subs: vscode.Disposable[] = [];
  /** Cells running now (tests and Cancel All read it). */
  readonly running = new Set<vscode.NotebookCellExecution>();

  constructor(s: Services) {
    this.#s = s;
    const c = vscode.notebooks.createNotebookController(CONTROLLER_ID, NOTEBOOK_TYPE, 'Backtest Notebook');
    this.controller = c;
    c.supportedLanguages = CELL_LANGUAGES;
    c.supportsExecutionOrder = true;
    c.description = 'each cell runs as a job in a child process';
    c.detail = 'backtests, sweeps, data and catalog queries of this workspace';
    c.executeHandler = (cells, notebook) => this.#execute(cells, notebook);
    const prefer = (nb: vscode.NotebookDocument) => {
      if (nb.notebookType === NOTEBOOK_TYPE) c.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
    };
    vscode.workspace.notebookDocuments.forEach(prefer);
    this.#subs.push(
      c,
      vscode.workspace.onDidOpenNotebookDocument(prefer),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.#order.delete(nb.uri.toString())),
    );
  }

  async #execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): Promise<void> {
    for (const cell of cells) {
      // Run All stops at the first cell that failed or was canceled
      if (!(await this.#run(cell, notebook))) break;
    }
  }

  async #run(cell: vscode.NotebookCell, notebook: vscode.NotebookDocument): Promise<boolean> {
    const exec = this.controller.createNotebookCellExecution(cell);
    const key = notebook.uri.toString();
    const order = (this.#order.get(key) ?? 0) + 1;
    this.#order.set(key, order);
    exec.executionOrder = order;
    exec.start(Date.now());
    this.running.add(exec);
    try {
      if (exec.token.isCancellationRequested) throw new CellCanceled('canceled');
      if (!vscode.workspace.isTrusted) {
        throw new CellError(
          'This workspace is not trusted, so notebook cells do not run: they execute strategy code and write to the data directory. ' +
            'Trust the workspace (Manage Workspace Trust) to run them; outputs already in the notebook still show.',
        );
      }
      const runner = (await import('./cellRunners.ts')).RUNNERS[cell.document.languageId];
      if (!runner) {
        throw new CellError(
          `cells of language '${cell.document.languageId}' do not run here; use btnb-backtest, btnb-sweep, btnb-data, sql or typescript`,
        );
      }
      let last = 0;
      const outputs = await runner({
        s: this.#s,
        cell,
        token: exec.token,
        dataDir: dataDir(),
        strategyFiles: new Map(),
        progress: (text) => {
          const now = Date.now();
          if (now - last < PROGRESS_MS) return;
          last = now;
          void exec.replaceOutput(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(`⏳ ${text}`)]));
        },
      });
      await exec.replaceOutput(outputs);
      exec.end(true, Date.now());
      return true;
    } catch (err) {
      if (err instanceof CellCanceled || exec.token.isCancellationRequested) {
        await exec.replaceOutput(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text('Canceled.')]));
        exec.end(undefined, Date.now());
        return false;
      }
      const e = err as Error;
      const out =
        err instanceof CellError ? errorOutput('Error', e.message, err.detail) : errorOutput(e.name || 'Error', e.message, e.stack);
      if (!(err instanceof CellError)) this.#s.jobs.output.error(`notebook cell ${cell.index + 1}: ${e.stack ?? e.message}`);
      await exec.replaceOutput(out);
      exec.end(false, Date.now());
      return false;
    } finally {
      this.running.delete(exec);
    }
  }

  dispose(): void {
    for (const s of this.#subs) s.dispose();
  }
}
