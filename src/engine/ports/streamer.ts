/**
 * StreamerPort (the seed's `frames(run_id, speed)` / `control(run_id, cmd)`): replays of
 * finished runs as docs/replay.md messages. One open replay is a ReplaySession; its messages go
 * to the sink given at open, commands come back through `control`. The local adapter is
 * LocalStreamer (src/engine/replay/localStreamer.ts); views reach it over postMessage (VS Code)
 * or, later, a WebSocket (`btnb serve`).
 */
import type { SeekTarget, ServerMsg, Speed } from '../replay/protocol.ts';

export interface ReplayOpenOptions {
  speed?: Speed;
  from?: SeekTarget;
  to?: SeekTarget;
  /** Start playing immediately (default: paused at `from`). */
  play?: boolean;
  /** Width of the view in points: how finely a reset frame's history is decimated. */
  historyPoints?: number;
  displayTz?: string;
}

export interface ReplaySession {
  readonly runId: string;
  /** A `ctrl` message from the view (any JSON value: invalid ones are answered with `err`). */
  control(msg: unknown): void;
  /** Resolves once the commands received so far are answered (a coalesced frame is sent). */
  settled(): Promise<void>;
  /** Ends the stream with `end` (`stopped`, unless it already ended) and releases its timers. */
  close(): void;
}

export interface StreamerPort {
  /** Opens a replay of a succeeded run: `meta`, the first frame and `ctrl` arrive on `sink` at once. */
  open(runId: string, opts: ReplayOpenOptions, sink: (msg: ServerMsg) => void): Promise<ReplaySession>;
}
