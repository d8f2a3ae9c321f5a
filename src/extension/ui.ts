/**
 * Every message the extension shows goes through here, so integration tests (which run in the
 * real extension host) can observe what the user was told via the extension's exported API,
 * and drive prompts non-interactively with queued answers. The vscode API itself is never faked:
 * without queued answers the real window.show* functions are used.
 */
import * as vscode from 'vscode';

export type Shown = { level: 'info' | 'warn' | 'error'; text: string };
const shownEmitter = new vscode.EventEmitter<Shown>();
export const onDidShowMessage = shownEmitter.event;

/** Answers for the next prompts (input boxes, quick picks, confirmations), consumed in order. Tests only. */
const scripted: unknown[] = [];
export function queueAnswers(...answers: unknown[]): void {
  scripted.push(...answers);
}
function nextScripted(): { hit: boolean; value: unknown } {
  return scripted.length > 0 ? { hit: true, value: scripted.shift() } : { hit: false, value: undefined };
}

function record(level: Shown['level'], text: string): void {
  shownEmitter.fire({ level, text });
}

export function info(text: string, ...actions: string[]): Thenable<string | undefined> {
  record('info', text);
  return vscode.window.showInformationMessage(text, ...actions);
}
export function warn(text: string, ...actions: string[]): Thenable<string | undefined> {
  record('warn', text);
  return vscode.window.showWarningMessage(text, ...actions);
}
export function error(text: string, ...actions: string[]): Thenable<string | undefined> {
  record('error', text);
  return vscode.window.showErrorMessage(text, ...actions);
}

export async function confirm(text: string, action: string): Promise<boolean> {
  record('warn', text);
  const s = nextScripted();
  if (s.hit) return s.value === true || s.value === action;
  return (await vscode.window.showWarningMessage(text, { modal: true }, action)) === action;
}

export async function input(opts: vscode.InputBoxOptions): Promise<string | undefined> {
  const s = nextScripted();
  if (s.hit) {
    const v = s.value as string | undefined;
    const msg = v !== undefined && opts.validateInput ? await opts.validateInput(v) : undefined;
    if (msg) record('error', typeof msg === 'string' ? msg : msg.message);
    return msg ? undefined : v;
  }
  return vscode.window.showInputBox({ ignoreFocusOut: true, ...opts });
}

export async function pick<T extends vscode.QuickPickItem>(
  items: T[],
  opts: vscode.QuickPickOptions & { canPickMany?: false },
): Promise<T | undefined>;
export async function pick<T extends vscode.QuickPickItem>(
  items: T[],
  opts: vscode.QuickPickOptions & { canPickMany: true },
): Promise<T[] | undefined>;
export async function pick<T extends vscode.QuickPickItem>(items: T[], opts: vscode.QuickPickOptions): Promise<T | T[] | undefined> {
  const s = nextScripted();
  if (s.hit) {
    // A scripted answer names labels; an unknown label is a test bug worth hearing about.
    const labels = Array.isArray(s.value) ? (s.value as string[]) : [s.value as string];
    const found = labels.map((l) => items.find((i) => i.label === l || (i as { id?: string }).id === l));
    if (found.some((f) => f === undefined))
      throw new Error(`scripted pick ${JSON.stringify(s.value)} not among ${items.map((i) => i.label).join(', ')}`);
    return opts.canPickMany ? (found as T[]) : found[0];
  }
  return vscode.window.showQuickPick(items, { ignoreFocusOut: true, ...opts });
}

/** Restricted Mode refusal: says why and offers to manage trust. Returns the text. */
export function restricted(what: string): string {
  const text = `${what} executes strategy code, which Restricted Mode does not allow. Trust this workspace to run it; viewing existing runs works without trust.`;
  void error(text, 'Manage Workspace Trust').then((a) => a && vscode.commands.executeCommand('workbench.trust.manage'));
  return text;
}
