// The CLI's command table: each command's `btnb --help` line, and its module, loaded only when
// that command runs (or shows its own help). `btnb --help` loads no command module at all; a
// unit test keeps each summary here equal to the one its module declares.
import type { CliCommand } from './commands.ts';

export interface CommandEntry {
  summary: string;
  load: () => Promise<CliCommand>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  version: {
    summary: 'print the version',
    load: async () => ({
      summary: 'print the version',
      help: 'Usage: btnb version',
      run: async () => {
        const { PRODUCT_VERSION } = await import('../version.ts');
        process.stdout.write(`${PRODUCT_VERSION}\n`);
        return 0;
      },
    }),
  },
  db: { summary: 'create/migrate a catalog file (apply) or describe it (info)', load: async () => (await import('./db.ts')).command },
  data: { summary: 'import, synthesize, derive and inspect market data (datasets)', load: async () => (await import('./data.ts')).command },
  decode: {
    summary: 'decode a DBN file: summary, or records as JSON lines',
    load: async () => (await import('./decode.ts')).decodeCommand,
  },
  backtest: { summary: 'run a backtest (catalog run + artifacts)', load: async () => (await import('./backtest.ts')).command },
  runs: { summary: 'list, show, tag, annotate, delete and verify backtest runs', load: async () => (await import('./runs.ts')).command },
  sweep: {
    summary: 'parameter sweep (parallel workers) or walk-forward optimisation',
    load: async () => (await import('./sweep.ts')).command,
  },
  worker: {
    summary: 'run distributed sweep points from a BullMQ queue on Redis for a coordinator',
    load: async () => (await import('./worker.ts')).command,
  },
  demo: { summary: 'end-to-end demo: synth → import → derive → backtest sma-cross', load: async () => (await import('./demo.ts')).command },
  replay: {
    summary: 'replay a finished run as frame-protocol messages (JSON lines, or interactive with --control)',
    load: async () => (await import('./replay.ts')).command,
  },
  serve: {
    summary: 'serve the catalog, backtests and replays over HTTP (REST + WebSocket) on 127.0.0.1',
    load: async () => (await import('./serve.ts')).command,
  },
};
