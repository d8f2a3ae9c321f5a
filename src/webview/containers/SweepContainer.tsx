/** SweepResults' data: the sweep's runs (or a walk-forward's folds and stitched equity), live while it runs. */
import { useEffect, useState } from 'preact/hooks';
import { Notifications, Requests, type SweepData } from '../../engine/views/protocol.ts';
import { SweepResultsView, type SweepControls } from '../views/SweepResults.tsx';
import { useDebounced, useDisplayTz, useHost, usePersisted, useTheme } from './hooks.ts';

export function SweepContainer(props: { sweepId: string; tz: string }) {
  const host = useHost();
  const theme = useTheme();
  const tz = useDisplayTz(props.tz);
  const [data, setData] = useState<SweepData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [controls, save] = usePersisted<SweepControls>(`sweep:${props.sweepId}`, {
    metric: 'sharpe',
    x: '',
    y: '',
    agg: 'best',
    fixed: {},
  });
  const load = () =>
    host.request(Requests.sweepGet, { sweepId: props.sweepId, points: 2000 }).then(
      (d) => {
        setData(d);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  const reload = useDebounced(() => void load(), 400);
  useEffect(() => {
    void load();
    return host.on(Notifications.catalogChanged, () => reload());
  }, [props.sweepId]);
  return (
    <SweepResultsView
      data={data}
      error={error}
      tz={tz}
      theme={theme}
      controls={controls}
      onControls={save}
      onOpen={(runId) => void host.request(Requests.runsAct, { action: 'open', runIds: [runId] })}
      onCompare={(runIds) => void host.request(Requests.runsAct, { action: 'compare', runIds })}
    />
  );
}
