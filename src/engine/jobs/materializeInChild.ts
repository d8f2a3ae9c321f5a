/**
 * A host's way to materialise a light sweep point without running the engine on its own event
 * loop: a `materialize` job child (materializeJob.ts), one per run at a time, its failure turned
 * back into the MaterializeError the in-process path throws so every caller maps it the same way.
 */
import { MaterializeError } from '../backtest/materialize.ts';
import type { JobOutcome } from './jobQueue.ts';
import type { MaterializeParams } from './protocol.ts';

/** Starts a materialize job and resolves with its outcome (JobQueue.submit, JobManager.run). */
export type RunMaterializeJob = (params: MaterializeParams, title: string) => Promise<JobOutcome<'materialize'>>;

const CODES = new Set<string>(['not_found', 'not_finished', 'inputs_changed']);

/** Materialisers by host, each deduplicating concurrent requests for one run. */
export function childMaterializer(runJob: RunMaterializeJob): (dataDir: string, runId: string) => Promise<string> {
  const inFlight = new Map<string, Promise<string>>();
  return (dataDir, runId) => {
    const key = `${dataDir}\0${runId}`;
    let p = inFlight.get(key);
    if (!p) {
      p = runJob({ dataDir, runId }, `Write the artifacts of run ${runId}`)
        .then((o) => {
          if (o.status === 'succeeded') return o.result.artifactsDir;
          if (o.status === 'canceled') throw new Error(`writing the artifacts of run ${runId} was canceled`);
          if (o.code && CODES.has(o.code)) throw new MaterializeError(o.code as MaterializeError['code'], o.message);
          throw new Error(o.message);
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, p);
    }
    return p;
  };
}
