/** The time the extension bundle started evaluating (imported first by extension.ts), for bench:ext. */
export const LOAD_T0 = performance.now();
