/**
 * The views' one way to their backend. Containers talk to a HostClient; which transport carries
 * it is chosen once at start: postMessage inside a VS Code webview (here), a WebSocket to
 * `btnb serve` in a plain browser (later). Both carry the same IPC envelopes.
 */
import { IpcEndpoint, type NotificationType, type RequestType } from '../../engine/views/ipc.ts';

export interface HostClient {
  request<P, R>(type: RequestType<P, R>, params: P): Promise<R>;
  notify<P>(type: NotificationType<P>, params: P): void;
  on<P>(type: NotificationType<P>, fn: (params: P) => void): () => void;
  /** View state that survives hiding the view and reloading the window. */
  getState<T>(): T | undefined;
  setState<T>(state: T): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** Where a HostClient's envelopes go and come from, and where it keeps view state. */
export interface Transport {
  post(message: unknown): void;
  /** Calls `fn` with every message from the host; returns the unsubscribe. */
  subscribe(fn: (message: unknown) => void): () => void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** A HostClient over any transport; `close()` stops listening and fails pending requests. */
export function transportClient(t: Transport, onFault: (message: string) => void): HostClient & { close(): void } {
  const ipc = new IpcEndpoint({ post: (m) => t.post(m), onFault });
  const unsubscribe = t.subscribe((m) => ipc.receive(m));
  return {
    request: (type, params) => ipc.request(type, params),
    notify: (type, params) => ipc.notify(type, params),
    on: (type, fn) => ipc.onNotification(type, fn),
    getState: <T>() => (t.getState() ?? undefined) as T | undefined,
    setState: (s) => t.setState(s),
    close: () => {
      unsubscribe();
      ipc.close();
    },
  };
}

/** A HostClient over VS Code's webview postMessage. */
export function postMessageClient(onFault: (message: string) => void): HostClient {
  const vscode = acquireVsCodeApi();
  return transportClient(
    {
      post: (m) => vscode.postMessage(m),
      subscribe: (fn) => {
        const on = (e: MessageEvent) => fn(e.data);
        window.addEventListener('message', on);
        return () => window.removeEventListener('message', on);
      },
      getState: () => vscode.getState(),
      setState: (s) => vscode.setState(s),
    },
    onFault,
  );
}
