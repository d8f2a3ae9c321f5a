// The CLI's command table: one line per command, each loaded lazily.
import { registerLazy } from './commands.ts';

registerLazy('version', async () => ({
  summary: 'print the version',
  help: 'Usage: btnb version',
  run: async () => {
    const { PRODUCT_VERSION } = await import('../version.ts');
    process.stdout.write(`${PRODUCT_VERSION}\n`);
    return 0;
  },
}));
registerLazy('db', async () => (await import('./db.ts')).command);
registerLazy('data', async () => (await import('./data.ts')).command);
registerLazy('decode', async () => (await import('./decode.ts')).decodeCommand);
registerLazy('backtest', async () => (await import('./backtest.ts')).command);
registerLazy('runs', async () => (await import('./runs.ts')).command);
registerLazy('sweep', async () => (await import('./sweep.ts')).command);
registerLazy('demo', async () => (await import('./demo.ts')).command);
registerLazy('replay', async () => (await import('./replay.ts')).command);
