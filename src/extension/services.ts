/** The extension's long-lived parts, created in activate() and handed to command modules. */
import type * as vscode from 'vscode';
import type { CatalogService } from './catalog/catalogService.ts';
import type { JobManager } from './jobs/jobManager.ts';
import type { RunsTreeProvider } from './tree/runsTree.ts';
import type { RunViews } from './webview/runViews.ts';
import type { BtnbController } from '../notebook/controller.ts';
import type { RendererBridge } from '../notebook/rendererBridge.ts';

export interface Services {
  context: vscode.ExtensionContext;
  catalog: CatalogService;
  jobs: JobManager;
  tree: RunsTreeProvider;
  /** The run views (webview panels), created on first use. */
  views: () => Promise<RunViews>;
  /** The notebook kernel and the renderer bridge (created on the first renderer message). */
  notebook?: { controller: BtnbController; bridge: () => Promise<RendererBridge> };
}

export const SECRET_KEY = 'btnb.databento.apiKey';
