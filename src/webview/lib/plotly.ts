/**
 * Plotly as a partial bundle: only the traces the views draw (candlestick, scatter, bar, heatmap
 * here; scattergl in plotlyGl.ts, loaded only for charts with very many markers), by dynamic
 * import so views without charts never load it. Its styles go into a <style> element the page
 * created with the CSP nonce.
 */
import Plotly from 'plotly.js/lib/core';
import candlestick from 'plotly.js/lib/candlestick';
import bar from 'plotly.js/lib/bar';
import heatmap from 'plotly.js/lib/heatmap';

export interface PlotlyApi {
  react: (el: HTMLElement, data: unknown[], layout: unknown, config?: unknown) => Promise<unknown>;
  relayout: (el: HTMLElement, update: unknown) => Promise<unknown>;
  purge: (el: HTMLElement) => void;
  Plots: { resize(el: HTMLElement): Promise<unknown> };
}

(Plotly as unknown as { register(m: unknown[]): void }).register([candlestick, bar, heatmap]);

export default Plotly as unknown as PlotlyApi;
