/**
 * RunDetail's data and messaging: the run, its chart window (re-requested, decimated to the
 * chart's width, whenever the visible range changes), its tables, and the replay session.
 * Everything the user set (tab, zoom, panels, speed, replay cursor) is saved with the view.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Speed } from '../../engine/replay/protocol.ts';
import { Notifications, Requests, type RunDetail, type SeriesWindow, type TableName } from '../../engine/views/protocol.ts';
import { mark } from '../lib/perf.ts';
import { emptyModel, modelFromWindow, type ChartModel } from '../lib/chartModel.ts';
import { fmtDateTime } from '../lib/time.ts';
import { RunDetailView, type DetailTab } from '../views/RunDetail.tsx';
import { useDebounced, useDisplayTz, useHost, usePersisted, useTheme, useWidth } from './hooks.ts';
import { useReplay } from './useReplay.ts';
import { useTablePages } from './useTablePages.ts';

interface Saved {
  tab: DetailTab;
  range: [number, number] | null;
  volume: boolean;
  spread: boolean;
  orders: boolean;
  speed: Speed;
  replayCursor: number | null;
  sorts: Partial<Record<TableName, { column: string; dir: 'asc' | 'desc' }>>;
}

const PX_PER_CANDLE = 3;
/** Bars visible while a replay follows its cursor (until the user zooms). */
const FOLLOW_WIDTH = 150;

