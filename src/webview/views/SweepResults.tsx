/**
 * SweepResults: a metric over two parameters as a heatmap (other parameters fixed or
 * aggregated), the best cell marked, a click opening that cell's run; the best runs in a table.
 * A walk-forward shows its stitched out-of-sample equity with the fold boundaries and its folds.
 */
import { useMemo } from 'preact/hooks';
import type { SweepData } from '../../engine/views/protocol.ts';
import { METRIC_DEFS, metricDef } from '../../engine/views/metricDefs.ts';
import { fmtMetric, fmtPct } from '../lib/format.ts';
import { paramsText } from '../../engine/backtest/paramText.ts';
import { heatGrid, type Aggregate, type ParamValue } from '../lib/heatmap.ts';
import { fmtDate, fmtDateTime, wallClockMs } from '../lib/time.ts';
import { withAlpha, type Theme } from '../lib/theme.ts';
import { Notice } from '../components/Notice.tsx';
import { PlotlyChart } from '../components/PlotlyChart.tsx';

export interface SweepControls {
  metric: string;
  x: string;
  y: string;
  agg: Aggregate;
  /** Other params: a value (JSON) to fix them at, or '' to aggregate over them. */
  fixed: Record<string, string>;
}

export interface SweepResultsViewProps {
  data: SweepData | null;
  error: string | null;
  tz: string;
  theme: Theme;
  controls: SweepControls;
  onControls: (c: Partial<SweepControls>) => void;
  onOpen: (runId: string) => void;
  onCompare: (runIds: string[]) => void;
}

const show = (v: ParamValue) => (typeof v === 'string' ? v : JSON.stringify(v));

