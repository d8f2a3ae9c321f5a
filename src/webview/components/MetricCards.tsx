/** The run's metrics as cards, in metrics.json order, each with its definition as a tooltip. */
import { METRIC_DEFS } from '../../engine/views/metricDefs.ts';
import { fmtMetric } from '../lib/format.ts';

export function MetricCards(props: { metrics: Record<string, number | null> | null }) {
  const m = props.metrics ?? {};
  return (
    <section class="metric-cards" aria-label="Metrics">
      {METRIC_DEFS.map((d) => {
        const v = m[d.key];
        const tone = d.format === 'pct-signed' && typeof v === 'number' ? (v > 0 ? 'pos' : v < 0 ? 'neg' : '') : '';
        return (
          <div class="metric-card" key={d.key} title={`${d.label}: ${d.definition}`} data-metric={d.key}>
            <div class="metric-label">{d.label}</div>
            <div class={`metric-value ${tone}`} data-metric-value={d.key}>
              {fmtMetric(v, d.format)}
            </div>
          </div>
        );
      })}
    </section>
  );
}
