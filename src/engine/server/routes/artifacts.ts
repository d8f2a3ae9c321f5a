/** GET /backtests/{id}/artifacts/{name}, /series, /fills|orders|trades: not built yet. */
import type { ServerContext, TypedApp } from '../context.ts';

export function registerArtifacts(_app: TypedApp, _ctx: ServerContext): void {}
