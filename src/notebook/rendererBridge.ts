/**
 * The host end of the notebook renderer's messaging: one run-views connection per output that
 * asks (rendererProtocol.ts), served by the run views' own backend and streamer (bindRunViews),
 * so an output's chart, series and replay are the run view's. A connection lives until its
 * output says `close` (disposed, re-rendered), its editor closes or hides, its notebook closes,
 * or the bridge is disposed:
 * every replay it opened stops with it — no timer outlives the output.
 */
import * as vscode from 'vscode';
import { IpcEndpoint } from '../engine/views/ipc.ts';
import { bindRunViews, type RunViewsBinding } from '../engine/views/bindRunViews.ts';
import { Notifications } from '../engine/views/protocol.ts';
import type { RunViews } from '../extension/webview/runViews.ts';
import { HostToRenderer, RendererToHost } from './rendererProtocol.ts';

interface Connection {
  editor: vscode.NotebookEditor;
  notebook: string;
  ipc: IpcEndpoint;
  binding: RunViewsBinding;
}

export class RendererBridge implements vscode.Disposable {
  readonly #messaging: vscode.NotebookRendererMessaging;
  readonly #connections = new Map<string, Connection>();
  readonly #subs: vscode.Disposable[] = [];
  readonly #views: () => Promise<RunViews>;
  readonly #displayTz: () => string;
  readonly #log: (s: string) => void;

  /** `messaging` is created at activation (renderer messages may come before this module loads). */
  constructor(
    messaging: vscode.NotebookRendererMessaging,
    views: () => Promise<RunViews>,
    displayTz: () => string,
    log: (s: string) => void,
  ) {
    this.#messaging = messaging;
    this.#views = views;
    this.#displayTz = displayTz;
    this.#log = log;
    this.#subs.push(
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.closeNotebook(nb.uri.toString())),
      // An editor that closed (or was hidden) takes its outputs' streams with it; an output that
      // shows again reconnects with its next request.
      vscode.window.onDidChangeVisibleNotebookEditors((visible) => {
        for (const [id, c] of [...this.#connections]) if (!visible.includes(c.editor)) this.#close(id);
      }),
    );
  }

  /** Open connections and the replays they hold (tests check both drop to zero). */
  get stats(): { connections: number; replays: number } {
    let replays = 0;
    for (const c of this.#connections.values()) replays += c.binding.replays;
    return { connections: this.#connections.size, replays };
  }

  /** Every message of the renderer (the extension forwards them from activation on). */
  async receive(editor: vscode.NotebookEditor, raw: unknown): Promise<void> {
    const parsed = RendererToHost.safeParse(raw);
    if (!parsed.success) {
      this.#log(`notebook renderer: invalid message: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
      return;
    }
    const m = parsed.data;
    if (m.type === 'close') {
      this.#close(m.connection);
      return;
    }
    let c = this.#connections.get(m.connection);
    if (!c) {
      const views = await this.#views();
      // a close may have arrived while the views loaded
      c = this.#connections.get(m.connection) ?? this.#open(m.connection, editor, views);
    }
    c.ipc.receive(m.msg);
  }

  #open(id: string, editor: vscode.NotebookEditor, views: RunViews): Connection {
    const ipc = new IpcEndpoint({
      post: (msg) => void this.#messaging.postMessage(HostToRenderer.parse({ type: 'ipc', connection: id, msg }), editor),
      onFault: (s) => this.#log(`notebook output ${id}: ${s}`),
    });
    const binding = bindRunViews(ipc, views.backend, views.streamer, {
      act: (a, ids) => views.act(a, ids),
      copy: (t) => Promise.resolve(vscode.env.clipboard.writeText(t)),
      displayTz: this.#displayTz,
    });
    ipc.onNotification(Notifications.ready, () => ipc.notify(Notifications.settings, { displayTz: this.#displayTz() }));
    const c: Connection = { editor, notebook: editor.notebook.uri.toString(), ipc, binding };
    this.#connections.set(id, c);
    return c;
  }

  #close(id: string): void {
    const c = this.#connections.get(id);
    if (!c) return;
    this.#connections.delete(id);
    c.binding.dispose();
    c.ipc.close();
  }

  /** Closes every connection of a notebook (it was closed). */
  closeNotebook(uri: string): void {
    for (const [id, c] of [...this.#connections]) if (c.notebook === uri) this.#close(id);
  }

  dispose(): void {
    for (const id of [...this.#connections.keys()]) this.#close(id);
    for (const s of this.#subs) s.dispose();
  }
}
