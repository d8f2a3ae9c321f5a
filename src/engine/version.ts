/** Product and engine versions. ENGINE_VERSION enters every run's input_hash and code_hash. */
export const PRODUCT_VERSION = '0.1.0';
export const ENGINE_VERSION = '1';
/** Bumped whenever bar derivation changes its output; enters dataset_id (docs/bars.md). */
export const DERIVE_VERSION = 1;
