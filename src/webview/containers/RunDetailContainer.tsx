/**
 * RunDetail's data and messaging: the run, its chart window (re-requested, decimated to the
 * chart's width, whenever the visible range changes), its tables, and the replay session.
 * Everything the user set (tab, zoom, panels, speed, replay cursor) is saved with the view.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Speed } from '../../engine/replay/protocol.ts';
import { Notifications, Requests, type RunDetail, type SeriesWindow, type TableName } from '../../engine/views/protocol.ts';
import { mark } from '../lib/perf.ts';
import { RunDetailView, type DetailTab } from '../views/RunDetail.tsx';
import { useDisplayTz, useHost, usePersisted, useTheme, useWidth } from './hooks.ts';
import { replayKeys, useRunChart } from './useRunChart.ts';
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
  const [notice, setNotice] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<{ table: TableName; row: number } | null>(null);
  const chartBox = useRef<HTMLDivElement>(null);
  const width = useWidth(chartBox, 1000);
  // a candle needs ~3 px to read as one (TradingView's tightest spacing): more buckets only cost drawing time
  const points = Math.max(100, Math.min(2000, Math.round(width / PX_PER_CANDLE)));
  const n = detail?.series?.bar_count ?? 0;

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

  const chart = useRunChart(host, props.runId, {
    barCount: n,
    ready: !!detail?.series,
    points,
    tz,
    saved,
    save,
    firstWindow: prefetch.current,
    onError: setNotice,
  });
  const { range } = chart;

  // tables
  const tab = saved.tab;
  const tableName: TableName | null = tab === 'manifest' ? null : tab;
  const sort = tableName ? saved.sorts[tableName] : undefined;
  const pages = useTablePages(host, props.runId, tableName ?? 'fills', sort, !!detail?.series && tableName !== null);

  // keyboard: Space plays/pauses, arrows step, Shift+arrows jump between fills
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => void replayKeys(e, chart.controls);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });

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
      notice={notice ?? chart.replay.error}
      chartRef={chartBox}
      model={chart.model}
      modelRevision={chart.modelRevision}
      range={range}
      barCount={n}
      panels={{ volume: saved.volume, spread: saved.spread, orders: saved.orders }}
      onPanels={(p) => save(p)}
      onRange={chart.onRange}
      replay={chart.controls}
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
          if (typeof bar === 'number') chart.goToBar(bar);
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
