/**
 * The run views in real Chromium without a workbench: a 127.0.0.1 server serves the webview
 * bundle in a page with the same CSP the extension uses, `acquireVsCodeApi` is bridged to Node
 * (Playwright bindings), and Node answers with the real backend (RunViewsBackend + bindRunViews
 * + LocalStreamer) over a real catalog. The views' code, protocol and backend are the product's;
 * only VS Code's postMessage pipe is replaced. Used by bench:views and quick visual checks.
 */
import { createServer, type Server } from 'node:http';
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
import { csp, nonce } from '../../src/extension/webview/viewHtml.ts';
import { launchChromium } from '../vscode/chromium.ts';
import { REPO_ROOT } from '../vscode/codeServer.ts';

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.html': 'text/html' };

export interface ViewHarness {
  browser: Browser;
  url: string;
  backend: RunViewsBackend;
  streamer: LocalStreamer;
  /** Opens a view in a new page (with the VS Code body class for the theme). */
  open(args: ViewArgs, opts?: { theme?: 'dark' | 'light'; width?: number; height?: number }): Promise<Page>;
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
  const root = join(REPO_ROOT, 'dist', 'webview');
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/view/')) {
        const p = pages.get(url.pathname.slice(6));
        if (!p) { res.writeHead(404).end(); return; }
        const n = nonce();
        const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp("'self'", n))}">
<link rel="stylesheet" href="/wv/main.css"><style id="plotly.js-style-global" nonce="${n}"></style></head>
<body class="${p.theme === 'light' ? 'vscode-light' : 'vscode-dark'}"><div id="root" data-args="${esc(JSON.stringify(p.args))}" data-tz="${esc(tz)}"></div>
<script type="module" nonce="${n}" src="/wv/main.js"></script></body></html>`);
        return;
      }
      if (url.pathname.startsWith('/wv/')) {
        const file = normalize(join(root, url.pathname.slice(4)));
        if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
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
    browser, url, backend, streamer, errors,
    async open(args, o = {}) {
      const id = String(++seq);
      pages.set(id, { args, theme: o.theme ?? 'dark' });
      const page = await browser.newPage({ viewport: { width: o.width ?? 1400, height: o.height ?? 900 } });
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      let state: unknown;
      const ipc = new IpcEndpoint({
        post: (m) => void page.evaluate((msg) => (globalThis as unknown as { dispatchEvent(e: unknown): void }).dispatchEvent(new MessageEvent('message', { data: msg })), m as never).catch(() => undefined),
        onFault: (s) => errors.push(`host: ${s}`),
      });
      const binding = bindRunViews(ipc, backend, streamer, { act: async () => ({ ok: true }), copy: async () => undefined, displayTz: () => tz });
      ipc.onNotification(Notifications.ready, () => ipc.notify(Notifications.settings, { displayTz: tz }));
      page.on('close', () => binding.dispose());
      await page.exposeBinding('__btnbPost', (_src, m: unknown) => ipc.receive(m));
      await page.exposeBinding('__btnbSetState', (_src, s: unknown) => { state = s; });
      await page.addInitScript(() => {
        const w = globalThis as unknown as { acquireVsCodeApi: () => unknown; __btnbPost(m: unknown): void; __btnbSetState(m: unknown): void };
        let st: unknown;
        w.acquireVsCodeApi = () => ({
          postMessage: (m: unknown) => w.__btnbPost(m),
          getState: () => st,
          setState: (s: unknown) => { st = s; w.__btnbSetState(s); },
        });
      });
      void state;
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
