/** GET /healthz: version, catalog reachable, jobs running and queued. The one route without auth. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ENGINE_VERSION } from '../../version.ts';
import { Health } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';

export function registerHealth(app: TypedApp, ctx: ServerContext): void {
  // the histogram holds the time between samples: the delay is what exceeds the sampling interval
  const RESOLUTION_MS = 10;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  app.addHook('onClose', async () => delay.disable());
  const ms = (ns: number) => Math.max(0, Math.round((ns - RESOLUTION_MS * 1e6) / 1e4) / 100);
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
      event_loop: { p50_ms: ms(delay.percentile(50)), p99_ms: ms(delay.percentile(99)), max_ms: ms(delay.max) },
    };
  });
}
