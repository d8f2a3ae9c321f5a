/**
 * The run views in real Chromium without a workbench: a 127.0.0.1 server serves the webview
 * bundle in a page with the same CSP the extension uses, `acquireVsCodeApi` is bridged to Node
 * (Playwright bindings), and Node answers with the real backend (RunViewsBackend + bindRunViews
 * + LocalStreamer) over a real catalog. The views' code, protocol and backend are the product's;
 * only VS Code's postMessage pipe is replaced. Used by bench:views and quick visual checks.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { IpcEndpoint } from '../../src/engine/views/ipc.ts';
import { Notifications, type ViewArgs } from '../../src/engine/views/protocol.ts';
import { RunViewsBackend } from '../../src/engine/views/runViewsBackend.ts';
import { bindRunViews } from '../../src/engine/views/bindRunViews.ts';
import { LocalStreamer } from '../../src/engine/replay/localStreamer.ts';
import { systemClock } from '../../src/engine/replay/clock.ts';
import { openCatalog } from '../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../src/engine/dataDir.ts';
import { csp, nonce, readWebviewManifest } from '../../src/engine/views/viewHtml.ts';
import { launchChromium } from '../vscode/chromium.ts';
import { REPO_ROOT } from '../vscode/codeServer.ts';

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.html': 'text/html' };

export interface ViewHarness {
  browser: Browser;
  url: string;
  backend: RunViewsBackend;
  streamer: LocalStreamer;
  /** Opens a view in a new page (with the VS Code body class for the theme). */
  open(
    args: ViewArgs,
    opts?: { theme?: 'dark' | 'light'; width?: number; height?: number; beforeLoad?(page: Page): Promise<void> },
  ): Promise<Page>;
  /** Browser console errors (CSP violations included). */
  errors: string[];
  close(): Promise<void>;
}

export async function startViewHarness(dataDir: string, opts: { tz?: string } = {}): Promise<ViewHarness> {
  const catalog = openCatalog(dataPaths(dataDir).catalog);
  const backend = new RunViewsBackend({ dataDir: () => dataDir, catalog: async () => catalog });
  const streamer = new LocalStreamer((id) => backend.series(id), systemClock);
  const tz = opts.tz ?? 'America/New_York';
  const pages = new Map<string, { args: ViewArgs; theme: string }>();
  /** Per page: its SSE stream (host → page) and the IPC endpoint fed by its POSTs (page → host). */
  const conns = new Map<string, { events: ServerResponse | null; pending: unknown[]; receive(m: unknown): void }>();
  const root = join(REPO_ROOT, 'dist', 'webview');
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/view/')) {
        const p = pages.get(url.pathname.slice(6));
        if (!p) {
          res.writeHead(404).end();
          return;
        }
        const n = nonce();
        const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
        const m = readWebviewManifest(root);
        const preload = [...m.preload, ...(p.args.view === 'runs' ? [] : m.charts)]
          .map((f) => `<link rel="modulepreload" href="/wv/${f}">`)
          .join('');
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(`${csp("'self'", n)}; connect-src 'self'`)}">
<link rel="stylesheet" href="/wv/main.css">${preload}<style id="plotly.js-style-global" nonce="${n}"></style></head>
<body class="${p.theme === 'light' ? 'vscode-light' : 'vscode-dark'}"><div id="root" data-args="${esc(JSON.stringify(p.args))}" data-tz="${esc(tz)}"></div>
<script type="module" nonce="${n}" src="/wv/main.js"></script></body></html>`);
        return;
      }
      const ipcMatch = /^\/ipc\/(\d+)(\/events)?$/.exec(url.pathname);
      if (ipcMatch) {
        const conn = conns.get(ipcMatch[1]!);
        if (!conn) {
          res.writeHead(404).end();
          return;
        }
        if (ipcMatch[2]) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
          res.write(': open\n\n');
          conn.events = res;
          for (const m of conn.pending.splice(0)) res.write(`data: ${JSON.stringify(m)}\n\n`);
          return;
        }
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        for (const m of JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[]) conn.receive(m);
        res.writeHead(204).end();
        return;
      }
      if (url.pathname.startsWith('/wv/')) {
        const file = normalize(join(root, url.pathname.slice(4)));
        if (!file.startsWith(root)) {
          res.writeHead(403).end();
          return;
        }
        try {
          res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
        } catch {
          res.writeHead(404).end();
        }
        return;
      }
      res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404).end();
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  const errors: string[] = [];
  let seq = 0;
  return {
    browser,
    url,
    backend,
    streamer,
    errors,
    async open(args, o = {}) {
      const id = String(++seq);
      // as the extension does: the run's artifacts load while the page loads
      if (args.view === 'run') void backend.series(args.runId).catch(() => undefined);
      pages.set(id, { args, theme: o.theme ?? 'dark' });
      const page = await browser.newPage({ viewport: { width: o.width ?? 1400, height: o.height ?? 900 } });
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`[${args.view}] ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`[${args.view}] ${e.message}`));
      const conn = { events: null as ServerResponse | null, pending: [] as unknown[], receive: (m: unknown) => ipc.receive(m) };
      conns.set(id, conn);
      const ipc = new IpcEndpoint({
        post: (m) => {
          if (conn.events) conn.events.write(`data: ${JSON.stringify(m)}\n\n`);
          else conn.pending.push(m);
        },
        onFault: (s) => errors.push(`host: ${s}`),
      });
      const binding = bindRunViews(ipc, backend, streamer, {
        act: async () => ({ ok: true }),
        copy: async () => undefined,
        displayTz: () => tz,
      });
      ipc.onNotification(Notifications.ready, () => ipc.notify(Notifications.settings, { displayTz: tz }));
      page.on('close', () => {
        binding.dispose();
        conn.events?.end();
        conns.delete(id);
      });
      // acquireVsCodeApi over HTTP: POSTs (batched, in order) up, an EventSource down — the
      // shape `btnb serve`'s browser transport will have; Playwright bindings were far slower.
      await page.addInitScript((ipcUrl: string) => {
        const w = globalThis as unknown as { acquireVsCodeApi: () => unknown; dispatchEvent(e: unknown): void };
        let st: unknown;
        let queue: unknown[] = [];
        let sending = false;
        const flush = async () => {
          if (sending || queue.length === 0) return;
          sending = true;
          const batch = queue;
          queue = [];
          await fetch(ipcUrl, { method: 'POST', body: JSON.stringify(batch), headers: { 'content-type': 'application/json' } }).catch(
            () => undefined,
          );
          sending = false;
          void flush();
        };
        const es = new EventSource(`${ipcUrl}/events`);
        es.onmessage = (e) => w.dispatchEvent(new MessageEvent('message', { data: JSON.parse(e.data as string) }));
        w.acquireVsCodeApi = () => ({
          postMessage: (m: unknown) => {
            queue.push(m);
            void flush();
          },
          getState: () => st,
          setState: (s: unknown) => {
            st = s;
          },
        });
      }, `${url}/ipc/${id}`);
      await o.beforeLoad?.(page);
      await page.goto(`${url}/view/${id}`);
      return page;
    },
    async close() {
      await browser.close().catch(() => undefined);
      streamer.closeAll();
      await new Promise((r) => server.close(r));
      catalog.close();
    },
  };
}