export function RunDetailContainer(props: { runId: string; tz: string }) {
  const host = useHost();
  const theme = useTheme();
  const tz = useDisplayTz(props.tz);
  const [saved, save] = usePersisted<Saved>(`run:${props.runId}`, {
    tab: 'fills',
    range: null,
    volume: true,
    spread: false,
    orders: true,
    speed: 60,
    replayCursor: null,
    sorts: {},
  });
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [win, setWin] = useState<ChartModel | null>(null);
  const [winKey, setWinKey] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<{ table: TableName; row: number } | null>(null);
  const chartBox = useRef<HTMLDivElement>(null);
  const width = useWidth(chartBox, 1000);
  // a candle needs ~3 px to read as one (TradingView's tightest spacing): more buckets only cost drawing time
  const points = Math.max(100, Math.min(2000, Math.round(width / PX_PER_CANDLE)));
  const n = detail?.series?.bar_count ?? 0;
  const fullRange: [number, number] = [-0.5, Math.max(0.5, n - 0.5)];
  const [followWidth, setFollowWidth] = useState(FOLLOW_WIDTH);
  const [replayRange, setReplayRange] = useState<[number, number] | null>(null);

  const replay = useReplay(host, props.runId, saved.speed, points, (c) => {
    save({ replayCursor: c });
    setReplayRange((r) => {
      const w = r ? r[1] - r[0] : followWidth;
      // follow the cursor while playing, or when it left the view
      if (r && replay.state !== 'playing' && c >= r[0] && c <= r[1]) return r;
      return [c - w * 0.92, c + w * 0.08];
    });
  });
  const replaying = replay.state !== 'idle' && replay.model !== null;

  // The first window (the whole run at about the page's width) is asked for together with the
  // run: the two answers share one read of the artifacts and the chart needs no second trip.
  const prefetch = useRef<{ points: number; window: Promise<SeriesWindow | null> } | null>(null);
  if (prefetch.current === null) {
    const pts = Math.max(100, Math.min(2000, Math.round((window.innerWidth - 260) / PX_PER_CANDLE)));
    prefetch.current = {
      points: pts,
      window: host.request(Requests.runSeries, { runId: props.runId, from: 0, to: 2 ** 31 - 1, points: pts }).catch(() => null),
    };
  }
  // the run itself (asked for during the first render, not after it); again when the catalog
  // changes while the run is not finished
  const load = () => {
    mark('run-get-sent');
    return host.request(Requests.runGet, { runId: props.runId }).then(
      (d) => {
        mark('run-get');
        setDetail(d);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  };
  const first = useRef<Promise<void> | null>(null);
  first.current ??= load();
  useEffect(() => {
    return host.on(Notifications.catalogChanged, () => {
      setDetail((d) => {
        if (!d || d.run.status === 'queued' || d.run.status === 'running') void load();
        return d;
      });
    });
  }, [props.runId]);

  // a restored view resumes its replay where it was, paused
  const resumed = useRef(false);
  useEffect(() => {
    if (!detail?.series || resumed.current) return;
    resumed.current = true;
    if (saved.replayCursor !== null) replay.start(Math.min(saved.replayCursor, n - 1), false);
  }, [detail]);

  const range = replaying ? (replayRange ?? [replay.cursor - followWidth, replay.cursor + 2]) : (saved.range ?? fullRange);

  // the static chart: the visible range at the chart's width
  const fetchWindow = useDebounced((a: number, b: number, pts: number) => {
    const from = Math.max(0, Math.floor(a));
    const to = Math.min(n, Math.ceil(b) + 1);
    if (to <= from) return;
    host.request(Requests.runSeries, { runId: props.runId, from, to, points: pts }).then(
      (w) => {
        setWin(modelFromWindow(w));
        setWinKey((k) => k + 1);
      },
      (e: Error) => setNotice(e.message),
    );
  }, 80);
  useEffect(() => {
    if (!detail?.series || replaying) return;
    const pre = prefetch.current;
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
  }, [detail?.series?.bar_count, range[0], range[1], points, replaying]);

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

  // tables
  const tab = saved.tab;
  const tableName: TableName | null = tab === 'manifest' ? null : tab;
  const sort = tableName ? saved.sorts[tableName] : undefined;
  const pages = useTablePages(host, props.runId, tableName ?? 'fills', sort, !!detail?.series && tableName !== null);

  const goToBar = (bar: number) => {
    if (replaying) {
      replay.send({ cmd: 'seek', value: bar });
      return;
    }
    const [a, b] = range;
    const w = Math.min(b - a, 240);
    save({ range: [Math.max(-0.5, bar - w / 2), Math.min(n - 0.5, bar + w / 2)] });
  };

  // keyboard: Space plays/pauses, arrows step, Shift+arrows jump between fills
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest('input, select, textarea, .vbody, [role="tablist"]')) return;
      if (e.key === ' ') {
        if (replay.state === 'playing') replay.send({ cmd: 'pause' });
        else play();
      } else if (e.key === 'ArrowRight') {
        if (e.shiftKey) nextFill();
        else step(1);
      } else if (e.key === 'ArrowLeft') {
        if (e.shiftKey) prevFill();
        else step(-1);
      } else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });

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

  const model = replaying ? replay.model! : (win ?? emptyModel());
  const cursorTime = replaying && replay.model && n > 0 ? fmtDateTime(replay.account?.ts_ms ?? null, tz) : '';
  const copy = (text: string, what: string) =>
    host.request(Requests.clipboardWrite, { text }).then(
      () => setNotice(`Copied ${what}`),
      (e: Error) => setNotice(e.message),
    );

  return (
    <RunDetailView
      detail={detail}
      error={error}
      tz={tz}
      theme={theme}
      notice={notice ?? replay.error}
      chartRef={chartBox}
      model={model}
      modelRevision={replaying ? replay.frames : winKey}
      range={range}
      barCount={n}
      panels={{ volume: saved.volume, spread: saved.spread, orders: saved.orders }}
      onPanels={(p) => save(p)}
      onRange={onRange}
      replay={{
        state: replaying ? replay.state : replay.state === 'opening' ? 'opening' : 'idle',
        cursor: replay.cursor,
        speed: replay.speed,
        cursorTime,
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
      }}
      tab={tab}
      onTab={(t) => save({ tab: t })}
      table={{
        name: tableName,
        total: pages.total,
        row: pages.row,
        need: pages.need,
        error: pages.error,
        sort,
        onSort: (column) => {
          if (!tableName) return;
          const cur = saved.sorts[tableName];
          const dir = cur?.column === column && cur.dir === 'asc' ? 'desc' : 'asc';
          save({ sorts: { ...saved.sorts, [tableName]: { column, dir } } });
        },
        onRow: (row, index) => {
          if (!tableName) return;
          setHighlight({ table: tableName, row: index });
          const bar = row.bar;
          if (typeof bar === 'number') goToBar(bar);
        },
        highlight: highlight && highlight.table === tableName ? highlight.row : null,
      }}
      onCopyId={() => void copy(props.runId, 'run id')}
      onCopyManifest={(t) => void copy(t, 'manifest')}
      onOpenSweep={() => void host.request(Requests.runsAct, { action: 'openSweep', runIds: [props.runId] })}
      onRerun={() =>
        void host.request(Requests.runsAct, { action: 'rerun', runIds: [props.runId] }).then((r) => setNotice(r.message ?? null))
      }
      onReveal={() => void host.request(Requests.runsAct, { action: 'reveal', runIds: [props.runId] })}
    />
  );
}
