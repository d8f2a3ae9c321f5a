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

/** A HostClient over VS Code's webview postMessage. */
export function postMessageClient(onFault: (message: string) => void): HostClient {
  const vscode = acquireVsCodeApi();
  const ipc = new IpcEndpoint({ post: (m) => vscode.postMessage(m), onFault });
  window.addEventListener('message', (e: MessageEvent) => ipc.receive(e.data));
  return {
    request: (type, params) => ipc.request(type, params),
    notify: (type, params) => ipc.notify(type, params),
    on: (type, fn) => ipc.onNotification(type, fn),
    getState: <T>() => (vscode.getState() ?? undefined) as T | undefined,
    setState: (s) => vscode.setState(s),
  };
}
