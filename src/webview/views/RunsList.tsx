/**
 * RunsList: every run of the catalog in a virtualised, sortable table with filters (status,
 * strategy, dataset, a metric range), full-text search, multi-select → Compare, and actions.
 */
import type { RunAction, RunListRow, RunsFacets } from '../../engine/views/protocol.ts';
import { METRIC_DEFS } from '../../engine/views/metricDefs.ts';
import { fmtDuration, fmtMetric } from '../lib/format.ts';
import { paramsText } from '../../engine/backtest/paramText.ts';
import { fmtDateTime } from '../lib/time.ts';
import { StatusBadge } from '../components/RunHeader.tsx';
import { Notice } from '../components/Notice.tsx';
import { VirtualTable, type Column } from '../components/VirtualTable.tsx';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;

export interface RunsFilters {
  status: (typeof STATUSES)[number][];
  strategy: string;
  datasetId: string;
  search: string;
  metricKey: string;
  min: string;
  max: string;
}

export interface RunsListViewProps {
  tz: string;
  total: number | null;
  error: string | null;
  message: string | null;
  facets: RunsFacets | null;
  filters: RunsFilters;
  sort: { key: string; dir: 'asc' | 'desc' };
  queryMs: number | null;
  onFilters: (f: Partial<RunsFilters>) => void;
  onSort: (key: string) => void;
  row: (i: number) => RunListRow | undefined;
  onRange: (first: number, last: number) => void;
  selected: Set<string>;
  progress: Map<string, number>;
  onActivate: (r: RunListRow, index: number, mods: { toggle: boolean; range: boolean }) => void;
  onToggle: (r: RunListRow, index: number) => void;
  onClearSelection: () => void;
  onAct: (action: RunAction) => void;
}

const metric = (key: string) => METRIC_DEFS.find((m) => m.key === key)!;

