/** One RunViewsBackend per server (its caches of series shared by the REST routes and the web app's views). */
import { RunViewsBackend } from '../views/runViewsBackend.ts';
import type { ServerContext } from './context.ts';

const backends = new WeakMap<ServerContext, RunViewsBackend>();

export function viewsBackend(ctx: ServerContext): RunViewsBackend {
  let b = backends.get(ctx);
  if (!b)
    backends.set(
      ctx,
      (b = new RunViewsBackend({ dataDir: () => ctx.opts.dataDir, catalog: async () => ctx.catalog, materialize: ctx.materialize })),
    );
  return b;
}
