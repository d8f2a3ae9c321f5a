/**
 * parquet-wasm behind a module of its own, for table.ts to import on first use: requiring it
 * compiles its ~5 MB WebAssembly module (~20 ms), which a process that never reads or writes
 * Parquet through it should not pay. Bundled, `await import('./parquetWasm.ts')` becomes a
 * lazily evaluated `require('parquet-wasm')` (a dynamic import of the package itself would stay
 * an ES-module import of a CommonJS package at run time).
 */
import * as pq from 'parquet-wasm';

export { pq };
