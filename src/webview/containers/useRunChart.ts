/**
 * A run's chart and its replay, from a container's side — shared by RunDetail and the notebook's
 * run output: the static window (re-requested, decimated to the chart's width, when the visible
 * range changes), the replay session (useReplay) and the controls' callbacks, the range that
 * follows the replay cursor while it plays. What the user set (zoom, speed, replay cursor) lives
 * in the caller's state, so each caller decides whether it survives a reload.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AccountState, Speed } from '../../engine/replay/protocol.ts';
import { Requests, type SeriesWindow } from '../../engine/views/protocol.ts';
import { mark } from '../lib/perf.ts';
import { emptyModel, modelFromWindow, type ChartModel } from '../lib/chartModel.ts';
import { fmtDateTime } from '../lib/time.ts';
import type { HostClient } from '../services/hostClient.ts';
import { useDebounced } from './hooks.ts';
import { useReplay, type Replay, type ReplayUiState } from './useReplay.ts';

export interface ChartState {
  range: [number, number] | null;
  speed: Speed;
  replayCursor: number | null;
}

export interface ReplayControls {
  state: ReplayUiState;
  cursor: number;
  speed: Speed;
  cursorTime: string;
  account: AccountState | null;
  onPlay: () => void;
  onPause: () => void;
  onStep: (n: number) => void;
  onNextFill: () => void;
  onPrevFill: () => void;
  onSeek: (bar: number) => void;
  onSpeed: (s: Speed) => void;
  onExit: () => void;
}

export interface RunChartState {
  range: [number, number];
  model: ChartModel;
  modelRevision: number;
  replaying: boolean;
  replay: Replay;
  controls: ReplayControls;
  onRange: (r: [number, number] | null) => void;
  /** Shows bar `bar` (seeks the replay while replaying). */
  goToBar: (bar: number) => void;
}

/** Bars visible while a replay follows its cursor (until the user zooms). */
const FOLLOW_WIDTH = 150;

