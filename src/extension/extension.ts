/**
 * Activation: register commands, the Runs tree and the job manager. Nothing heavy loads here —
 * the catalog (better-sqlite3), webviews and command bodies load on first use — so activation
 * stays well under 100 ms. activate() returns a small API (activation time, and hooks the
 * integration tests use to observe messages and the tree).
 */
// First import: its top level runs before every other module of the bundle is evaluated.
import { LOAD_T0 } from './loadClock.ts';
import * as vscode from 'vscode';
import { PRODUCT_VERSION } from '../engine/version.ts';
import { CatalogService } from './catalog/catalogService.ts';
import { JobManager } from './jobs/jobManager.ts';
import { RunsTreeProvider } from './tree/runsTree.ts';
import { dataDir, displayTimeZone, maxParallelJobs } from './settings.ts';
import type { Services } from './services.ts';
import * as ui from './ui.ts';
import { registerSerializer } from '../notebook/serializer.ts';
import { BtnbController } from '../notebook/controller.ts';
import { RENDERER_ID } from '../notebook/ids.ts';
import type { RendererBridge } from '../notebook/rendererBridge.ts';
import { registerCellLanguageFeatures } from '../notebook/languageFeatures.ts';
import { registerViewSerializers } from './webview/viewSerializers.ts';
import type { RunViews } from './webview/runViews.ts';

export interface BtnbApi {
  version: string;
  /** activate() start → end, milliseconds (measured inside the extension host). */
  activationMs: number;
  /** Evaluation of the bundle's top level (all static imports), milliseconds. */
  moduleLoadMs: number;
  /** From the end of that evaluation until VS Code called activate() (host scheduling, not our code). */
  activateDelayMs: number;
  services: Services;
  ui: typeof ui;
}

type Handler = (s: Services, ...args: unknown[]) => unknown;
type Commands<M> = { [K in keyof M]: M[K] extends (s: Services, ...args: never[]) => unknown ? K : never }[keyof M];
/** The named export of a command module, loaded on first use. */
function lazy<M>(load: () => Promise<M>, name: Commands<M>): () => Promise<Handler> {
  return async () => (await load())[name] as Handler;
}
const data = () => import('./commands/dataCommands.ts');
const runs = () => import('./commands/runCommands.ts');

/** command id → lazily loaded implementation. Every command of package.json is here (a test checks). */
const COMMANDS: Record<string, () => Promise<Handler>> = {
  'btnb.importDbnFiles': lazy(data, 'importDbnFiles'),
  'btnb.downloadDatabento': lazy(data, 'downloadDatabento'),
  'btnb.setDatabentoApiKey': lazy(data, 'setDatabentoApiKey'),
  'btnb.generateSampleDataset': lazy(data, 'generateSampleDataset'),
  'btnb.deriveBars': lazy(data, 'deriveBars'),
  'btnb.runBacktest': lazy(runs, 'runBacktest'),
  'btnb.runBacktestForFile': async () => (s, uri) =>
    runs().then((m) => m.runBacktest(s, uri ?? vscode.window.activeTextEditor?.document.uri)),
  'btnb.runSweep': lazy(runs, 'runSweep'),
  'btnb.openRunsList': lazy(runs, 'openRunsList'),
  'btnb.openRun': lazy(runs, 'openRun'),
  'btnb.compareRuns': lazy(runs, 'compareRuns'),
  'btnb.openSweep': lazy(runs, 'openSweep'),
  'btnb.rerun': lazy(runs, 'rerun'),
  'btnb.deleteRun': lazy(runs, 'deleteRun'),
  'btnb.revealArtifacts': lazy(runs, 'revealArtifacts'),
  'btnb.copyRunId': lazy(runs, 'copyRunId'),
  'btnb.cancelJob': lazy(runs, 'cancelJob'),
  'btnb.newNotebook': lazy(() => import('./commands/notebookCommands.ts'), 'newNotebook'),
  'btnb.refresh': async () => (s) => {
    s.catalog.refresh();
    return { ok: true };
  },
  'btnb.groupByStrategy': async () => (s) => s.tree.setGroupBy('strategy'),
  'btnb.groupByDataset': async () => (s) => s.tree.setGroupBy('dataset'),
  'btnb.filterByStatus': lazy(() => import('./commands/viewCommands.ts'), 'filterByStatus'),
  'btnb.showVersion': async () => () => {
    void vscode.window.showInformationMessage(`Backtest Notebook ${PRODUCT_VERSION}`);
    return PRODUCT_VERSION;
  },
};
export const COMMAND_IDS = Object.keys(COMMANDS);
/** Every static import has been evaluated by here. */
const LOAD_T1 = performance.now();

