/**
 * The views' second transport: a WebSocket to `btnb serve` (`/views/ws`) carrying the same IPC
 * envelopes as VS Code's postMessage, behind the same HostClient. The socket is opened with a
 * one-time ticket (POST /tickets; the bearer token, when the server wants one, is asked for once
 * and kept in this tab's sessionStorage — never put in a URL). A dropped socket reconnects with
 * backoff and says `ready` again, so the view's subscriptions are restored by the server.
 */
import { transportClient, type HostClient } from './hostClient.ts';

const STATE_KEY = 'btnb.viewState';
const TOKEN_KEY = 'btnb.token';

async function ticket(): Promise<string> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const r = await fetch('/tickets', { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (r.ok) return ((await r.json()) as { ticket: string }).ticket;
    if (r.status !== 401) throw new Error(`POST /tickets answered ${r.status}`);
    const given = window.prompt('This btnb server needs its token (printed when it started):');
    if (!given) break;
    sessionStorage.setItem(TOKEN_KEY, given.trim());
  }
  throw new Error('no token: the server refused the connection');
}

export function webSocketClient(onFault: (message: string) => void, onReconnect: () => void): HostClient & { close(): void } {
  const listeners = new Set<(m: unknown) => void>();
  let socket: WebSocket | null = null;
  let outbox: string[] = [];
  let closed = false;
  let delay = 500;
  let connected = false;

  const connect = async () => {
    if (closed) return;
    let t: string;
    try {
      t = await ticket();
    } catch (e) {
      onFault((e as Error).message);
      return;
    }
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/views/ws?ticket=${encodeURIComponent(t)}`);
    socket = ws;
    ws.onopen = () => {
      delay = 500;
      const queued = outbox;
      outbox = [];
      for (const m of queued) ws.send(m);
      // after a reconnect the server has a fresh binding: the view says ready again
      if (connected) onReconnect();
      connected = true;
    };
    ws.onmessage = (e) => {
      let m: unknown;
      try {
        m = JSON.parse(String(e.data));
      } catch {
        onFault('the server sent a message that is not JSON');
        return;
      }
      for (const fn of listeners) fn(m);
    };
    ws.onclose = () => {
      socket = null;
      if (closed) return;
      onFault(`connection to the server lost; reconnecting in ${delay} ms`);
      setTimeout(() => void connect(), delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  void connect();

  return transportClient(
    {
      post: (m) => {
        const text = JSON.stringify(m);
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
        else outbox.push(text);
      },
      subscribe: (fn) => {
        listeners.add(fn);
        return () => {
          listeners.delete(fn);
          closed = true;
          socket?.close();
        };
      },
      getState: () => {
        const s = sessionStorage.getItem(STATE_KEY);
        return s ? (JSON.parse(s) as unknown) : undefined;
      },
      setState: (s) => sessionStorage.setItem(STATE_KEY, JSON.stringify(s)),
    },
    onFault,
  );
}
