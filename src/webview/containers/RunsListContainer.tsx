/**
 * RunsList's data: pages of runs fetched as the table scrolls (sorting, filtering and search run
 * in SQL on the host, so 100 k runs cost what one page costs), refreshed in place when the
 * catalog changes (any process), with live progress of running runs.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  Notifications,
  Requests,
  type RunAction,
  type RunListRow,
  type RunsFacets,
  type RunsQuery,
  type SortKey,
} from '../../engine/views/protocol.ts';
import { RunsListView, type RunsFilters } from '../views/RunsList.tsx';
import { useDebounced, useDisplayTz, useHost, usePersisted } from './hooks.ts';

const PAGE = 100;

interface Saved extends RunsFilters {
  sort: { key: SortKey; dir: 'asc' | 'desc' };
}

export function RunsListContainer(props: { tz: string }) {
  const host = useHost();
  const tz = useDisplayTz(props.tz);
  const [saved, save] = usePersisted<Saved>('runs', {
    status: [],
    strategy: '',
    datasetId: '',
    search: '',
    metricKey: 'sharpe',
    min: '',
    max: '',
    sort: { key: 'created', dir: 'desc' },
  });
  const [total, setTotal] = useState<number | null>(null);
  const [facets, setFacets] = useState<RunsFacets | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [progress, setProgress] = useState<Map<string, number>>(new Map());
  const [message, setMessage] = useState<string | null>(null);
  const [, bump] = useState(0);
  const [queryMs, setQueryMs] = useState<number | null>(null);
  const pages = useRef(new Map<number, RunListRow[]>());
  const loading = useRef(new Set<number>());
  const visible = useRef<[number, number]>([0, 40]);
  const generation = useRef(0);
  const anchor = useRef<number | null>(null);

  const query = (offset: number): RunsQuery => {
    const metrics: RunsQuery['metrics'] = [];
    const min = saved.min.trim() === '' ? undefined : Number(saved.min);
    const max = saved.max.trim() === '' ? undefined : Number(saved.max);
    if (saved.metricKey && ((min !== undefined && Number.isFinite(min)) || (max !== undefined && Number.isFinite(max)))) {
      metrics.push({
        key: saved.metricKey,
        ...(min !== undefined && Number.isFinite(min) ? { min } : {}),
        ...(max !== undefined && Number.isFinite(max) ? { max } : {}),
      });
    }
    return {
      ...(saved.status.length ? { status: saved.status } : {}),
      ...(saved.strategy ? { strategy: saved.strategy } : {}),
      ...(saved.datasetId ? { datasetId: saved.datasetId } : {}),
      ...(saved.search.trim() ? { search: saved.search } : {}),
      ...(metrics.length ? { metrics } : {}),
      sort: saved.sort,
      offset,
      limit: PAGE,
    };
  };

  /** Loads the pages covering the visible rows; `fresh` replaces what is there (catalog changed). */
  const loadVisible = (fresh: boolean) => {
    const [a, b] = visible.current;
    const gen = generation.current;
    for (let p = Math.floor(a / PAGE); p <= Math.floor(b / PAGE); p++) {
      if (!fresh && (pages.current.has(p) || loading.current.has(p))) continue;
      loading.current.add(p);
      const t0 = performance.now();
      host.request(Requests.runsList, query(p * PAGE)).then(
        (page) => {
          loading.current.delete(p);
          if (gen !== generation.current) return;
          setQueryMs(performance.now() - t0);
          pages.current.set(p, page.rows);
          setTotal(page.total);
          setError(null);
          bump((n) => n + 1);
        },
        (e: Error) => {
          loading.current.delete(p);
          if (gen === generation.current) setError(e.message);
        },
      );
    }
  };

  const restart = () => {
    generation.current++;
    pages.current = new Map();
    loading.current.clear();
    loadVisible(true);
  };
  const restartSoon = useDebounced(restart, 150);

  useEffect(() => restart(), [JSON.stringify({ ...saved, search: undefined, min: undefined, max: undefined })]);
  useEffect(() => restartSoon(), [saved.search, saved.min, saved.max]);

  useEffect(() => {
    const loadFacets = () => host.request(Requests.runsFacets, {}).then(setFacets, () => undefined);
    void loadFacets();
    const offs = [
      host.on(Notifications.catalogChanged, () => {
        void loadFacets();
        generation.current++;
        loading.current.clear();
        loadVisible(true); // keep showing the old rows until the new page arrives
      }),
      host.on(Notifications.runProgress, (p) => setProgress((m) => new Map(m).set(p.runId, p.total > 0 ? p.done / p.total : 0))),
    ];
    return () => offs.forEach((f) => f());
  }, []);

  const rowAt = (i: number) => pages.current.get(Math.floor(i / PAGE))?.[i % PAGE];
  const act = (action: RunAction, runIds: string[]) =>
    host.request(Requests.runsAct, { action, runIds }).then(
      (r) => {
        if (r.message) setMessage(r.message);
      },
      (e: Error) => setMessage(e.message),
    );

  return (
    <RunsListView
      tz={tz}
      total={total}
      error={error}
      message={message}
      facets={facets}
      filters={saved}
      sort={saved.sort}
      queryMs={queryMs}
      onFilters={(f) => save(f)}
      onSort={(key) => save({ sort: { key: key as SortKey, dir: saved.sort.key === key && saved.sort.dir === 'desc' ? 'asc' : 'desc' } })}
      row={rowAt}
      onRange={(a, b) => {
        visible.current = [a, b];
        loadVisible(false);
      }}
      selected={selected}
      progress={progress}
      onActivate={(r, i, mods) => {
        if (mods.range && anchor.current !== null) {
          const s = new Set(selected);
          for (let k = Math.min(anchor.current, i); k <= Math.max(anchor.current, i); k++) {
            const x = rowAt(k);
            if (x) s.add(x.run_id);
          }
          setSelected(s);
        } else if (mods.toggle) {
          const s = new Set(selected);
          if (s.has(r.run_id)) s.delete(r.run_id);
          else s.add(r.run_id);
          setSelected(s);
          anchor.current = i;
        } else {
          anchor.current = i;
          void act('open', [r.run_id]);
        }
      }}
      onToggle={(r, i) => {
        const s = new Set(selected);
        if (s.has(r.run_id)) s.delete(r.run_id);
        else s.add(r.run_id);
        if (i >= 0) anchor.current = i;
        setSelected(s);
      }}
      onClearSelection={() => setSelected(new Set())}
      onAct={(action) => void act(action, [...selected])}
    />
  );
}
