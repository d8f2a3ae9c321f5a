/**
 * The page of a run view — in a VS Code webview, and served by `btnb serve` to a plain browser:
 * the webview bundle (dist/webview) as an ES module under a strict CSP
 * — scripts and styles only from the bundle folder or with this page's nonce, no inline
 * handlers, no eval, no remote content. Plotly's style rules go into a <style> element created
 * here with the nonce (Plotly reuses an element with its id instead of adding an unsigned one).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ViewArgs } from './protocol.ts';

/** dist/webview/manifest.json (esbuild.mjs): the entry, its CSS and the chunks to preload. */
export interface WebviewManifest {
  main: string;
  css: string;
  preload: string[];
  /** Plotly's chunks: preloaded by views that chart. */
  charts: string[];
}

const manifests = new Map<string, WebviewManifest>();
export function readWebviewManifest(dir: string): WebviewManifest {
  let m = manifests.get(dir);
  if (!m) {
    try {
      m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as WebviewManifest;
    } catch {
      m = { main: 'main.js', css: 'main.css', preload: [], charts: [] }; // an older build: no preloads
    }
    manifests.set(dir, m);
  }
  return m;
}

export function nonce(): string {
  return randomBytes(18).toString('base64');
}

/** For text and double-quoted attributes (a CSP keeps its single quotes readable). */
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export interface ViewPage {
  /** webview.cspSource */
  cspSource: string;
  /** URIs (as strings) of dist/webview/main.js and main.css for this webview. */
  script: string;
  style: string;
  /** Module URIs to fetch and compile while main.js starts (modulepreload). */
  preload: string[];
  args: ViewArgs;
  displayTz: string;
  title: string;
  /** Where the page may connect (`btnb serve`: its own origin, for the WebSocket); none in VS Code. (frame-ancestors only works as a header: the server adds it.) */
  connectSrc?: string;
}

export function csp(cspSource: string, n: string, connectSrc?: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${n}' ${cspSource}`,
    `style-src ${cspSource} 'nonce-${n}'`,
    // Plotly's heatmap draws through a canvas into an <image> with a data: URL
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    ...(connectSrc ? [`connect-src ${connectSrc}`, "base-uri 'none'", "form-action 'none'"] : []),
  ].join('; ');
}

export function viewHtml(p: ViewPage, n: string = nonce()): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp(p.cspSource, n, p.connectSrc))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)}</title>
<link rel="stylesheet" href="${esc(p.style)}">
${p.preload.map((u) => `<link rel="modulepreload" href="${esc(u)}">`).join('\n')}
<style id="plotly.js-style-global" nonce="${n}"></style>
</head>
<body>
<div id="root" data-args="${esc(JSON.stringify(p.args))}" data-tz="${esc(p.displayTz)}"></div>
<script type="module" nonce="${n}" src="${esc(p.script)}"></script>
</body>
</html>`;
}
