/**
 * Plotly as a partial bundle: only the traces the views draw (candlestick, scatter, scattergl,
 * bar, heatmap), loaded by dynamic import so views without charts never load it. scattergl is
 * Plotly's "strict" variant (precompiled regl shaders): no eval, so the webview CSP needs no
 * 'unsafe-eval'. Its styles go into a <style> element the page created with the CSP nonce.
 */
import Plotly from 'plotly.js/lib/core';
import candlestick from 'plotly.js/lib/candlestick';
import bar from 'plotly.js/lib/bar';
import heatmap from 'plotly.js/lib/heatmap';
// @ts-expect-error the strict scattergl variant has no type declarations
import scattergl from 'plotly.js/src/traces/scattergl/strict';

export interface PlotlyApi {
  react(el: HTMLElement, data: unknown[], layout: unknown, config?: unknown): Promise<unknown>;
  relayout(el: HTMLElement, update: unknown): Promise<unknown>;
  purge(el: HTMLElement): void;
  Plots: { resize(el: HTMLElement): Promise<unknown> };
}

(Plotly as unknown as { register(m: unknown[]): void }).register([candlestick, bar, heatmap, scattergl]);

export default Plotly as unknown as PlotlyApi;