export function useRunChart(
  host: HostClient,
  runId: string,
  o: {
    barCount: number;
    /** The run has series (its charts can be drawn). */
    ready: boolean;
    /** Candles across the chart's width. */
    points: number;
    tz: string;
    saved: ChartState;
    save: (patch: Partial<ChartState>) => void;
    /** A whole-run window already asked for (RunDetail asks with the run itself). */
    firstWindow?: { points: number; window: Promise<SeriesWindow | null> } | null;
    onError: (message: string) => void;
  },
): RunChartState {
  const { barCount: n, saved, save, points } = o;
  const [win, setWin] = useState<ChartModel | null>(null);
  const [winKey, setWinKey] = useState(0);
  const fullRange: [number, number] = [-0.5, Math.max(0.5, n - 0.5)];
  const [followWidth, setFollowWidth] = useState(FOLLOW_WIDTH);
  const [replayRange, setReplayRange] = useState<[number, number] | null>(null);

  const replay = useReplay(host, runId, saved.speed, points, (c) => {
    save({ replayCursor: c });
    setReplayRange((r) => {
      const w = r ? r[1] - r[0] : followWidth;
      // follow the cursor while playing, or when it left the view
      if (r && replay.state !== 'playing' && c >= r[0] && c <= r[1]) return r;
      return [c - w * 0.92, c + w * 0.08];
    });
  });
  const replaying = replay.state !== 'idle' && replay.model !== null;

  // a restored view resumes its replay where it was, paused
  const resumed = useRef(false);
  useEffect(() => {
    if (!o.ready || resumed.current) return;
    resumed.current = true;
    if (saved.replayCursor !== null) replay.start(Math.min(saved.replayCursor, n - 1), false);
  }, [o.ready]);

  const range = replaying ? (replayRange ?? [replay.cursor - followWidth, replay.cursor + 2]) : (saved.range ?? fullRange);

  // the static chart: the visible range at the chart's width
  const fetchWindow = useDebounced((a: number, b: number, pts: number) => {
    const from = Math.max(0, Math.floor(a));
    const to = Math.min(n, Math.ceil(b) + 1);
    if (to <= from) return;
    host.request(Requests.runSeries, { runId, from, to, points: pts }).then(
      (w) => {
        setWin(modelFromWindow(w));
        setWinKey((k) => k + 1);
      },
      (e: Error) => o.onError(e.message),
    );
  }, 80);
  useEffect(() => {
    if (!o.ready || replaying) return;
    const pre = o.firstWindow;
    // the prefetched full-range window serves while the view shows the whole run at about that width
    if (pre && saved.range === null && Math.abs(pre.points - points) < pre.points * 0.25) {
      void pre.window.then((w) => {
        if (w) {
          mark('first-window');
          setWin(modelFromWindow(w));
          setWinKey((k) => k + 1);
        } else fetchWindow(range[0], range[1], points);
      });
      return;
    }
    fetchWindow(range[0], range[1], points);
  }, [o.ready, n, range[0], range[1], points, replaying]);

  const onRange = (r: [number, number] | null) => {
    if (replaying) {
      if (r) {
        setReplayRange(r);
        setFollowWidth(Math.max(10, r[1] - r[0]));
      } else {
        setReplayRange(null);
        setFollowWidth(FOLLOW_WIDTH);
      }
      return;
    }
    save({ range: r ? [Math.max(-0.5, r[0]), Math.min(n - 0.5, r[1])] : null });
  };

  const play = () => {
    if (replay.state === 'idle') replay.start(0, true);
    else replay.send({ cmd: 'play' });
  };
  const step = (k: number) =>
    replay.state === 'idle'
      ? k > 0
        ? replay.start(0, false, { cmd: 'step', value: k })
        : undefined
      : replay.send({ cmd: 'step', value: k });
  const nextFill = () => (replay.state === 'idle' ? replay.start(0, false, { cmd: 'next-fill' }) : replay.send({ cmd: 'next-fill' }));
  const prevFill = () => replay.send({ cmd: 'prev-fill' });
  const seek = (bar: number) => (replay.state === 'idle' ? replay.start(bar, false) : replay.send({ cmd: 'seek', value: bar }));
  const goToBar = (bar: number) => {
    if (replaying) {
      replay.send({ cmd: 'seek', value: bar });
      return;
    }
    const [a, b] = range;
    const w = Math.min(b - a, 240);
    save({ range: [Math.max(-0.5, bar - w / 2), Math.min(n - 0.5, bar + w / 2)] });
  };

  return {
    range,
    model: replaying ? replay.model! : (win ?? emptyModel()),
    modelRevision: replaying ? replay.frames : winKey,
    replaying,
    replay,
    onRange,
    goToBar,
    controls: {
      state: replaying ? replay.state : replay.state === 'opening' ? 'opening' : 'idle',
      cursor: replay.cursor,
      speed: replay.speed,
      cursorTime: replaying && replay.model && n > 0 ? fmtDateTime(replay.account?.ts_ms ?? null, o.tz) : '',
      account: replaying ? replay.account : null,
      onPlay: play,
      onPause: () => replay.send({ cmd: 'pause' }),
      onStep: step,
      onNextFill: nextFill,
      onPrevFill: prevFill,
      onSeek: seek,
      onSpeed: (s) => {
        save({ speed: s });
        replay.setSpeed(s);
      },
      onExit: () => {
        replay.exit();
        save({ replayCursor: null });
        setReplayRange(null);
      },
    },
  };
}

/** Space plays/pauses, arrows step, Shift+arrows jump between fills (outside inputs and tables). */
export function replayKeys(e: KeyboardEvent, c: ReplayControls): boolean {
  const t = e.target as HTMLElement;
  if (t.closest('input, select, textarea, .vbody, [role="tablist"]')) return false;
  if (e.key === ' ') {
    if (c.state === 'playing') c.onPause();
    else c.onPlay();
  } else if (e.key === 'ArrowRight') {
    if (e.shiftKey) c.onNextFill();
    else c.onStep(1);
  } else if (e.key === 'ArrowLeft') {
    if (e.shiftKey) c.onPrevFill();
    else c.onStep(-1);
  } else return false;
  e.preventDefault();
  return true;
}
