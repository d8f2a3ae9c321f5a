/**
 * The run chart: candles with buy/sell fill markers and resting order levels, optional volume
 * and TBBO spread panels, the equity curve and the drawdown below — one figure, one x axis
 * (the bar index, so nights and weekends leave no gaps), so zooming one panel zooms all. Tick
 * labels and hovers show times in the display zone, named on the axis.
 */
import { useMemo, useState } from 'preact/hooks';
import { lowerBound, type ChartModel } from '../lib/chartModel.ts';
import { fmtNum, fmtPrice, fmtQty } from '../lib/format.ts';
import { fmtDateTime, indexTicks } from '../lib/time.ts';
import { withAlpha, type Theme } from '../lib/theme.ts';
import { PlotlyChart } from './PlotlyChart.tsx';
import { markFirstChart } from '../lib/perf.ts';

export interface RunChartProps {
  model: ChartModel;
  /** Changes whenever the model's columns changed (replay models grow in place). */
  revision: number;
  /** Visible bars (fractional edges allowed). */
  range: [number, number];
  barCount: number;
  theme: Theme;
  tz: string;
  showVolume: boolean;
  showSpread: boolean;
  showOrders: boolean;
  hasQuotes: boolean;
  onRange: (range: [number, number] | null) => void;
  onDrawn?: () => void;
}

/**
 * More markers than this draw with WebGL (scattergl): below it SVG is faster to set up (GL
 * context creation costs ~300 ms without a GPU), above it SVG's one element per marker loses.
 */
const GL_MARKERS = 5000;
const LEVEL_STYLE = [
  { name: 'Buy limit', up: true, dash: 'dot' },
  { name: 'Sell limit', up: false, dash: 'dot' },
  { name: 'Buy stop', up: true, dash: 'dash' },
  { name: 'Sell stop', up: false, dash: 'dash' },
] as const;

interface Panel {
  key: string;
  title: string;
  weight: number;
}

/** Above this many fills in view, the first draw leaves them out and they follow a frame later. */
const PROGRESSIVE_FILLS = 2000;

