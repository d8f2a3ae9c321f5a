/**
 * Injected at the top of the extension-host bundles (esbuild `inject`). In VS Code's extension
 * host, reading `navigator` logs a PendingMigrationError; zod reads it once, to decide whether
 * its parsers may be compiled with `new Function`. jitless skips that probe (and the eval):
 * message parsing in the host is never the hot path. zod keeps its configuration on
 * `globalThis.__zod_globalConfig` (its `config()` writes the same object); setting it here
 * needs no zod at activation.
 */
const g = globalThis as { __zod_globalConfig?: { jitless?: boolean } };
(g.__zod_globalConfig ??= {}).jitless = true;