export function RunsListView(p: RunsListViewProps) {
  const m = (key: string, label: string, width = 92): Column<RunListRow> => ({
    key,
    label,
    width,
    align: 'right',
    sortable: true,
    title: metric(key).definition,
    render: (r) => {
      const v = r.metrics?.[key];
      const tone = key === 'total_return' && typeof v === 'number' ? (v > 0 ? 'pos' : v < 0 ? 'neg' : '') : '';
      return <span class={tone}>{fmtMetric(v, metric(key).format)}</span>;
    },
  });
  const columns: Column<RunListRow>[] = [
    {
      key: 'select',
      label: '',
      width: 32,
      render: (r) => (
        <input
          type="checkbox"
          aria-label={`Select run ${r.run_id}`}
          checked={p.selected.has(r.run_id)}
          onClick={(e) => {
            e.stopPropagation();
            p.onToggle(r, -1);
          }}
        />
      ),
    },
    {
      key: 'created',
      label: `Created (${p.tz.split('/').pop()?.replace('_', ' ')})`,
      width: 170,
      sortable: true,
      title: `Times in ${p.tz}`,
      render: (r) => fmtDateTime(Date.parse(r.created_at), p.tz),
    },
    { key: 'strategy', label: 'Strategy', width: 150, sortable: true, render: (r) => <span class="strategy">{r.strategy_id}</span> },
    { key: 'symbol', label: 'Symbol', width: 80, sortable: true, render: (r) => r.symbol ?? '—' },
    {
      key: 'params',
      label: 'Key params',
      width: 190,
      sortable: true,
      render: (r) => (
        <span class="params" title={JSON.stringify(r.key_params)}>
          {paramsText(r.key_params, 6) || <span class="muted">defaults</span>}
        </span>
      ),
    },
    {
      key: 'status',
      label: 'Status',
      width: 110,
      sortable: true,
      render: (r) => {
        const pr = p.progress.get(r.run_id);
        return r.status === 'running' && pr !== undefined ? (
          <span class="status-progress">
            <StatusBadge status={r.status} />
            <progress max={1} value={pr} aria-label={`${Math.round(pr * 100)}%`} />
          </span>
        ) : (
          <span title={r.error ?? ''}>
            <StatusBadge status={r.status} />
          </span>
        );
      },
    },
    m('total_return', 'Return'),
    m('sharpe', 'Sharpe', 76),
    m('max_drawdown', 'Max DD', 80),
    m('num_trades', 'Trades', 70),
    { key: 'duration', label: 'Duration', width: 86, align: 'right', sortable: true, render: (r) => fmtDuration(r.duration_ms) },
    {
      key: 'tags',
      label: 'Tags',
      width: 200,
      render: (r) =>
        r.tags.map((t) => (
          <span class="tag" key={t}>
            {t}
          </span>
        )),
    },
  ];
  const f = p.filters;
  const toggleStatus = (s: (typeof STATUSES)[number]) =>
    p.onFilters({ status: f.status.includes(s) ? f.status.filter((x) => x !== s) : [...f.status, s] });
  const n = p.selected.size;
  return (
    <main class="runs-list" aria-label="Backtest runs">
      <header class="list-header">
        <h1>
          Runs{' '}
          <span class="muted count" data-total={p.total ?? ''}>
            {p.total === null ? '' : p.total.toLocaleString('en-US')}
          </span>
        </h1>
        <div class="filters" role="search">
          <input
            type="search"
            class="search"
            placeholder="Search strategy, symbol, tags, notes"
            aria-label="Search runs"
            value={f.search}
            onInput={(e) => p.onFilters({ search: (e.target as HTMLInputElement).value })}
          />
          <div class="chips" role="group" aria-label="Status">
            {STATUSES.map((s) => (
              <button
                type="button"
                key={s}
                class={`chip ${f.status.includes(s) ? 'on' : ''}`}
                aria-pressed={f.status.includes(s)}
                onClick={() => toggleStatus(s)}
              >
                {s}
              </button>
            ))}
          </div>
          <select
            aria-label="Strategy"
            value={f.strategy}
            onChange={(e) => p.onFilters({ strategy: (e.target as HTMLSelectElement).value })}
          >
            <option value="">All strategies</option>
            {p.facets?.strategies.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <select
            aria-label="Dataset"
            value={f.datasetId}
            onChange={(e) => p.onFilters({ datasetId: (e.target as HTMLSelectElement).value })}
          >
            <option value="">All datasets</option>
            {p.facets?.datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.symbol} · {d.id}
              </option>
            ))}
          </select>
          <span class="range-filter">
            <select
              aria-label="Metric to filter on"
              value={f.metricKey}
              onChange={(e) => p.onFilters({ metricKey: (e.target as HTMLSelectElement).value })}
            >
              {METRIC_DEFS.map((d) => (
                <option key={d.key} value={d.key}>
                  {d.label}
                </option>
              ))}
            </select>
            <input
              type="text"
              inputMode="decimal"
              class="num-input"
              placeholder="min"
              aria-label="Minimum"
              value={f.min}
              onInput={(e) => p.onFilters({ min: (e.target as HTMLInputElement).value })}
            />
            <input
              type="text"
              inputMode="decimal"
              class="num-input"
              placeholder="max"
              aria-label="Maximum"
              value={f.max}
              onInput={(e) => p.onFilters({ max: (e.target as HTMLInputElement).value })}
            />
          </span>
        </div>
        <div class="selection-bar" role="toolbar" aria-label="Selected runs">
          <span class="muted">{n === 0 ? 'Click a run to open it; Ctrl/⌘-click or Space to select.' : `${n} selected`}</span>
          <button type="button" class="button" disabled={n < 2 || n > 8} onClick={() => p.onAct('compare')} title="Compare 2–8 runs">
            Compare{n >= 2 ? ` (${n})` : ''}
          </button>
          <button type="button" class="button secondary" disabled={n === 0} onClick={() => p.onAct('rerun')}>
            Rerun
          </button>
          <button type="button" class="button secondary" disabled={n !== 1} onClick={() => p.onAct('copyId')}>
            Copy id
          </button>
          <button type="button" class="button secondary" disabled={n === 0} onClick={() => p.onAct('delete')}>
            Delete…
          </button>
          {n ? (
            <button type="button" class="button secondary" onClick={p.onClearSelection}>
              Clear
            </button>
          ) : null}
          {p.queryMs !== null ? (
            <span class="muted small" data-query-ms={p.queryMs.toFixed(1)}>
              {p.queryMs.toFixed(0)} ms
            </span>
          ) : null}
        </div>
        {p.message ? (
          <div class="toast" role="status">
            {p.message}
          </div>
        ) : null}
      </header>
      {p.error ? <Notice kind="error">{p.error}</Notice> : null}
      <VirtualTable<RunListRow>
        label="Runs"
        class="runs-table"
        columns={columns}
        rowCount={p.total ?? 0}
        row={p.row}
        rowKey={(r, i) => r?.run_id ?? `loading-${i}`}
        onRange={p.onRange}
        sort={p.sort}
        onSort={p.onSort}
        isSelected={(r) => p.selected.has(r.run_id)}
        onActivate={p.onActivate}
        onToggle={p.onToggle}
        context={(r) => ({ webviewSection: 'run', runId: r.run_id, status: r.status, preventDefaultContextMenuItems: true })}
        empty={
          p.total === 0 ? (
            <span>
              No runs
              {f.search || f.status.length || f.strategy || f.datasetId
                ? ' match these filters'
                : ' yet: run a backtest (Backtest: Run Backtest…)'}
              .
            </span>
          ) : null
        }
      />
    </main>
  );
}
