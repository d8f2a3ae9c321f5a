/**
 * The notebook's other outputs, all drawn from what the output itself carries (no host needed):
 * datasets a data cell made, a catalog query's table (sortable, capped with a note), a strategy
 * cell's summary, and a sweep's best runs (the static form; live, the sweep view is shown).
 */
import { useMemo, useState } from 'preact/hooks';
import type { DatasetOutput, StrategyOutput, SweepOutput, TableOutput } from '../../notebook/outputs.ts';
import { paramsText, paramValueText } from '../../engine/backtest/paramText.ts';
import { metricDef } from '../../engine/views/metricDefs.ts';
import { fmtMetric } from '../lib/format.ts';
import { Notice } from '../components/Notice.tsx';

export function DatasetOutputView(p: { data: DatasetOutput }) {
  const d = p.data;
  return (
    <section class="nb-output dataset-output" aria-label="Datasets">
      <div class="nb-title">
        <strong>{d.action === 'synth' ? 'Synthetic dataset' : d.action === 'derive' ? 'Bars derived' : 'Datasets imported'}</strong>
        {d.note ? <span class="muted">{d.note}</span> : null}
      </div>
      <div class="nb-table-wrap">
        <table class="nb-table">
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">Symbol</th>
              <th scope="col">Schemas</th>
              <th scope="col">From (UTC)</th>
              <th scope="col">To (UTC)</th>
              <th scope="col" class="num">
                1-min bars
              </th>
            </tr>
          </thead>
          <tbody>
            {d.datasets.map((x) => (
              <tr key={x.dataset_id}>
                <td>
                  <code data-dataset-id>{x.dataset_id}</code>
                </td>
                <td>{x.symbol}</td>
                <td>{x.schemas.join(' + ')}</td>
                <td>{x.start?.replace('T', ' ').replace(/(:00)?\.000Z$|Z$/, '') ?? '—'}</td>
                <td>{x.end?.replace('T', ' ').replace(/(:00)?\.000Z$|Z$/, '') ?? '—'}</td>
                <td class="num">{x.bar_count === null ? '—' : x.bar_count.toLocaleString('en-US')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

type Cell = TableOutput['rows'][number][number];
/** Numbers at 12 significant digits: binary noise (0.0010600000000000061) hidden, precision kept. */
const cellText = (v: Cell) => (v === null ? 'NULL' : typeof v === 'number' ? String(Number(v.toPrecision(12))) : String(v));
const compare = (a: Cell, b: Cell) => {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
};

export function TableOutputView(p: { data: TableOutput }) {
  const d = p.data;
  const [sort, setSort] = useState<{ col: number; dir: 1 | -1 } | null>(null);
  const rows = useMemo(() => {
    if (!sort) return d.rows;
    return [...d.rows].sort((a, b) => sort.dir * compare(a[sort.col] ?? null, b[sort.col] ?? null));
  }, [d, sort]);
  if (d.columns.length === 0) return <Notice kind="info">The statement ran; it returns no rows.</Notice>;
  const numeric = d.columns.map((_, c) => d.rows.length > 0 && d.rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  return (
    <section class="nb-output table-output" aria-label="Query result">
      <div class="nb-title">
        <span class="muted" data-row-note>
          {d.total > d.rows.length
            ? `Showing the first ${d.rows.length.toLocaleString('en-US')} of ${d.total.toLocaleString('en-US')} rows.`
            : `${d.total.toLocaleString('en-US')} row${d.total === 1 ? '' : 's'}.`}{' '}
          Click a column to sort.
        </span>
      </div>
      <div class="nb-table-wrap">
        <table class="nb-table">
          <thead>
            <tr>
              {d.columns.map((c, i) => (
                <th
                  key={c}
                  scope="col"
                  class={numeric[i] ? 'num' : ''}
                  aria-sort={sort?.col === i ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
                >
                  <button
                    type="button"
                    class="sort-button"
                    onClick={() => setSort((s) => (s?.col === i ? { col: i, dir: s.dir === 1 ? -1 : 1 } : { col: i, dir: 1 }))}
                  >
                    {c}
                    {sort?.col === i ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, k) => (
              <tr key={k}>
                {r.map((v, i) => (
                  <td key={i} class={numeric[i] ? 'num' : ''} title={typeof v === 'string' && v.length > 60 ? v : undefined}>
                    {cellText(v).length > 80 ? `${cellText(v).slice(0, 80)}…` : cellText(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function StrategyOutputView(p: { data: StrategyOutput }) {
  const d = p.data;
  return (
    <section class="nb-output strategy-output" aria-label={`Strategy ${d.name}`}>
      <div class="nb-title">
        <strong>Strategy “{d.name}”</strong>
        <span class="muted">
          id <code>{d.strategy_id}</code> · code hash <code title={d.code_hash}>{d.code_hash.slice(0, 12)}…</code>
        </span>
      </div>
      {d.description ? <p class="muted small">{d.description}</p> : null}
      <p class="small">
        Backtest it from a cell below with <code>strategy: {d.name}</code>.
      </p>
      {d.params.length ? (
        <div class="nb-table-wrap">
          <table class="nb-table">
            <thead>
              <tr>
                <th scope="col">Parameter</th>
                <th scope="col">Type</th>
                <th scope="col">Default</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {d.params.map((x) => (
                <tr key={x.name}>
                  <td>
                    <code>{x.name}</code>
                  </td>
                  <td>{x.type}</td>
                  <td>{x.default === null || x.default === undefined ? '—' : paramValueText(x.default)}</td>
                  <td class="muted">{x.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** A sweep as the file keeps it: its size and best runs (live, the sweep view replaces this). */
export function SweepStaticView(p: { data: SweepOutput; note: string | null }) {
  const d = p.data;
  const def = metricDef(d.sort);
  const ok = d.cells.filter((c) => c.status === 'succeeded').length;
  return (
    <section class="nb-output sweep-output" aria-label={`Sweep ${d.sweep_id}`}>
      <div class="nb-title">
        <strong>
          {d.kind === 'walk-forward' ? 'Walk-forward' : 'Sweep'} of {d.strategy_id}
        </strong>
        <span class="muted">
          {d.cells.length} point{d.cells.length === 1 ? '' : 's'} over {d.keys.join(' × ')}, {ok} succeeded · ranked by{' '}
          {def?.label ?? d.sort} · sweep <code>{d.sweep_id}</code>
        </span>
      </div>
      {p.note ? <Notice kind="info">{p.note}</Notice> : null}
      <div class="nb-table-wrap">
        <table class="nb-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Params</th>
              <th scope="col" class="num">
                {def?.label ?? d.sort}
              </th>
              <th scope="col">Run</th>
            </tr>
          </thead>
          <tbody>
            {d.best.map((b, k) => (
              <tr key={b.run_id}>
                <td>{k + 1}</td>
                <td>{paramsText(b.params, 8)}</td>
                <td class="num">{fmtMetric(b.metrics[d.sort] ?? null, def?.format ?? 'ratio')}</td>
                <td>
                  <code>{b.run_id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
