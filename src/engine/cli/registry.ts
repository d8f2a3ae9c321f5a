// The CLI's command table: one line per command, each module loaded only when its command runs.
import type { CliCommand } from './commands.ts';

export const COMMANDS: Readonly<Record<string, () => Promise<CliCommand>>> = {
  version: async () => ({
    summary: 'print the version',
    help: 'Usage: btnb version',
    run: async () => {
      const { PRODUCT_VERSION } = await import('../version.ts');
      process.stdout.write(`${PRODUCT_VERSION}\n`);
      return 0;
    },
  }),
  db: async () => (await import('./db.ts')).command,
  data: async () => (await import('./data.ts')).command,
  decode: async () => (await import('./decode.ts')).decodeCommand,
  backtest: async () => (await import('./backtest.ts')).command,
  runs: async () => (await import('./runs.ts')).command,
  sweep: async () => (await import('./sweep.ts')).command,
  demo: async () => (await import('./demo.ts')).command,
  replay: async () => (await import('./replay.ts')).command,
};
