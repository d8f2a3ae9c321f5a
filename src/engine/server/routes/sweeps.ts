/** POST /sweeps, GET /sweeps/{id}, GET /jobs/{id}/events: not built yet. */
import type { ServerContext, TypedApp } from '../context.ts';

export function registerSweeps(_app: TypedApp, _ctx: ServerContext): void {}
