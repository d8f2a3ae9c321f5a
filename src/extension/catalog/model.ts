/** What the views need from the catalog, independent of its row shapes (mapped in catalogAdapter.ts). */
// One definition of the run lifecycle: the catalog port's (docs/catalog.md).
export { RUN_STATUSES, type RunStatus } from '../../engine/ports/catalog.ts';
import type { CatalogPort, RunStatus } from '../../engine/ports/catalog.ts';

export interface DatasetView {
  id: string;
  symbol: string;
  /** UTC ISO-8601, or null before bars were derived. */
  start: string | null;
  end: string | null;
  barCount: number | null;
  schemas: string[];
  databentoDataset: string | null;
}

export interface RunView {
  id: string;
  datasetId: string;
  symbol: string | null;
  strategyId: string;
  params: Record<string, unknown>;
  seed: number;
  session: string;
  costs: Record<string, unknown>;
  status: RunStatus;
  inputHash: string;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  metrics: Record<string, number | null> | null;
  tags: string[];
  sweepId: string | null;
}

export interface CatalogReader {
  /** The engine's catalog port behind this reader (the run views query it directly). */
  readonly port: CatalogPort;
  changeCounter(): number;
  listDatasets(): DatasetView[];
  listRuns(): RunView[];
  getRun(id: string): RunView | undefined;
  deleteRun(id: string): void;
  markCanceled(id: string): void;
  markFailed(id: string, message: string): void;
  close(): void;
}

/** A fraction as a percentage; signed (+/−) for returns, plain for magnitudes (drawdown, exposure, win rate). */
export function fmtPct(x: number | null | undefined, signed = true): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${signed && x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
}

export function fmtNum(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

// Intl.DateTimeFormat construction costs far more than format(): one formatter per zone and
// style, reused for every row of the runs list and every tree item.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${withTime ? 't' : 'd'}${tz}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(
      'en-CA',
      withTime
        ? {
            timeZone: tz,
            year: 'numeric',
            month: '2-digit',
            day: '2-digit',
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
            timeZoneName: 'short',
          }
        : { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' },
    );
    formatters.set(key, f);
  }
  return f;
}

function fmtIn(iso: string | null | undefined, tz: string, withTime: boolean): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = formatter(tz, withTime).format(d);
  return withTime ? s.replace(',', '') : s;
}

/** A UTC timestamp rendered in the display zone, naming the zone. */
export function fmtTime(iso: string | null | undefined, tz: string): string {
  return fmtIn(iso, tz, true);
}

export function fmtDate(iso: string | null | undefined, tz: string): string {
  return fmtIn(iso, tz, false);
}