export function RunChart(p: RunChartProps) {
  const { model, range, theme, tz } = p;
  // progressive first paint: candles and equity first, a big fill layer right after
  const [painted, setPainted] = useState(false);
  const figure = useMemo(() => {
    const [a, b] = range;
    const lo = Math.floor(a) - 1;
    const hi = Math.ceil(b) + 1;
    const c = model.candles;
    // buckets overlapping the window (a bucket starts at i and spans n bars)
    let k0 = lowerBound(c.i, lo);
    if (k0 > 0) k0--;
    const k1 = lowerBound(c.i, hi + 1);
    const x: number[] = [];
    const text: string[] = [];
    const sl = <T,>(col: T[]) => col.slice(k0, k1);
    for (let k = k0; k < k1; k++) {
      x.push(c.i[k]! + (c.n[k]! - 1) / 2);
      const span = c.n[k]! > 1 ? ` (+${c.n[k]! - 1} bars)` : '';
      text.push(
        `${fmtDateTime(c.ts[k], tz)}${span}<br>O ${fmtPrice(c.open[k])}  H ${fmtPrice(c.high[k])}<br>L ${fmtPrice(c.low[k])}  C ${fmtPrice(c.close[k])}<br>Vol ${fmtQty(c.volume[k])}`,
      );
    }
    const panels: Panel[] = [{ key: 'price', title: 'Price', weight: 5 }];
    if (p.showVolume) panels.push({ key: 'volume', title: 'Volume', weight: 1.1 });
    if (p.showSpread && p.hasQuotes) panels.push({ key: 'spread', title: 'Spread (TBBO mean)', weight: 1.1 });
    panels.push({ key: 'equity', title: 'Equity', weight: 2.4 }, { key: 'drawdown', title: 'Drawdown', weight: 1.3 });
    const gap = 0.035;
    const total = panels.reduce((s, q) => s + q.weight, 0);
    const usable = 1 - gap * (panels.length - 1);
    const layoutAxes: Record<string, unknown> = {};
    const axisOf: Record<string, string> = {};
    let top = 1;
    const annotations: unknown[] = [];
    panels.forEach((q, n) => {
      const h = (q.weight / total) * usable;
      const name = n === 0 ? 'yaxis' : `yaxis${n + 1}`;
      axisOf[q.key] = n === 0 ? 'y' : `y${n + 1}`;
      layoutAxes[name] = {
        domain: [Math.max(0, top - h), top],
        side: 'right',
        fixedrange: true,
        gridcolor: theme.grid,
        zeroline: false,
        tickfont: { size: 10, color: theme.muted },
        automargin: true,
        ...(q.key === 'drawdown' ? { tickformat: '.2%', rangemode: 'tozero', nticks: 3 } : {}),
        ...(q.key === 'volume' ? { rangemode: 'tozero', nticks: 3 } : {}),
        ...(q.key === 'spread' ? { nticks: 3 } : {}),
      };
      annotations.push({
        text: q.title,
        xref: 'paper',
        yref: 'paper',
        x: 0,
        y: top,
        xanchor: 'left',
        yanchor: 'top',
        showarrow: false,
        font: { size: 11, color: theme.muted },
      });
      top -= h + gap;
    });
    const bottomAxis = axisOf.drawdown!;
    const data: unknown[] = [];
    data.push({
      type: 'candlestick',
      name: 'Price',
      x,
      open: sl(c.open),
      high: sl(c.high),
      low: sl(c.low),
      close: sl(c.close),
      text,
      hoverinfo: 'text',
      xaxis: 'x',
      yaxis: axisOf.price,
      whiskerwidth: 0.5,
      showlegend: false,
      increasing: { line: { color: theme.up, width: 1 }, fillcolor: theme.up },
      decreasing: { line: { color: theme.down, width: 1 }, fillcolor: theme.down },
    });
    // fills: every fill in the window, never thinned
    const f = model.fills;
    const f0 = lowerBound(f.bar, lo);
    const f1 = lowerBound(f.bar, hi + 1);
    // markers shrink as they crowd: legible alone, a texture of thousands
    const visibleFills = f1 - f0;
    const deferFills = !painted && visibleFills > PROGRESSIVE_FILLS;
    const markerSize = visibleFills < 150 ? 11 : visibleFills < 600 ? 8 : visibleFills < 3000 ? 6 : 4;
    for (const side of ['buy', 'sell'] as const) {
      if (deferFills) {
        data.push({
          type: 'scatter',
          mode: 'markers',
          x: [],
          y: [],
          xaxis: 'x',
          yaxis: axisOf.price,
          showlegend: false,
          hoverinfo: 'skip',
        });
        continue;
      }
      const fx: number[] = [];
      const fy: number[] = [];
      const ft: string[] = [];
      for (let k = f0; k < f1; k++) {
        if (f.side[k] !== side) continue;
        fx.push(f.bar[k]!);
        fy.push(f.price[k]!);
        ft.push(
          `<b>${side === 'buy' ? 'Buy' : 'Sell'} ${fmtQty(f.qty[k])} @ ${fmtPrice(f.price[k])}</b><br>${fmtDateTime(f.ts[k], tz)}<br>fee ${fmtNum(f.fee[k], 2)} · slippage ${fmtNum(f.slippage[k], 2)}<br>fill ${f.fillId[k]} · order ${f.orderId[k]}`,
        );
      }
      const color = side === 'buy' ? theme.up : theme.down;
      data.push({
        type: fx.length > GL_MARKERS ? 'scattergl' : 'scatter',
        mode: 'markers',
        name: side === 'buy' ? 'Buy fills' : 'Sell fills',
        x: fx,
        y: fy,
        text: ft,
        hoverinfo: 'text',
        xaxis: 'x',
        yaxis: axisOf.price,
        showlegend: false,
        marker: {
          symbol: side === 'buy' ? 'triangle-up' : 'triangle-down',
          size: markerSize,
          color,
          line: { color: theme.background, width: markerSize > 6 ? 1 : 0 },
        },
      });
    }
    if (p.showOrders) {
      const s = model.segments;
      LEVEL_STYLE.forEach((st, kind) => {
        const lx: (number | null)[] = [];
        const ly: (number | null)[] = [];
        for (let k = 0; k < s.a.length; k++) {
          if (s.kind[k] !== kind || s.b[k]! < s.a[k]! || s.b[k]! < lo || s.a[k]! > hi) continue;
          lx.push(s.a[k]! - 0.5, s.b[k]! + 0.5, null);
          ly.push(s.y[k]!, s.y[k]!, null);
        }
        data.push({
          type: 'scatter',
          mode: 'lines',
          name: st.name,
          x: lx,
          y: ly,
          xaxis: 'x',
          yaxis: axisOf.price,
          hoverinfo: 'name+y',
          showlegend: false,
          connectgaps: false,
          line: { color: withAlpha(st.up ? theme.up : theme.down, 0.85), width: 1.5, dash: st.dash },
        });
      });
    }
    if (axisOf.volume) {
      data.push({
        type: 'bar',
        name: 'Volume',
        x,
        y: sl(c.volume),
        xaxis: 'x',
        yaxis: axisOf.volume,
        hoverinfo: 'y',
        showlegend: false,
        marker: { color: withAlpha(theme.muted, 0.45) },
      });
    }
    if (axisOf.spread) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: 'Spread',
        x,
        y: sl(c.spread),
        xaxis: 'x',
        yaxis: axisOf.spread,
        hoverinfo: 'name+y',
        showlegend: false,
        connectgaps: false,
        line: { color: theme.warn, width: 1 },
      });
    }
    const e = model.equity;
    const e0 = Math.max(0, lowerBound(e.i, lo) - 1);
    const e1 = Math.min(e.i.length, lowerBound(e.i, hi + 1) + 1);
    const ex = e.i.slice(e0, e1);
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: 'Equity',
      x: ex,
      y: e.equity.slice(e0, e1),
      xaxis: 'x',
      yaxis: axisOf.equity,
      hoverinfo: 'name+y',
      showlegend: false,
      line: { color: theme.equity, width: 1.5 },
    });
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: 'Drawdown',
      x: ex,
      y: e.drawdown.slice(e0, e1).map((v) => -v),
      xaxis: 'x',
      yaxis: bottomAxis,
      hoverinfo: 'name+y',
      showlegend: false,
      fill: 'tozeroy',
      fillcolor: withAlpha(theme.drawdown, 0.25),
      line: { color: theme.drawdown, width: 1 },
    });
    const ticks = indexTicks(c.i, c.ts, a, b, tz, 8);
    // the zone as an annotation, not an axis title: Plotly places a title from the tick labels'
    // boxes and computes y = -Infinity when a window has no tick yet
    annotations.push({
      text: `Time (${tz})`,
      xref: 'paper',
      yref: 'paper',
      x: 1,
      y: 0,
      xanchor: 'right',
      yanchor: 'top',
      yshift: -20,
      showarrow: false,
      font: { size: 10, color: theme.muted },
    });
    const shapes =
      model.cursor === null
        ? []
        : [
            {
              type: 'line',
              xref: 'x',
              yref: 'paper',
              x0: model.cursor,
              x1: model.cursor,
              y0: 0,
              y1: 1,
              line: { color: theme.accent, width: 1, dash: 'dot' },
            },
          ];
    const layout = {
      ...layoutAxes,
      xaxis: {
        range: [a, b],
        tickvals: ticks.vals,
        ticktext: ticks.text,
        anchor: bottomAxis,
        gridcolor: theme.grid,
        zeroline: false,
        showspikes: true,
        spikemode: 'across',
        spikesnap: 'cursor',
        spikethickness: 1,
        spikecolor: theme.muted,
        spikedash: 'dot',
        rangeslider: { visible: false },
        tickfont: { size: 10, color: theme.muted },
      },
      annotations,
      shapes,
      margin: { l: 8, r: 8, t: 6, b: 36 },
      showlegend: false,
      dragmode: 'zoom',
      hovermode: 'x',
      hoverdistance: 20,
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      font: { family: theme.font, size: 11, color: theme.foreground },
      hoverlabel: { bgcolor: theme.background, bordercolor: theme.border, font: { color: theme.foreground, family: theme.font, size: 11 } },
      uirevision: 'run-chart',
    };
    return { data, layout };
  }, [model, p.revision, range[0], range[1], theme, tz, p.showVolume, p.showSpread, p.showOrders, p.hasQuotes, painted]);

  const drawn = () => {
    if (model.candles.i.length > 0) {
      markFirstChart();
      if (!painted) requestAnimationFrame(() => setPainted(true));
    }
    p.onDrawn?.();
  };
  return (
    <PlotlyChart
      class="run-chart"
      data={figure.data}
      layout={figure.layout}
      label={`Price with fills, equity and drawdown, ${Math.round(range[1] - range[0])} bars visible`}
      onXRange={p.onRange}
      onDrawn={drawn}
    />
  );
}
