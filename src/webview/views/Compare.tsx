/**
 * Compare 2–8 runs: equity curves overlaid (normalised to 1 at the common start) with their
 * drawdowns, the metrics side by side with the best value per row marked, and a manifest diff
 * that lists only what differs.
 */
import type { Ref } from 'preact';
import { useMemo } from 'preact/hooks';
import type { CompareData } from '../../engine/views/protocol.ts';
import { METRIC_DEFS } from '../../engine/views/metricDefs.ts';
import { fmtMetric } from '../lib/format.ts';
import { fmtDateTime, wallClockMs } from '../lib/time.ts';
import type { Theme } from '../lib/theme.ts';
import { Notice } from '../components/Notice.tsx';
import { PlotlyChart } from '../components/PlotlyChart.tsx';
import { StatusBadge } from '../components/RunHeader.tsx';

export interface CompareViewProps {
  data: CompareData | null;
  error: string | null;
  tz: string;
  theme: Theme;
  chartRef: Ref<HTMLDivElement>;
  onOpen: (runId: string) => void;
}

function CompareChart(p: { data: CompareData; tz: string; theme: Theme }) {
  const { data, tz, theme } = p;
  const fig = useMemo(() => {
    const traces: unknown[] = [];
    data.curves.forEach((c) => {
      const k = data.runs.findIndex((r) => r.run.run_id === c.run_id);
      const color = theme.palette[k % theme.palette.length];
      const label = data.runs[k]!.label;
      const x = c.ts_ms.map((t) => wallClockMs(t, tz));
      const text = c.ts_ms.map((t) => fmtDateTime(t, tz));
      traces.push({
        type: 'scatter',
        mode: 'lines',
        name: label,
        x,
        y: c.norm,
        text,
        hovertemplate: '%{text}<br>%{y:.4f}<extra>%{fullData.name}</extra>',
        line: { color, width: 1.6 },
        xaxis: 'x',
        yaxis: 'y',
      });
      traces.push({
        type: 'scatter',
        mode: 'lines',
        name: label,
        x,
        y: c.drawdown.map((v) => -v),
        text,
        hovertemplate: '%{text}<br>%{y:.2%}<extra>%{fullData.name}</extra>',
        line: { color, width: 1 },
        xaxis: 'x',
        yaxis: 'y2',
        showlegend: false,
      });
    });
    const layout = {
      xaxis: {
        type: 'date',
        anchor: 'y2',
        gridcolor: theme.grid,
        tickfont: { size: 10, color: theme.muted },
        title: { text: `Time (${tz})`, font: { size: 10, color: theme.muted } },
      },
      yaxis: {
        domain: [0.34, 1],
        side: 'right',
        gridcolor: theme.grid,
        tickformat: '.4f',
        tickfont: { size: 10, color: theme.muted },
        automargin: true,
      },
      yaxis2: {
        domain: [0, 0.28],
        side: 'right',
        gridcolor: theme.grid,
        tickformat: '.2%',
        tickfont: { size: 10, color: theme.muted },
        automargin: true,
        nticks: 4,
      },
      annotations: [
        {
          text: 'Equity ÷ equity at the common start',
          xref: 'paper',
          yref: 'paper',
          x: 0,
          y: 1,
          xanchor: 'left',
          yanchor: 'top',
          showarrow: false,
          font: { size: 11, color: theme.muted },
        },
        {
          text: 'Drawdown',
          xref: 'paper',
          yref: 'paper',
          x: 0,
          y: 0.28,
          xanchor: 'left',
          yanchor: 'top',
          showarrow: false,
          font: { size: 11, color: theme.muted },
        },
      ],
      legend: { orientation: 'h', y: 1.1, font: { size: 11, color: theme.foreground } },
      margin: { l: 8, r: 8, t: 30, b: 40 },
      hovermode: 'x',
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      font: { family: theme.font, size: 11, color: theme.foreground },
      hoverlabel: { bgcolor: theme.background, bordercolor: theme.border, font: { color: theme.foreground } },
      uirevision: 'compare',
    };
    return { traces, layout };
  }, [data, tz, theme]);
  return (
    <PlotlyChart
      class="compare-chart"
      data={fig.traces}
      layout={fig.layout}
      label={`Equity of ${data.curves.length} runs, normalised at the common start`}
    />
  );
}

export function CompareView(p: CompareViewProps) {
  if (p.error)
    return (
      <main class="compare">
        <Notice kind="error">{p.error}</Notice>
      </main>
    );
  if (!p.data)
    return (
      <main class="compare">
        <Notice kind="loading">Loading runs…</Notice>
      </main>
    );
  const d = p.data;
  const best = (key: string, best: 'max' | 'min' | null): number | null => {
    if (!best) return null;
    const vals = d.runs.map((r) => r.run.metrics?.[key]).filter((v): v is number => typeof v === 'number');
    if (vals.length < 2) return null;
    return best === 'max' ? Math.max(...vals) : Math.min(...vals);
  };
  return (
    <main class="compare" aria-label="Compare runs">
      <h1>Compare {d.runs.length} runs</h1>
      {d.missing.map((m) => (
        <Notice kind="info" key={m.run_id}>
          {m.run_id}: {m.reason}
        </Notice>
      ))}
      <p class="muted small">
        Equity divided by each run's equity at {d.common_start_ms === null ? '—' : fmtDateTime(d.common_start_ms, p.tz)}, the latest first
        bar among the runs. Times in {p.tz}.
      </p>
      <div class="chart-box compare-box" ref={p.chartRef}>
        {d.curves.length ? <CompareChart data={d} tz={p.tz} theme={p.theme} /> : null}
      </div>
      <h2>Metrics</h2>
      <div class="table-scroll">
        <table class="grid-table" id="compare-metrics">
          <thead>
            <tr>
              <th scope="col">Metric</th>
              {d.runs.map((r, k) => (
                <th scope="col" key={r.run.run_id}>
                  <span class="swatch" style={{ background: p.theme.palette[k % p.theme.palette.length] }} />
                  <button type="button" class="link" onClick={() => p.onOpen(r.run.run_id)} title={`Open run ${r.run.run_id}`}>
                    {r.label}
                  </button>
                  {r.run.status !== 'succeeded' ? <StatusBadge status={r.run.status} /> : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {METRIC_DEFS.map((m) => {
              const b = best(m.key, m.best);
              return (
                <tr key={m.key}>
                  <th scope="row" title={m.definition}>
                    {m.label}
                  </th>
                  {d.runs.map((r) => {
                    const v = r.run.metrics?.[m.key];
                    const isBest = b !== null && v === b;
                    return (
                      <td
                        key={r.run.run_id}
                        class={`num${isBest ? ' best' : ''}`}
                        data-best={isBest ? 'true' : undefined}
                        aria-label={isBest ? `${fmtMetric(v, m.format)} (best)` : undefined}
                      >
                        {fmtMetric(v, m.format)}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>What differs</h2>
      {d.diff.length === 0 ? (
        <p class="muted">The manifests agree on every compared field.</p>
      ) : (
        <div class="table-scroll">
          <table class="grid-table" id="compare-diff">
            <thead>
              <tr>
                <th scope="col">Field</th>
                {d.runs.map((r) => (
                  <th scope="col" key={r.run.run_id}>
                    {r.run.run_id.slice(-8)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {d.diff.map((x) => (
                <tr key={x.field}>
                  <th scope="row">
                    <code>{x.field}</code>
                  </th>
                  {x.values.map((v, k) => (
                    <td key={k}>
                      <code>{v ?? '—'}</code>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
