/** GET /datasets, GET /datasets/{id}, POST /datasets: not built yet. */
import type { ServerContext, TypedApp } from '../context.ts';

export function registerDatasets(_app: TypedApp, _ctx: ServerContext): void {}
