/**
 * A notebook run output's data: the run from the host (checked: a run that is gone says so),
 * its chart window and replay through useRunChart, keys handled on the output itself (a
 * notebook's own keys stay the notebook's). State lives as long as the output.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { IpcError } from '../../engine/views/ipc.ts';
import { Requests, type RunDetail } from '../../engine/views/protocol.ts';
import type { RunOutput } from '../../notebook/outputs.ts';
import { RunOutputView } from '../views/RunOutput.tsx';
import { useDisplayTz, useHost, useTheme, useWidth } from './hooks.ts';
import { replayKeys, useRunChart, type ChartState } from './useRunChart.ts';

const PX_PER_CANDLE = 3;

export function RunOutputContainer(props: { data: RunOutput; tz: string }) {
  const host = useHost();
  const theme = useTheme();
  const tz = useDisplayTz(props.tz);
  const d = props.data;
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<ChartState>({ range: null, speed: 60, replayCursor: null });
  const chartBox = useRef<HTMLDivElement>(null);
  const width = useWidth(chartBox, 800);
  const points = Math.max(100, Math.min(1500, Math.round(width / PX_PER_CANDLE)));

  useEffect(() => {
    host.request(Requests.runGet, { runId: d.run_id }).then(setDetail, (e: Error) => {
      if (e instanceof IpcError && e.code === 'not_found')
        setMissing(
          `Run ${d.run_id} is no longer in the catalog of this data directory: it was deleted, or this notebook ran against another data directory (${d.data_dir}). Run the cell again to make a new run.`,
        );
      else setError(e.message);
    });
  }, [d.run_id]);

  const n = detail?.series?.bar_count ?? 0;
  const chart = useRunChart(host, d.run_id, {
    barCount: n,
    ready: !!detail?.series,
    points,
    tz,
    saved,
    save: (patch) => setSaved((s) => ({ ...s, ...patch })),
    onError: setError,
  });
  return (
    <div onKeyDown={(e) => replayKeys(e, chart.controls)}>
      <RunOutputView
        data={d}
        mode="live"
        missing={missing}
        error={error ?? chart.replay.error ?? (detail && !detail.series ? (detail.unavailable ?? 'No series for this run.') : null)}
        metrics={detail?.run.metrics ?? d.metrics}
        hasSeries={!!detail?.series}
        hasQuotes={detail?.series?.has_quotes ?? false}
        tz={tz}
        theme={theme}
        chartRef={chartBox}
        model={chart.model}
        modelRevision={chart.modelRevision}
        range={chart.range}
        barCount={n}
        replay={chart.controls}
        onRange={chart.onRange}
        onOpen={() => void host.request(Requests.runsAct, { action: 'open', runIds: [d.run_id] })}
      />
    </div>
  );
}
