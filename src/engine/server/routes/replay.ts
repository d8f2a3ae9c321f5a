/** GET /backtests/{id}/ws (the contracts' replay over a WebSocket) and the SSE fallback: not built yet. */
import type { ServerContext, TypedApp } from '../context.ts';

export function registerReplay(_app: TypedApp, _ctx: ServerContext): void {}
