import * as vscode from 'vscode';
import { PRODUCT_VERSION } from '../engine/version.ts';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('btnb.showVersion', () => {
      void vscode.window.showInformationMessage(`Backtest Notebook ${PRODUCT_VERSION}`);
      return PRODUCT_VERSION;
    }),
  );
}

export function deactivate(): void {}
