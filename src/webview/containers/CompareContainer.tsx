/** Compare's data: the runs, their normalised equity and drawdown at the chart's width, the manifest diff. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Requests, type CompareData } from '../../engine/views/protocol.ts';
import { CompareView } from '../views/Compare.tsx';
import { useDisplayTz, useHost, useTheme, useWidth } from './hooks.ts';

export function CompareContainer(props: { runIds: string[]; tz: string }) {
  const host = useHost();
  const theme = useTheme();
  const tz = useDisplayTz(props.tz);
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box, 1000);
  const [data, setData] = useState<CompareData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const points = Math.max(200, Math.min(4000, Math.round(width)));
  useEffect(() => {
    host.request(Requests.compareGet, { runIds: props.runIds, points }).then(setData, (e: Error) => setError(e.message));
  }, [props.runIds.join(','), points]);
  return (
    <CompareView
      data={data}
      error={error}
      tz={tz}
      theme={theme}
      chartRef={box}
      onOpen={(runId) => void host.request(Requests.runsAct, { action: 'open', runIds: [runId] })}
    />
  );
}
