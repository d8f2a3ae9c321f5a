import { PRODUCT_VERSION } from '../version.ts';
import { runCli } from './commands.ts';

let settled = false;
// Work that was dropped (a promise no handle keeps alive) must not look like a success.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('btnb: internal error: the command stopped before finishing (no pending work left)\n');
  process.exitCode = 70;
});
runCli(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`btnb: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
void PRODUCT_VERSION;