function Heatmap(p: { data: SweepData; controls: SweepControls; theme: Theme; onOpen(runId: string): void }) {
  const { data, controls, theme } = p;
  const def = metricDef(controls.metric) ?? METRIC_DEFS[4]!;
  const better = def.best ?? 'max';
  const keys = data.params.map((x) => x.key);
  const xKey = keys.includes(controls.x) ? controls.x : keys[0]!;
  const yKey = keys.includes(controls.y) && controls.y !== xKey ? controls.y : (keys.find((k) => k !== xKey) ?? null);
  const valuesOf = (k: string) => data.params.find((x) => x.key === k)!.values;
  const fixed: Record<string, ParamValue | null> = {};
  for (const k of keys) if (k !== xKey && k !== yKey) fixed[k] = controls.fixed[k] ? (JSON.parse(controls.fixed[k]) as ParamValue) : null;
  const grid = useMemo(
    () => heatGrid(data.runs, def.key, better, xKey, valuesOf(xKey), yKey, yKey ? valuesOf(yKey) : [], fixed, controls.agg),
    [data, def.key, xKey, yKey, JSON.stringify(fixed), controls.agg],
  );
  const fig = useMemo(() => {
    const z = grid.cells.map((row) => row.map((c) => c.value));
    const text = grid.cells.map((row) => row.map((c) => (c.value === null ? '' : fmtMetric(c.value, def.format))));
    const custom = grid.cells.map((row) => row.map((c) => c.runId));
    const hover = grid.cells.map((row, yi) =>
      row.map(
        (c, xi) =>
          `${xKey}=${show(grid.xs[xi]!)}${yKey ? `, ${yKey}=${show(grid.ys[yi]!)}` : ''}<br>${def.label}: ${c.value === null ? '—' : fmtMetric(c.value, def.format)}${c.count > 1 ? ` (${controls.agg} of ${c.count} runs)` : ''}<br>click to open the run`,
      ),
    );
    const scale =
      better === 'max'
        ? [
            [0, withAlpha(theme.down, 0.85)],
            [0.5, withAlpha(theme.muted, 0.25)],
            [1, withAlpha(theme.up, 0.9)],
          ]
        : [
            [0, withAlpha(theme.up, 0.9)],
            [0.5, withAlpha(theme.muted, 0.25)],
            [1, withAlpha(theme.down, 0.85)],
          ];
    const shapes = grid.best
      ? [
          {
            type: 'rect',
            xref: 'x',
            yref: 'y',
            x0: grid.best.x - 0.5,
            x1: grid.best.x + 0.5,
            y0: grid.best.y - 0.5,
            y1: grid.best.y + 0.5,
            line: { color: theme.foreground, width: 2.5 },
          },
        ]
      : [];
    const annotations = grid.best
      ? [{ x: grid.best.x, y: grid.best.y, text: '★ best', showarrow: false, yshift: 14, font: { size: 10, color: theme.foreground } }]
      : [];
    return {
      data: [
        {
          type: 'heatmap',
          z,
          text,
          texttemplate: '%{text}',
          customdata: custom,
          hovertext: hover,
          hoverinfo: 'text',
          // no colour bar: every cell prints its value, and Plotly's colour bar sets style attributes our CSP refuses
          x: grid.xs.map((_, k) => k),
          y: grid.ys.map((_, k) => k),
          colorscale: scale,
          showscale: false,
          xgap: 1,
          ygap: 1,
          textfont: { size: 10, color: theme.foreground },
        },
      ],
      layout: {
        xaxis: {
          tickvals: grid.xs.map((_, k) => k),
          ticktext: grid.xs.map(show),
          title: { text: xKey },
          tickfont: { color: theme.muted },
          fixedrange: true,
          showgrid: false,
          zeroline: false,
        },
        yaxis: {
          tickvals: grid.ys.map((_, k) => k),
          ticktext: yKey ? grid.ys.map(show) : [''],
          title: { text: yKey ?? '' },
          tickfont: { color: theme.muted },
          fixedrange: true,
          showgrid: false,
          zeroline: false,
        },
        shapes,
        annotations,
        margin: { l: 60, r: 20, t: 20, b: 50 },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
        font: { family: theme.font, size: 11, color: theme.foreground },
        hoverlabel: { bgcolor: theme.background, bordercolor: theme.border, font: { color: theme.foreground } },
      },
    };
  }, [grid, theme]);
  return (
    <PlotlyChart
      class="heatmap"
      data={fig.data}
      layout={fig.layout}
      label={`${def.label} over ${xKey}${yKey ? ` and ${yKey}` : ''}; best cell marked`}
      onClick={(pt) => {
        if (typeof pt.customdata === 'string') p.onOpen(pt.customdata);
      }}
    />
  );
}

function WalkForwardChart(p: { wf: NonNullable<SweepData['walk_forward']>; tz: string; theme: Theme }) {
  const { wf, tz, theme } = p;
  const fig = useMemo(() => {
    const x = wf.equity.ts_ms.map((t) => wallClockMs(t, tz));
    const shapes = wf.folds.map((f) => ({
      type: 'line',
      xref: 'x',
      yref: 'paper',
      x0: wallClockMs(f.start_ms, tz),
      x1: wallClockMs(f.start_ms, tz),
      y0: 0,
      y1: 1,
      line: { color: theme.muted, width: 1, dash: 'dot' },
    }));
    const annotations = wf.folds.map((f) => ({
      x: wallClockMs(f.start_ms, tz),
      y: 1,
      yref: 'paper',
      text: `F${f.fold}`,
      showarrow: false,
      xanchor: 'left',
      yanchor: 'top',
      font: { size: 10, color: theme.muted },
    }));
    return {
      data: [
        {
          type: 'scatter',
          mode: 'lines',
          x,
          y: wf.equity.equity,
          text: wf.equity.ts_ms.map((t) => fmtDateTime(t, tz)),
          hovertemplate: '%{text}<br>%{y:,.2f}<extra>out of sample</extra>',
          line: { color: theme.equity, width: 1.6 },
        },
      ],
      layout: {
        xaxis: {
          type: 'date',
          gridcolor: theme.grid,
          tickfont: { size: 10, color: theme.muted },
          title: { text: `Time (${tz})`, font: { size: 10, color: theme.muted } },
        },
        yaxis: { side: 'right', gridcolor: theme.grid, tickformat: ',.0f', tickfont: { size: 10, color: theme.muted }, automargin: true },
        shapes,
        annotations: [
          ...annotations,
          {
            text: 'Stitched out-of-sample equity',
            xref: 'paper',
            yref: 'paper',
            x: 0.5,
            y: 1.06,
            showarrow: false,
            font: { size: 11, color: theme.muted },
          },
        ],
        margin: { l: 8, r: 8, t: 26, b: 40 },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
        showlegend: false,
        font: { family: theme.font, size: 11, color: theme.foreground },
        hovermode: 'x',
      },
    };
  }, [wf, tz, theme]);
  return (
    <PlotlyChart
      class="wf-chart"
      data={fig.data}
      layout={fig.layout}
      label={`Stitched out-of-sample equity over ${wf.folds.length} folds`}
    />
  );
}

