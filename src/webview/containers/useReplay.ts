/**
 * One replay session of a run, from the view's side: opens it on the host, feeds its frames into
 * a ReplayModel, and turns the controls into `ctrl` messages. Redraws are coalesced to one per
 * animation frame however fast frames arrive. The session closes with the view.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AccountState, CtrlBody, MetaMsg, ServerMsg, Speed } from '../../engine/replay/protocol.ts';
import { Notifications, Requests } from '../../engine/views/protocol.ts';
import { ReplayModel, type ChartModel } from '../lib/chartModel.ts';
import type { HostClient } from '../services/hostClient.ts';
import { perf } from '../lib/perf.ts';

export type ReplayUiState = 'idle' | 'opening' | 'playing' | 'paused' | 'ended';

export interface Replay {
  state: ReplayUiState;
  cursor: number;
  speed: Speed;
  account: AccountState | null;
  model: ChartModel | null;
  meta: MetaMsg | null;
  error: string | null;
  /** Frames received (benchmarks and tests read it). */
  frames: number;
  fills: number;
  /** Opens the session paused at `from` (or playing), then sends `then` once it is open. */
  start: (from: number, play: boolean, then?: CtrlBody) => void;
  send: (cmd: CtrlBody) => void;
  setSpeed: (s: Speed) => void;
  exit: () => void;
}

let sessionSeq = 0;

export function useReplay(
  host: HostClient,
  runId: string,
  initialSpeed: Speed,
  historyPoints: number,
  onCursor?: (c: number) => void,
): Replay {
  const [state, setState] = useState<ReplayUiState>('idle');
  const [speed, setSpeedState] = useState<Speed>(initialSpeed);
  const [, redraw] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const session = useRef<string | null>(null);
  const model = useRef(new ReplayModel());
  const info = useRef({ cursor: 0, account: null as AccountState | null, meta: null as MetaMsg | null, frames: 0, fills: 0 });
  const raf = useRef(0);
  const cursorCb = useRef(onCursor);
  cursorCb.current = onCursor;

  const schedule = () => {
    if (raf.current) return;
    raf.current = requestAnimationFrame(() => {
      raf.current = 0;
      redraw((n) => n + 1);
      cursorCb.current?.(info.current.cursor);
    });
  };

  useEffect(() => {
    const off = host.on(Notifications.replayMsg, ({ sessionId, msg }) => {
      if (sessionId !== session.current) return;
      handle(msg);
    });
    return () => {
      off();
      if (raf.current) cancelAnimationFrame(raf.current);
      const s = session.current;
      session.current = null;
      if (s) void host.request(Requests.replayClose, { sessionId: s }).catch(() => undefined);
    };
  }, [host, runId]);

  function handle(msg: ServerMsg) {
    const i = info.current;
    switch (msg.type) {
      case 'meta':
        i.meta = msg;
        break;
      case 'frame': {
        const t0 = performance.now();
        model.current.apply(msg);
        const dt = performance.now() - t0;
        const r = perf.replay;
        if (!msg.reset) {
          if (r.firstFrameMs === null && r.playAtMs !== null) r.firstFrameMs = t0;
          r.frames++;
          for (const n of msg.bars.n) r.bars += n;
          r.fills += msg.fills.fill_id.length;
          r.orderEvents += msg.orders.order_id.length;
        } else r.fills = msg.fills.fill_id.length; // a reset re-bases what the view holds
        r.applyMs += dt;
        if (dt > r.maxApplyMs) r.maxApplyMs = dt;
        i.cursor = msg.cursor;
        i.account = msg.account;
        i.frames++;
        i.fills += msg.fills.fill_id.length;
        schedule();
        break;
      }
      case 'ctrl':
        i.cursor = msg.cursor;
        setState(msg.state);
        setSpeedState(msg.speed);
        schedule();
        break;
      case 'end':
        if (msg.reason === 'complete') {
          perf.replay.endedMs = performance.now();
          setState('ended');
        }
        break;
      case 'err':
        setError(`${msg.code}: ${msg.message}`);
        break;
      case 'hb':
        break;
    }
  }

  const send = (cmd: CtrlBody) => {
    if (!session.current) return;
    if (cmd.cmd === 'play' && perf.replay.playAtMs === null) perf.replay.playAtMs = performance.now();
    setError(null);
    host.notify(Notifications.replayCtrl, { sessionId: session.current, msg: { type: 'ctrl', ...cmd } });
  };

  const start = (from: number, play: boolean, then?: CtrlBody) => {
    if (session.current) {
      if (then) send(then);
      return;
    }
    const id = `v${Date.now().toString(36)}-${++sessionSeq}`;
    session.current = id;
    model.current = new ReplayModel();
    info.current = { cursor: from, account: null, meta: null, frames: 0, fills: 0 };
    setState('opening');
    setError(null);
    if (play && perf.replay.playAtMs === null) perf.replay.playAtMs = performance.now();
    host.request(Requests.replayOpen, { sessionId: id, runId, speed, from, historyPoints }).then(
      () => {
        if (session.current !== id) return;
        if (play) send({ cmd: 'play' });
        if (then) send(then);
      },
      (err: Error) => {
        if (session.current === id) session.current = null;
        setState('idle');
        setError(err.message);
      },
    );
  };

  return {
    state,
    speed,
    error,
    cursor: info.current.cursor,
    account: info.current.account,
    meta: info.current.meta,
    model: session.current ? model.current.model : null,
    frames: info.current.frames,
    fills: info.current.fills,
    start,
    send,
    setSpeed(s) {
      setSpeedState(s);
      send({ cmd: 'speed', value: s });
    },
    exit() {
      const s = session.current;
      session.current = null;
      setState('idle');
      if (s) void host.request(Requests.replayClose, { sessionId: s }).catch(() => undefined);
    },
  };
}
