/**
 * One webview's end of the views' IPC: messages from the webview are checked on arrival (the
 * IpcEndpoint), messages to it wait until it said `ready` (a webview that is still loading — or
 * reloading after being hidden — would drop them). Every envelope is kept in a short trace the
 * integration tests read.
 */
import type * as vscode from 'vscode';
import { IpcEndpoint, type Envelope } from '../../engine/views/ipc.ts';
import { Notifications, type ViewArgs } from '../../engine/views/protocol.ts';

const TRACE = 400;

export interface TraceEntry {
  dir: 'in' | 'out';
  kind: Envelope['kind'];
  method?: string;
  id?: number;
  ok?: boolean;
  /** Params or result, for the few messages tests look into (kept small: frames are cut). */
  body?: unknown;
}

/** Bodies up to this size are kept whole; replay messages keep only their type and cursor. */
const BODY_LIMIT = 256 * 1024;

function summarize(dir: 'in' | 'out', m: Envelope): TraceEntry {
  const e: TraceEntry = { dir, kind: m.kind };
  const keep = (v: unknown) => {
    const text = JSON.stringify(v) ?? '';
    return text.length <= BODY_LIMIT ? v : { truncated: text.length };
  };
  if (m.kind === 'notify' || m.kind === 'request') {
    e.method = m.method;
    if ('id' in m) e.id = m.id;
    if (m.method === 'replay/msg') {
      const msg = (m.params as { msg?: { type?: string; cursor?: number; seq?: number } }).msg;
      e.body = { type: msg?.type, cursor: msg?.cursor, seq: msg?.seq };
    } else e.body = keep(m.params);
  } else {
    e.id = m.id;
    e.ok = m.ok;
    e.body = keep(m.ok ? m.result : m.error);
  }
  return e;
}

export class ViewConnection {
  readonly ipc: IpcEndpoint;
  readonly trace: TraceEntry[] = [];
  ready = false;
  readyArgs: ViewArgs | null = null;
  #queue: Envelope[] = [];
  #webview: vscode.Webview;
  #subs: vscode.Disposable[] = [];
  #onReady: (args: ViewArgs) => void;

  constructor(webview: vscode.Webview, log: (s: string) => void, onReady: (args: ViewArgs) => void) {
    this.#webview = webview;
    this.#onReady = onReady;
    this.ipc = new IpcEndpoint({
      post: (m) => {
        if (this.ready) void this.#webview.postMessage(m);
        else this.#queue.push(m);
      },
      onFault: (s) => log(`run view: ${s}`),
      trace: (dir, m) => {
        this.trace.push(summarize(dir, m));
        if (this.trace.length > TRACE) this.trace.splice(0, this.trace.length - TRACE);
      },
    });
    this.ipc.onNotification(Notifications.ready, (p) => {
      this.ready = true;
      this.readyArgs = p.args;
      for (const m of this.#queue.splice(0)) void this.#webview.postMessage(m);
      this.#onReady(p.args);
    });
    this.#subs.push(webview.onDidReceiveMessage((m) => this.ipc.receive(m)));
  }

  /** The page was replaced (reloaded): hold messages again until it is ready. */
  reset(): void {
    this.ready = false;
    this.#queue = [];
  }

  dispose(): void {
    this.ipc.close();
    for (const s of this.#subs) s.dispose();
    this.#subs = [];
  }
}