export function SweepResultsView(p: SweepResultsViewProps) {
  if (p.error)
    return (
      <main class="sweep">
        <Notice kind="error">{p.error}</Notice>
      </main>
    );
  if (!p.data)
    return (
      <main class="sweep">
        <Notice kind="loading">Loading sweep…</Notice>
      </main>
    );
  const d = p.data;
  const c = p.controls;
  const def = metricDef(c.metric) ?? METRIC_DEFS[4]!;
  const keys = d.params.map((x) => x.key);
  const xKey = keys.includes(c.x) ? c.x : keys[0];
  const yKey = keys.includes(c.y) && c.y !== xKey ? c.y : keys.find((k) => k !== xKey);
  const sign = def.best === 'min' ? -1 : 1;
  const ranked = d.runs
    .filter((r) => typeof r.metrics?.[def.key] === 'number')
    .sort((a, b) => sign * (b.metrics![def.key]! - a.metrics![def.key]!));
  const done = d.runs.filter((r) => r.status === 'succeeded').length;
  // the chosen metric first, then the usual suspects
  const shown = [def, ...['total_return', 'sharpe', 'max_drawdown', 'num_trades'].filter((k) => k !== def.key).map((k) => metricDef(k)!)];
  const wf = d.walk_forward;
  // a fold's chosen params: those that differ between folds (all when they agree)
  const varying = wf
    ? Object.keys(wf.folds[0]?.params ?? {}).filter((k) =>
        wf.folds.some((f) => JSON.stringify(f.params[k]) !== JSON.stringify(wf.folds[0]!.params[k])),
      )
    : [];
  const foldParams = (prm: Record<string, unknown>) => (varying.length ? Object.fromEntries(varying.map((k) => [k, prm[k]])) : prm);
  return (
    <main class="sweep" aria-label="Sweep results">
      <h1>
        {d.kind === 'walk-forward' ? 'Walk-forward' : 'Sweep'}{' '}
        <span class="muted">
          {d.strategy_id} · {d.symbol ?? d.dataset_id}
        </span>
      </h1>
      <p class="muted">
        {d.runs.length} runs ({done} succeeded{d.runs.length - done ? `, ${d.runs.length - done} other` : ''}) · id{' '}
        <code>{d.sweep_id}</code>
      </p>
      {wf ? (
        <section aria-label="Walk-forward">
          <div class="chart-box wf-box">
            <WalkForwardChart wf={wf} tz={p.tz} theme={p.theme} />
          </div>
          <table class="grid-table" id="wf-folds">
            <thead>
              <tr>
                <th scope="col">Fold</th>
                <th scope="col">Out of sample ({p.tz})</th>
                <th scope="col">Chosen params</th>
                <th scope="col" class="num">
                  Return
                </th>
              </tr>
            </thead>
            <tbody>
              {wf.folds.map((f) => (
                <tr
                  key={f.run_id}
                  class="clickable"
                  tabIndex={0}
                  onClick={() => p.onOpen(f.run_id)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') p.onOpen(f.run_id);
                  }}
                >
                  <td>{f.fold}</td>
                  <td>
                    {fmtDate(f.start_ms, p.tz)} – {fmtDate(f.end_ms, p.tz)}
                  </td>
                  <td>{paramsText(foldParams(f.params), 6)}</td>
                  <td class="num">{fmtPct(f.total_return, true)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {!wf && keys.length > 0 ? (
        <section aria-label="Heatmap">
          <div class="heat-controls" role="group" aria-label="Heatmap">
            <label>
              Metric{' '}
              <select value={def.key} onChange={(e) => p.onControls({ metric: (e.target as HTMLSelectElement).value })}>
                {METRIC_DEFS.map((m) => (
                  <option key={m.key} value={m.key}>
                    {m.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              X{' '}
              <select value={xKey} onChange={(e) => p.onControls({ x: (e.target as HTMLSelectElement).value })}>
                {keys.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </label>
            {keys.length > 1 ? (
              <label>
                Y{' '}
                <select value={yKey} onChange={(e) => p.onControls({ y: (e.target as HTMLSelectElement).value })}>
                  {keys
                    .filter((k) => k !== xKey)
                    .map((k) => (
                      <option key={k} value={k}>
                        {k}
                      </option>
                    ))}
                </select>
              </label>
            ) : null}
            {keys
              .filter((k) => k !== xKey && k !== yKey)
              .map((k) => (
                <label key={k}>
                  {k}{' '}
                  <select
                    value={c.fixed[k] ?? ''}
                    onChange={(e) => p.onControls({ fixed: { ...c.fixed, [k]: (e.target as HTMLSelectElement).value } })}
                  >
                    <option value="">all (aggregate)</option>
                    {d.params
                      .find((x) => x.key === k)!
                      .values.map((v) => (
                        <option key={JSON.stringify(v)} value={JSON.stringify(v)}>
                          {show(v)}
                        </option>
                      ))}
                  </select>
                </label>
              ))}
            <label>
              Aggregate{' '}
              <select value={c.agg} onChange={(e) => p.onControls({ agg: (e.target as HTMLSelectElement).value as Aggregate })}>
                {(['best', 'mean', 'median', 'min', 'max'] as const).map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div class="chart-box heat-box">
            <Heatmap data={d} controls={c} theme={p.theme} onOpen={p.onOpen} />
          </div>
          <p class="muted small">
            {def.label}: greener is better{def.best === 'min' ? ' (lower)' : ''}, redder is worse; the framed cell is the best. Click a cell
            to open its run{c.agg === 'best' ? '' : ' (the best run among those the cell aggregates)'}.
          </p>
        </section>
      ) : null}
      <h2>Best runs by {def.label}</h2>
      <table class="grid-table" id="sweep-best">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Params</th>
            {shown.map((m) => (
              <th scope="col" class="num" key={m.key}>
                {m.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {ranked.slice(0, 20).map((r, k) => (
            <tr
              key={r.run_id}
              class="clickable"
              tabIndex={0}
              onClick={() => p.onOpen(r.run_id)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') p.onOpen(r.run_id);
              }}
            >
              <td>{k + 1}</td>
              <td>{paramsText(Object.fromEntries(keys.map((key) => [key, r.params[key]])), 8)}</td>
              {shown.map((m) => (
                <td class="num" key={m.key}>
                  {fmtMetric(r.metrics![m.key], m.format)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {ranked.length >= 2 ? (
        <button
          type="button"
          class="button secondary"
          onClick={() => p.onCompare(ranked.slice(0, Math.min(4, ranked.length)).map((r) => r.run_id))}
        >
          Compare the top {Math.min(4, ranked.length)}
        </button>
      ) : null}
    </main>
  );
}