export function activate(context: vscode.ExtensionContext): BtnbApi {
  const t0 = performance.now();
  const moduleLoadMs = LOAD_T1 - LOAD_T0;
  const activateDelayMs = t0 - LOAD_T1;
  const jobs = new JobManager(context.extensionPath, maxParallelJobs);
  let dir: string;
  try {
    dir = dataDir();
  } catch (err) {
    jobs.output.warn((err as Error).message);
    dir = context.globalStorageUri.fsPath;
  }
  const catalog = new CatalogService(
    dir,
    (p) => import('./catalog/catalogAdapter.ts').then((m) => m.openCatalogReader(p)),
    (s) => jobs.output.warn(s),
  );
  const tree = new RunsTreeProvider(catalog, displayTimeZone, context.workspaceState);
  let views: Promise<RunViews> | undefined;
  const services: Services = {
    context,
    catalog,
    jobs,
    tree,
    views: () =>
      (views ??= import('./webview/runViews.ts').then((m) => {
        const v = new m.RunViews(services);
        context.subscriptions.push(v);
        return v;
      })),
  };
  jobs.setFinalizer({
    async settleRun(runId, outcome) {
      const reader = await catalog.require();
      if (outcome.status === 'canceled') reader.markCanceled(runId);
      else reader.markFailed(runId, outcome.message);
      catalog.refresh();
    },
  });
  const view = vscode.window.createTreeView('btnb.runs', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  context.subscriptions.push(jobs, catalog, tree, view);
  for (const [id, load] of Object.entries(COMMANDS)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await (
            await load()
          )(services, ...args);
        } catch (err) {
          const e = err as Error;
          jobs.output.error(`${id}: ${e.stack ?? e.message}`);
          void ui.error(`${id}: ${e.message}`);
          return { ok: false, error: e.message };
        }
      }),
    );
  }
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('btnb.dataDir')) {
        try {
          catalog.setDataDir(dataDir());
          settle(catalog.dataDir);
        } catch (err) {
          void ui.error((err as Error).message);
        }
      }
      if (e.affectsConfiguration('btnb.displayTimeZone')) tree.refresh();
    }),
    vscode.languages.registerCodeLensProvider([{ scheme: 'file', pattern: '**/strategies/*.{ts,js,mjs}' }], {
      provideCodeLenses(doc) {
        if (!vscode.workspace.isTrusted) return [];
        const m = /defineStrategy\s*\(/.exec(doc.getText());
        const pos = m ? doc.positionAt(m.index) : new vscode.Position(0, 0);
        return [
          new vscode.CodeLens(new vscode.Range(pos, pos), {
            title: '$(play) Run Backtest',
            command: 'btnb.runBacktestForFile',
            arguments: [doc.uri],
          }),
        ];
      },
    }),
  );
  // Synchronously: a .btnb opened at startup must find its serializer once activate() returns,
  // and run view panels left open must find theirs.
  context.subscriptions.push(registerSerializer(), ...registerViewSerializers(services.views));
  // The notebook kernel exists as soon as a .btnb can open (no kernel picker); its cell runners,
  // the renderer bridge and the cell language features load when first used.
  const controller = new BtnbController(services);
  const messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
  let bridge: Promise<RendererBridge> | undefined;
  services.notebook = {
    controller,
    bridge: () =>
      (bridge ??= import('../notebook/rendererBridge.ts').then((m) => {
        const b = new m.RendererBridge(messaging, services.views, displayTimeZone, (t) => jobs.output.warn(t));
        context.subscriptions.push(b);
        return b;
      })),
  };
  context.subscriptions.push(
    controller,
    messaging.onDidReceiveMessage((e) => void services.notebook!.bridge().then((b) => b.receive(e.editor, e.message))),
    registerCellLanguageFeatures(services),
  );
  // The palette's when-clauses (btnb.hasDatasets / hasRuns) need one catalog read even while the
  // sidebar is closed: do it after startup settles, off the activation path.
  // What a killed process (an earlier window, a CLI) left running or half-written is settled then too.
  const settle = (d: string) =>
    void import('../engine/recovery.ts')
      .then((m) => m.recoverDataDir(d))
      .then((r) => {
        if (r.runs.length + r.datasets.length + r.temps.length === 0) return;
        jobs.output.info(
          `settled after an earlier crash: runs ${r.runs.join(', ') || '-'}; derives ${r.datasets.join(', ') || '-'}; ${r.temps.length} temp files removed`,
        );
        catalog.refresh();
      })
      .catch((err: Error) => jobs.output.warn(`could not check ${d} for abandoned runs: ${err.message}`));
  const warm = setTimeout(() => {
    settle(catalog.dataDir);
    void tree.rootNodes().catch(() => undefined);
  }, 1500);
  context.subscriptions.push({ dispose: () => clearTimeout(warm) });
  const activationMs = performance.now() - t0;
  jobs.output.info(`Backtest Notebook ${PRODUCT_VERSION} activated in ${activationMs.toFixed(1)} ms; data dir ${dir}`);
  return { version: PRODUCT_VERSION, activationMs, moduleLoadMs, activateDelayMs, services, ui };
}

export function deactivate(): void {}
