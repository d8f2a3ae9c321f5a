/**
 * The notebook renderer ↔ extension host boundary (VS Code renderer messaging). Each output that
 * talks to the host is one connection, named by the renderer; over it travel the run views' own
 * IPC envelopes (src/engine/views/ipc.ts: requests, replies, notifications — the same protocol
 * as a run view panel), so an output asks for a run, its series and a replay exactly as RunDetail
 * does. `close` ends a connection (the output was disposed or re-rendered): its replays stop.
 * Browser-safe: zod only.
 */
import { z } from 'zod';

export { RENDERER_ID } from './ids.ts';

const connection = z.string().min(1).max(200);

export const RendererToHost = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ipc'), connection, msg: z.unknown() }),
  z.strictObject({ type: z.literal('close'), connection }),
]);
export type RendererToHost = z.infer<typeof RendererToHost>;

export const HostToRenderer = z.strictObject({ type: z.literal('ipc'), connection, msg: z.unknown() });
export type HostToRenderer = z.infer<typeof HostToRenderer>;
