/**
 * RunDetail: header, metric cards, the chart with its panels and replay controls, the position
 * panel, and the orders / fills / trades tables and the manifest. Layout only: everything comes
 * in through props from RunDetailContainer.
 */
import type { Ref } from 'preact';
import type { AccountState, Speed } from '../../engine/replay/protocol.ts';
import type { RunDetail, TableName } from '../../engine/views/protocol.ts';
import type { ChartModel } from '../lib/chartModel.ts';
import { fmtNum, fmtPct, fmtPrice, fmtQty } from '../lib/format.ts';
import { fmtDateTime } from '../lib/time.ts';
import type { Theme } from '../lib/theme.ts';
import { AccountPanel } from '../components/AccountPanel.tsx';
import { ManifestPanel } from '../components/ManifestPanel.tsx';
import { MetricCards } from '../components/MetricCards.tsx';
import { Notice } from '../components/Notice.tsx';
import { ReplayBar } from '../components/ReplayBar.tsx';
import { RunChart } from '../components/RunChart.tsx';
import { RunHeader } from '../components/RunHeader.tsx';
import { Tabs } from '../components/Tabs.tsx';
import { VirtualTable, type Column } from '../components/VirtualTable.tsx';
import type { Row } from '../containers/useTablePages.ts';

export type DetailTab = 'orders' | 'fills' | 'trades' | 'manifest';

export interface RunDetailViewProps {
  detail: RunDetail | null;
  error: string | null;
  notice: string | null;
  tz: string;
  theme: Theme;
  chartRef: Ref<HTMLDivElement>;
  model: ChartModel;
  modelRevision: number;
  range: [number, number];
  barCount: number;
  panels: { volume: boolean; spread: boolean; orders: boolean };
  onPanels: (p: Partial<{ volume: boolean; spread: boolean; orders: boolean }>) => void;
  onRange: (r: [number, number] | null) => void;
  replay: {
    state: 'idle' | 'opening' | 'playing' | 'paused' | 'ended';
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
  };
  tab: DetailTab;
  onTab: (t: DetailTab) => void;
  table: {
    name: TableName | null;
    total: number | null;
    row: (i: number) => Row | undefined;
    need: (first: number, last: number) => void;
    error: string | null;
    sort: { column: string; dir: 'asc' | 'desc' } | undefined;
    onSort: (column: string) => void;
    onRow: (row: Row, index: number) => void;
    highlight: number | null;
  };
  onCopyId: () => void;
  onCopyManifest: (text: string) => void;
  onOpenSweep: () => void;
  onRerun: () => void;
  onReveal: () => void;
}

const num = (v: unknown, f: (x: number) => string) => (typeof v === 'number' ? f(v) : '—');

function tableColumns(name: TableName, tz: string): Column<Row>[] {
  const time = (key: string, label: string): Column<Row> => ({
    key,
    label,
    width: 168,
    sortable: true,
    render: (r) => num(r[key], (x) => fmtDateTime(x, tz)),
  });
  const side = (key = 'side'): Column<Row> => ({
    key,
    label: key === 'side' ? 'Side' : 'Direction',
    width: 72,
    sortable: true,
    render: (r) => <span class={`side side-${r[key]}`}>{String(r[key] ?? '')}</span>,
  });
  const n = (key: string, label: string, f: (x: number) => string, width = 96): Column<Row> => ({
    key,
    label,
    width,
    align: 'right',
    sortable: true,
    render: (r) => num(r[key], f),
  });
  const int = (x: number) => String(x);
  if (name === 'fills') {
    return [
      n('fill_id', 'Fill', int, 64),
      n('order_id', 'Order', int, 64),
      n('bar', 'Bar', int, 72),
      time('ts_ms', 'Time'),
      side(),
      n('qty', 'Qty', fmtQty, 80),
      n('price', 'Price', fmtPrice),
      n('fee', 'Fee', (x) => fmtNum(x, 2), 80),
      n('slippage', 'Slippage', (x) => fmtNum(x, 2), 88),
      n('position', 'Position after', fmtQty, 110),
    ];
  }
  if (name === 'orders') {
    return [
      n('order_id', 'Order', int, 64),
      n('bar', 'Bar', int, 72),
      time('ts_ms', 'Submitted'),
      side(),
      { key: 'type', label: 'Type', width: 72, sortable: true, render: (r) => String(r.type ?? '') },
      n('qty', 'Qty', fmtQty, 80),
      n('limit_price', 'Limit', fmtPrice),
      n('stop_price', 'Stop', fmtPrice),
      {
        key: 'status',
        label: 'Status',
        width: 84,
        sortable: true,
        render: (r) => <span class={`order-status ${r.status}`}>{String(r.status ?? '')}</span>,
      },
      n('fill_id', 'Fill', int, 64),
      time('closed_ms', 'Filled / canceled'),
    ];
  }
  return [
    n('trade_id', 'Trade', int, 64),
    side('direction'),
    n('qty', 'Qty', fmtQty, 80),
    time('entry_ms', 'Entry'),
    n('entry_price', 'Entry price', fmtPrice, 100),
    time('exit_ms', 'Exit'),
    n('exit_price', 'Exit price', fmtPrice, 100),
    {
      key: 'pnl',
      label: 'P&L',
      width: 100,
      align: 'right',
      sortable: true,
      render: (r) => (
        <span class={typeof r.pnl === 'number' ? (r.pnl > 0 ? 'pos' : r.pnl < 0 ? 'neg' : '') : ''}>{num(r.pnl, (x) => fmtNum(x, 2))}</span>
      ),
    },
    n('return', 'Return', (x) => fmtPct(x, true), 84),
    n('fees', 'Fees', (x) => fmtNum(x, 2), 80),
    n('bars_held', 'Bars', int, 64),
  ];
}

