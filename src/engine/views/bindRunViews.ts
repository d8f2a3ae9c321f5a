/**
 * Wires one view connection (an IpcEndpoint) to the run views' backend: every request of
 * views/protocol.ts gets its handler, replay sessions opened by this view stream into it and
 * die with it. What depends on the host (running commands, the clipboard) comes in as hooks.
 */
import type { IpcEndpoint } from './ipc.ts';
import { IpcError } from './ipc.ts';
import { Notifications, Requests, type RunAction } from './protocol.ts';
import type { RunViewsBackend } from './runViewsBackend.ts';
import type { StreamerPort, ReplaySession } from '../ports/streamer.ts';

export interface RunViewsHooks {
  /** Runs an action on runs (open, rerun, delete, …); resolves with what to tell the user. */
  act(action: RunAction, runIds: string[]): Promise<{ ok: boolean; message?: string }>;
  copy(text: string): Promise<void>;
  displayTz(): string;
}

export interface RunViewsBinding {
  /** Open replay sessions of this view. */
  readonly replays: number;
  /** Closes this view's replays (its page was replaced or hidden); requests are still served. */
  closeReplays(): void;
  /** Closes the replays and refuses new ones (the view is gone). */
  dispose(): void;
}

export function bindRunViews(ipc: IpcEndpoint, backend: RunViewsBackend, streamer: StreamerPort, hooks: RunViewsHooks): RunViewsBinding {
  const sessions = new Map<string, ReplaySession>();
  const opening = new Set<string>();
  let disposed = false;

  ipc.onRequest(Requests.runsList, (q) => backend.runsList(q));
  ipc.onRequest(Requests.runsFacets, () => backend.runsFacets());
  ipc.onRequest(Requests.runsAct, (p) => hooks.act(p.action, p.runIds));
  ipc.onRequest(Requests.runGet, (p) => backend.runGet(p.runId));
  ipc.onRequest(Requests.runSeries, (p) => backend.runSeries(p.runId, p.from, p.to, p.points));
  ipc.onRequest(Requests.runTable, (p) => backend.runTable(p.runId, p.table, p.offset, p.limit, p.sort));
  ipc.onRequest(Requests.runTableLocate, async (p) => ({ row: await backend.runTableLocate(p.runId, p.table, p.bar, p.sort) }));
  ipc.onRequest(Requests.compareGet, (p) => backend.compareGet(p.runIds, p.points));
  ipc.onRequest(Requests.sweepGet, (p) => backend.sweepGet(p.sweepId, p.points));
  ipc.onRequest(Requests.clipboardWrite, async (p) => {
    await hooks.copy(p.text);
    return { ok: true };
  });

  ipc.onRequest(Requests.replayOpen, async (p) => {
    const sessionId = p.sessionId;
    if (sessions.has(sessionId) || opening.has(sessionId)) throw new IpcError('bad_params', `replay session ${sessionId} is already open`);
    opening.add(sessionId);
    // meta and the first frame go out before this reply, tagged with the view's session id
    const session = await streamer
      .open(
        p.runId,
        {
          ...(p.speed !== undefined ? { speed: p.speed } : {}),
          ...(p.from !== undefined ? { from: p.from } : {}),
          ...(p.historyPoints !== undefined ? { historyPoints: p.historyPoints } : {}),
          displayTz: hooks.displayTz(),
        },
        (msg) => ipc.notify(Notifications.replayMsg, { sessionId, msg }),
      )
      .catch((err: unknown) => {
        throw err instanceof IpcError ? err : new IpcError('failed', (err as Error).message);
      })
      .finally(() => opening.delete(sessionId));
    if (disposed) {
      session.close();
      throw new IpcError('closed', 'the view closed while the replay opened');
    }
    sessions.set(sessionId, session);
    return { sessionId };
  });
  ipc.onRequest(Requests.replayClose, (p) => {
    const s = sessions.get(p.sessionId);
    if (!s) return { ok: false, message: `no replay session ${p.sessionId}` };
    sessions.delete(p.sessionId);
    s.close();
    return { ok: true };
  });
  ipc.onNotification(Notifications.replayCtrl, (p) => {
    const s = sessions.get(p.sessionId);
    if (s) s.control(p.msg);
    else
      ipc.notify(Notifications.replayMsg, {
        sessionId: p.sessionId,
        msg: { type: 'err', code: 'not_found', message: `no replay session ${p.sessionId} (closed, or the view was reloaded)` },
      });
  });

  return {
    get replays() {
      return sessions.size;
    },
    closeReplays() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
    dispose() {
      disposed = true;
      this.closeReplays();
    },
  };
}
