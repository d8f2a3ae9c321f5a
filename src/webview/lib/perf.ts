/**
 * Counters the views keep about themselves (first chart paint, replay frames and the main-thread
 * time spent applying them), readable as `globalThis.__btnbPerf` by benchmarks and tests. Cheap:
 * a few additions per frame.
 */
export interface ViewPerf {
  /** ms since navigation start when the first chart finished drawing. */
  firstChartMs: number | null;
  /** Named moments of the first load (ms since navigation start), first occurrence each. */
  marks: Record<string, number>;
  replay: {
    playAtMs: number | null;
    firstFrameMs: number | null;
    frames: number;
    bars: number;
    fills: number;
    orderEvents: number;
    /** Main-thread ms spent turning frames into the chart model. */
    applyMs: number;
    maxApplyMs: number;
    endedMs: number | null;
  };
}

export const perf: ViewPerf = {
  firstChartMs: null,
  marks: {},
  replay: { playAtMs: null, firstFrameMs: null, frames: 0, bars: 0, fills: 0, orderEvents: 0, applyMs: 0, maxApplyMs: 0, endedMs: null },
};
(globalThis as { __btnbPerf?: ViewPerf }).__btnbPerf = perf;

export function markFirstChart(): void {
  if (perf.firstChartMs === null) perf.firstChartMs = performance.now();
}

export function mark(name: string): void {
  perf.marks[name] ??= performance.now();
}