export function RunDetailView(p: RunDetailViewProps) {
  if (p.error && !p.detail)
    return (
      <main class="run-detail">
        <Notice kind="error">{p.error}</Notice>
      </main>
    );
  if (!p.detail)
    return (
      <main class="run-detail">
        <Notice kind="loading">Loading run…</Notice>
      </main>
    );
  const d = p.detail;
  const s = d.series;
  const counts: Record<TableName, number> = { orders: s?.order_count ?? 0, fills: s?.fill_count ?? 0, trades: s?.trade_count ?? 0 };
  return (
    <main class="run-detail" aria-label={`Run ${d.run.run_id}`}>
      <RunHeader
        run={d.run}
        tz={p.tz}
        onCopyId={p.onCopyId}
        walkForwardId={d.walk_forward_id}
        onOpenSweep={d.run.sweep_id ? p.onOpenSweep : undefined}
      />
      <div class="actions">
        <button type="button" class="button secondary" onClick={p.onRerun}>
          Rerun
        </button>
        <button type="button" class="button secondary" onClick={p.onReveal}>
          Reveal artifacts
        </button>
      </div>
      <MetricCards metrics={d.run.metrics} />
      {p.notice ? (
        <div class="toast" role="status">
          {p.notice}
        </div>
      ) : null}
      {!s ? (
        <Notice kind="info">{d.unavailable ?? 'No series for this run.'}</Notice>
      ) : (
        <>
          {s.bars_source === 'equity' ? (
            <Notice kind="info">The dataset's bars are gone (deleted or re-derived): candles show the closes from equity.parquet.</Notice>
          ) : null}
          <section class="chart-section" aria-label="Chart">
            <div class="chart-toolbar">
              <ReplayBar
                state={p.replay.state}
                cursor={p.replay.cursor}
                barCount={p.barCount}
                cursorTime={p.replay.cursorTime}
                speed={p.replay.speed}
                onPlay={p.replay.onPlay}
                onPause={p.replay.onPause}
                onStep={p.replay.onStep}
                onNextFill={p.replay.onNextFill}
                onPrevFill={p.replay.onPrevFill}
                onSeek={p.replay.onSeek}
                onSpeed={p.replay.onSpeed}
                onExit={p.replay.onExit}
              />
              <div class="panel-toggles" role="group" aria-label="Chart panels">
                <label>
                  <input
                    type="checkbox"
                    checked={p.panels.volume}
                    onChange={(e) => p.onPanels({ volume: (e.target as HTMLInputElement).checked })}
                  />{' '}
                  Volume
                </label>
                <label title={s.has_quotes ? '' : 'This dataset has no TBBO quotes'}>
                  <input
                    type="checkbox"
                    disabled={!s.has_quotes}
                    checked={p.panels.spread && s.has_quotes}
                    onChange={(e) => p.onPanels({ spread: (e.target as HTMLInputElement).checked })}
                  />{' '}
                  Spread
                </label>
                <label>
                  <input
                    type="checkbox"
                    checked={p.panels.orders}
                    onChange={(e) => p.onPanels({ orders: (e.target as HTMLInputElement).checked })}
                  />{' '}
                  Order levels
                </label>
                <button type="button" class="button secondary small" onClick={() => p.onRange(null)} aria-label="Reset zoom">
                  Reset zoom
                </button>
              </div>
            </div>
            <div class="chart-row">
              <div class="chart-box" ref={p.chartRef}>
                <RunChart
                  key="chart"
                  model={p.model}
                  revision={p.modelRevision}
                  range={p.range}
                  barCount={p.barCount}
                  theme={p.theme}
                  tz={p.tz}
                  showVolume={p.panels.volume}
                  showSpread={p.panels.spread}
                  showOrders={p.panels.orders}
                  hasQuotes={s.has_quotes}
                  onRange={p.onRange}
                />
              </div>
              {p.replay.state !== 'idle' ? <AccountPanel account={p.replay.account} initialCash={s.initial_cash} /> : null}
            </div>
            {!s.cancel_times_known && s.order_count > 0 ? (
              <p class="muted small">
                This run was written before orders.parquet recorded cancel times: canceled orders' levels are not drawn.
              </p>
            ) : null}
          </section>
        </>
      )}
      <Tabs
        label="Run tables"
        active={p.tab}
        onChange={p.onTab}
        tabs={[
          { key: 'fills', label: `Fills (${counts.fills})` },
          { key: 'orders', label: `Orders (${counts.orders})` },
          { key: 'trades', label: `Trades (${counts.trades})` },
          { key: 'manifest', label: 'Manifest' },
        ]}
      >
        {p.tab === 'manifest' ? (
          <ManifestPanel manifest={d.manifest} onCopy={p.onCopyManifest} />
        ) : p.table.error ? (
          <Notice kind="error">{p.table.error}</Notice>
        ) : !s ? (
          <Notice kind="info">No tables until the run has artifacts.</Notice>
        ) : (
          <VirtualTable<Row>
            label={`${p.tab} of run ${d.run.run_id}`}
            class="detail-table"
            columns={tableColumns(p.tab, p.tz)}
            rowCount={p.table.total ?? counts[p.tab]}
            row={p.table.row}
            rowKey={(_, i) => String(i)}
            onRange={p.table.need}
            sort={p.table.sort ? { key: p.table.sort.column, dir: p.table.sort.dir } : undefined}
            onSort={p.table.onSort}
            onActivate={(r, i) => p.table.onRow(r, i)}
            highlight={p.table.highlight}
            empty={<span class="muted">None.</span>}
          />
        )}
      </Tabs>
    </main>
  );
}
