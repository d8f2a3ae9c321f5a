/**
 * A Plotly figure as a component: draws `data`/`layout` with Plotly.react whenever they change,
 * resizes with its box, and reports zooms (x range) and clicks. Plotly loads on first use.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PlotlyApi } from '../lib/plotly.ts';
import { mark } from '../lib/perf.ts';

let plotly: Promise<PlotlyApi> | null = null;
let plotlyGl: Promise<PlotlyApi> | null = null;
/** The Plotly chunk, loaded once. */
export function loadPlotly(): Promise<PlotlyApi> {
  plotly ??= import('../lib/plotly.ts').then((m) => {
    mark('plotly-loaded');
    return m.default;
  });
  return plotly;
}
/** Plotly with its WebGL scatter registered (a second chunk, on first need). */
function loadPlotlyGl(): Promise<PlotlyApi> {
  plotlyGl ??= loadPlotly()
    .then(() => import('../lib/plotlyGl.ts'))
    .then((m) => m.default);
  return plotlyGl;
}
const needsGl = (data: unknown[]) => data.some((t) => (t as { type?: string }).type === 'scattergl');

export interface PlotClick {
  curveNumber: number;
  pointIndex: number;
  x: unknown;
  y: unknown;
  customdata?: unknown;
}

export interface PlotlyChartProps {
  data: unknown[];
  layout: Record<string, unknown>;
  /** Accessible description of the chart. */
  label: string;
  class?: string;
  onXRange?: (range: [number, number] | null) => void;
  onClick?: (p: PlotClick) => void;
  /** Called after each draw (benchmarks measure the first paint). */
  onDrawn?: () => void;
}

/** Page-wide chart behaviour: a notebook output turns wheel zoom off (the wheel scrolls the notebook). */
const chartDefaults = { scrollZoom: true };
export function setChartDefaults(d: Partial<typeof chartDefaults>): void {
  Object.assign(chartDefaults, d);
}

type PlotEl = HTMLDivElement & { on?(ev: string, fn: (e: unknown) => void): void; removeAllListeners?(ev: string): void };

export function PlotlyChart(props: PlotlyChartProps) {
  const ref = useRef<PlotEl>(null);
  const cb = useRef(props);
  cb.current = props;
  const [ready, setReady] = useState(false);

  useEffect(() => {
    const el = ref.current!;
    let alive = true;
    let observer: ResizeObserver | null = null;
    void loadPlotly().then((P) => {
      if (!alive) return;
      setReady(true);
      observer = new ResizeObserver(() => void P.Plots.resize(el));
      observer.observe(el);
    });
    return () => {
      alive = false;
      observer?.disconnect();
      void loadPlotly().then((P) => P.purge(el));
    };
  }, []);

  useEffect(() => {
    if (!ready) return;
    const el = ref.current!;
    void (needsGl(props.data) ? loadPlotlyGl() : loadPlotly()).then(async (P) => {
      mark('plot-start');
      await P.react(el, props.data, props.layout, {
        displaylogo: false,
        responsive: false,
        scrollZoom: chartDefaults.scrollZoom,
        modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d', 'toImage'],
      });
      if (!el.removeAllListeners) return;
      el.removeAllListeners('plotly_relayout');
      el.removeAllListeners('plotly_click');
      el.on?.('plotly_relayout', (e) => {
        const ev = e as Record<string, unknown>;
        if (ev['xaxis.autorange'] === true) cb.current.onXRange?.(null);
        else if (typeof ev['xaxis.range[0]'] === 'number' || typeof ev['xaxis.range[0]'] === 'string')
          cb.current.onXRange?.([Number(ev['xaxis.range[0]']), Number(ev['xaxis.range[1]'])]);
        else if (Array.isArray(ev['xaxis.range']))
          cb.current.onXRange?.([Number((ev['xaxis.range'] as unknown[])[0]), Number((ev['xaxis.range'] as unknown[])[1])]);
      });
      el.on?.('plotly_click', (e) => {
        const p = (e as { points?: PlotClick[] }).points?.[0];
        if (p) cb.current.onClick?.(p);
      });
      cb.current.onDrawn?.();
    });
  }, [ready, props.data, props.layout]);

  return <div ref={ref} class={`plot ${props.class ?? ''}`} role="img" aria-label={props.label} />;
}
