/**
 * The web app: GET / serves the run views of src/webview — the same page VS Code shows in a
 * webview (views/viewHtml.ts), under a strict CSP with this response's nonce, connecting back
 * to this origin only — and GET /app/{file} serves the built bundle (dist/webview) by name from
 * an allow-list pattern, never a path. Neither holds data: they need no token; the page gets its
 * data over /views/ws with a ticket.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ViewArgs } from '../../views/protocol.ts';
import { csp, nonce, readWebviewManifest, viewHtml } from '../../views/viewHtml.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';

const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(js|css|map|woff2?|ttf)$/;
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
};

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function registerWebApp(app: TypedApp, ctx: ServerContext): void {
  const dir = ctx.opts.webviewDir ?? null;
  const PageQuery = z.object({ args: z.string().max(4096).optional(), tz: z.string().max(64).optional() });
  app.get('/', { schema: { hide: true, querystring: PageQuery } }, (req, reply) => {
    if (!dir || !existsSync(join(dir, 'manifest.json')))
      throw new HttpProblem(404, 'this server has no web app (the run views are not built: npm run build)');
    let args: ViewArgs = { view: 'runs' };
    if (req.query.args !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(req.query.args);
      } catch {
        throw new HttpProblem(400, 'args: not JSON', { field: 'querystring.args' });
      }
      const parsed = ViewArgs.safeParse(raw);
      if (!parsed.success)
        throw new HttpProblem(400, `args: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { field: 'querystring.args' });
      args = parsed.data;
    }
    const tz = req.query.tz ?? 'America/New_York';
    if (!validZone(tz)) throw new HttpProblem(400, `tz: '${tz}' is not an IANA time zone`, { field: 'querystring.tz' });
    const m = readWebviewManifest(dir);
    const n = nonce();
    const title =
      args.view === 'run'
        ? `Run ${args.runId}`
        : args.view === 'compare'
          ? 'Compare runs'
          : args.view === 'sweep'
            ? `Sweep ${args.sweepId}`
            : 'Runs';
    const html = viewHtml(
      {
        cspSource: "'self'",
        script: `/app/${m.main}`,
        style: `/app/${m.css}`,
        preload: [...m.preload, ...(args.view !== 'runs' ? m.charts : [])].map((f) => `/app/${f}`),
        args,
        displayTz: tz,
        title: `${title} — btnb`,
        connectSrc: "'self'",
      },
      n,
    );
    return reply
      .header('Content-Security-Policy', `${csp("'self'", n, "'self'")}; frame-ancestors 'none'`)
      .header('Cache-Control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  });
  // browsers ask for it on every page; an empty answer instead of a 404 in the console
  app.get('/favicon.ico', { schema: { hide: true } }, (_req, reply) => reply.code(204).send());
  app.get('/app/:file', { schema: { hide: true, params: z.object({ file: z.string() }) } }, (req, reply) => {
    const name = req.params.file;
    const path = dir && FILE.test(name) ? join(dir, name) : null;
    if (!path || !existsSync(path) || !statSync(path).isFile()) throw new HttpProblem(404, `no app file ${name}`);
    return reply
      .type(TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream')
      .header('Cache-Control', 'no-cache')
      .send(createReadStream(path));
  });
}
