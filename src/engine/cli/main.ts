import { PRODUCT_VERSION } from '../version.ts';
import { runCli } from './commands.ts';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`btnb: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
void PRODUCT_VERSION;
