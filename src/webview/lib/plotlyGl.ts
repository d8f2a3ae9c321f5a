/**
 * Plotly's WebGL scatter (the "strict" variant: precompiled shaders, no eval), loaded on its own
 * only when a chart has more markers than SVG draws quickly: regl and the shader code are a
 * third of the Plotly bundle, and most charts never need them.
 */
// @ts-expect-error the strict scattergl variant has no type declarations
import scattergl from 'plotly.js/src/traces/scattergl/strict';
import Plotly from './plotly.ts';

(Plotly as unknown as { register(m: unknown[]): void }).register([scattergl]);

export default Plotly;
