// Compiles the WebAssembly text sources in src/engine/**/kernel/*.wat into TypeScript modules
// that embed the binary (base64), so the engine loads them from source (node --strip-types)
// and from any bundle without a file beside it. `npm run gen:wasm`; a unit test checks that the
// committed modules match their .wat sources.
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';

export const KERNEL_DIRS = ['src/engine/dbn/kernel'];

/** The TypeScript module text for one .wat source (deterministic: same source, same bytes). */
export async function wasmModuleText(watPath) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(watPath, readFileSync(watPath, 'utf8'));
  try {
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
    const name = watPath.split('/').pop();
    return (
      `// Generated from ${name} by scripts/gen-wasm.mjs (npm run gen:wasm). Do not edit.\n` +
      `export const WASM_BASE64 =\n  '${Buffer.from(buffer).toString('base64')}';\n`
    );
  } finally {
    mod.destroy();
  }
}

export function targetOf(watPath) {
  return watPath.replace(/\.wat$/, 'Wasm.ts');
}

export function watSources(root = '.') {
  return KERNEL_DIRS.flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => f.endsWith('.wat'))
      .map((f) => join(root, d, f)),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const wat of watSources()) {
    const out = targetOf(wat);
    writeFileSync(`${out}.tmp`, await wasmModuleText(wat));
    renameSync(`${out}.tmp`, out);
    console.log(`${wat} -> ${out}`);
  }
}
