/**
 * Panel types of the run views and their serializers, registered at activation so VS Code can
 * restore open run views after a window reload. This module stays tiny (activation cost): the
 * views themselves load when a panel is restored or opened.
 */
import * as vscode from 'vscode';
import type { ViewArgs } from '../../engine/views/protocol.ts';
import type { RunViews } from './runViews.ts';

export const VIEW_TYPES: Record<ViewArgs['view'], string> = {
  runs: 'btnb.runsList',
  run: 'btnb.runDetail',
  compare: 'btnb.compare',
  sweep: 'btnb.sweep',
};

export function registerViewSerializers(get: () => Promise<RunViews>): vscode.Disposable[] {
  return Object.values(VIEW_TYPES).map((type) =>
    vscode.window.registerWebviewPanelSerializer(type, {
      async deserializeWebviewPanel(panel, state) {
        (await get()).restore(panel, state);
      },
    }),
  );
}
