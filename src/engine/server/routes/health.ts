/** GET /healthz: version, catalog reachable, jobs running and queued. The one route without auth. */
import { ENGINE_VERSION } from '../../version.ts';
import { Health } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';

export function registerHealth(app: TypedApp, ctx: ServerContext): void {
  app.get('/healthz', { schema: { security: [], response: { 200: Health } } }, () => {
    let catalog: { ok: boolean; path: string; error?: string } = { ok: true, path: ctx.catalog.path };
    try {
      ctx.catalog.changeCounter();
    } catch (e) {
      catalog = { ok: false, path: ctx.catalog.path, error: (e as Error).message };
    }
    return {
      status: 'ok' as const,
      version: ENGINE_VERSION,
      catalog,
      jobs: { running: ctx.jobs.running, queued: ctx.jobs.queued, max: ctx.opts.maxJobs },
    };
  });
}
