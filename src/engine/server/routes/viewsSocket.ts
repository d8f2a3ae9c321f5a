/**
 * GET /views/ws: the web app's views talk to the server over this WebSocket with the same IPC
 * envelopes VS Code's webviews post (views/ipc.ts), bound to the same backend and streamer
 * (views/bindRunViews.ts) — no second implementation of any view request. What VS Code does
 * with panels, the browser does with pages: "open a run" answers with a `view/navigate`.
 */
import { IpcEndpoint } from '../../views/ipc.ts';
import { bindRunViews, type RunViewsHooks } from '../../views/bindRunViews.ts';
import { Notifications, type RunAction, type ViewArgs } from '../../views/protocol.ts';
import { dataPaths } from '../../dataDir.ts';
import { rm } from 'node:fs/promises';
import type { ServerContext, TypedApp } from '../context.ts';
import { replayHub } from '../replayHub.ts';
import { viewsBackend } from '../viewsBackend.ts';

/** How often the catalog's change counter is polled for the open views (any process may write). */
const WATCH_MS = 500;

export function registerViewsSocket(app: TypedApp, ctx: ServerContext): void {
  const open = new Set<IpcEndpoint>();
  let last = -1;
  const watch = setInterval(() => {
    if (open.size === 0) return;
    let counter: number;
    try {
      counter = ctx.catalog.changeCounter();
    } catch {
      return; // closing
    }
    if (counter === last) return;
    last = counter;
    for (const ipc of open) ipc.notify(Notifications.catalogChanged, { counter });
  }, WATCH_MS);
  watch.unref();
  app.addHook('onClose', async () => clearInterval(watch));

  app.get('/views/ws', { websocket: true, schema: { hide: true } }, (socket) => {
    const ipc = new IpcEndpoint({
      post: (m) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
      },
      onFault: () => undefined, // the endpoint answers bad requests itself; nothing to log here
    });
    const navigate = (args: ViewArgs) => ipc.notify(Notifications.navigate, args);
    const hooks: RunViewsHooks = {
      displayTz: () => 'America/New_York',
      copy: async () => undefined, // the page copies with the browser's clipboard itself
      act: async (action: RunAction, runIds: string[]) => {
        const first = runIds[0]!;
        switch (action) {
          case 'open':
            navigate({ view: 'run', runId: first });
            return { ok: true };
          case 'compare':
            if (runIds.length < 2 || runIds.length > 8) return { ok: false, message: 'compare 2 to 8 runs' };
            navigate({ view: 'compare', runIds });
            return { ok: true };
          case 'openSweep': {
            const run = ctx.catalog.getRun(first);
            const sweep = run?.sweep_id ?? run?.tags.find((t) => t.startsWith('sweep:'))?.slice(6);
            if (!sweep) return { ok: false, message: `run ${first} is not part of a sweep` };
            navigate({ view: 'sweep', sweepId: sweep });
            return { ok: true };
          }
          case 'delete': {
            for (const id of runIds) {
              const r = ctx.catalog.getRun(id);
              if (!r) continue;
              if (r.status === 'queued' || r.status === 'running') return { ok: false, message: `run ${id} is ${r.status}` };
              await rm(dataPaths(ctx.opts.dataDir).runDir(id), { recursive: true, force: true });
              ctx.catalog.deleteRun(id);
            }
            return { ok: true, message: `deleted ${runIds.length} run(s)` };
          }
          default:
            return { ok: false, message: `${action} is available in VS Code (or through the HTTP API), not in the browser` };
        }
      },
    };
    const binding = bindRunViews(ipc, viewsBackend(ctx), replayHub(ctx).streamer, hooks);
    open.add(ipc);
    socket.on('message', (data: Buffer) => {
      let m: unknown;
      try {
        m = JSON.parse(data.toString('utf8'));
      } catch {
        socket.close(1007, 'not JSON');
        return;
      }
      ipc.receive(m);
    });
    socket.on('close', () => {
      open.delete(ipc);
      binding.dispose();
      ipc.close();
    });
  });
}
