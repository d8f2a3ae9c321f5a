/**
 * A run as a notebook output: what ran (and whether an identical run was reused), its metrics,
 * and — when the notebook talks to the extension — the price chart with fills and the equity
 * curve, with the replay controls. Without the extension it says so and shows the summary that
 * the notebook file kept.
 */
import type { Ref } from 'preact';
import type { RunOutput } from '../../notebook/outputs.ts';
import { paramsText } from '../../engine/backtest/paramText.ts';
import type { ChartModel } from '../lib/chartModel.ts';
import type { Theme } from '../lib/theme.ts';
import { MetricCards } from '../components/MetricCards.tsx';
import { Notice } from '../components/Notice.tsx';
import { ReplayBar } from '../components/ReplayBar.tsx';
import { RunChart } from '../components/RunChart.tsx';
import type { ReplayControls } from '../containers/useRunChart.ts';

export interface RunOutputViewProps {
  data: RunOutput;
  /** live: the extension answers; static: the notebook is shown without it. */
  mode: 'live' | 'static';
  /** The run is gone from the catalog (deleted, or another data dir). */
  missing: string | null;
  error: string | null;
  metrics: Record<string, number | null> | null;
  hasSeries: boolean;
  hasQuotes: boolean;
  tz: string;
  theme: Theme;
  chartRef: Ref<HTMLDivElement>;
  model: ChartModel;
  modelRevision: number;
  range: [number, number];
  barCount: number;
  replay: ReplayControls;
  onRange: (r: [number, number] | null) => void;
  onOpen: () => void;
}

export function RunOutputView(p: RunOutputViewProps) {
  const d = p.data;
  return (
    <section class="nb-output run-output" aria-label={`Backtest run ${d.run_id}`}>
      <div class="nb-title">
        <strong>{d.strategy_id}</strong> <span class="params">{paramsText(d.params, 10)}</span>
        <span class="muted">
          {' '}
          on {d.symbol ?? d.dataset_id} · session {d.session} · run <code data-run-id>{d.run_id}</code>
        </span>
        {p.mode === 'live' && !p.missing ? (
          <button type="button" class="button secondary small" onClick={p.onOpen}>
            Open run view
          </button>
        ) : null}
      </div>
      {d.created ? null : (
        <div class="nb-note" role="note" data-reused>
          Identical inputs (input_hash {d.input_hash.slice(0, 12)}…): the run already in the catalog is shown. Add <code>force: true</code>{' '}
          to run it again.
        </div>
      )}
      {p.missing ? (
        <Notice kind="error">{p.missing}</Notice>
      ) : (
        <>
          <MetricCards metrics={p.metrics} />
          {p.mode === 'static' ? (
            <Notice kind="info">
              Charts and replay need the Backtest Notebook extension: this is the summary saved with the notebook.
            </Notice>
          ) : p.error ? (
            <Notice kind="error">{p.error}</Notice>
          ) : !p.hasSeries ? (
            <Notice kind="loading">Loading the run…</Notice>
          ) : (
            <div class="nb-chart">
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
              <div class="chart-box nb-chart-box" ref={p.chartRef}>
                <RunChart
                  model={p.model}
                  revision={p.modelRevision}
                  range={p.range}
                  barCount={p.barCount}
                  theme={p.theme}
                  tz={p.tz}
                  showVolume={false}
                  showSpread={false}
                  showOrders={true}
                  hasQuotes={p.hasQuotes}
                  onRange={p.onRange}
                />
              </div>
            </div>
          )}
        </>
      )}
    </section>
  );
}
