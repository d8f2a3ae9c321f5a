import { userFrames } from '../backtest/errorFrames.ts';
import { PRODUCT_VERSION } from '../version.ts';
import { UsageError } from './args.ts';

/** One CLI command: `run` returns the exit code (0 ok, 1 failure); usage errors throw UsageError. */
export interface CliCommand {
  summary: string;
  help: string;
  /** Help for a subcommand (`btnb data fetch --help`); falls back to `help`. */
  helpFor?(argv: string[]): Promise<string | undefined>;
  run(argv: string[]): Promise<number>;
}

function mainHelp(summaries: [string, string][]): string {
  const width = Math.max(...summaries.map(([n]) => n.length), 8);
  return [
    `btnb ${PRODUCT_VERSION} — Backtest Notebook command line`,
    '',
    'Usage: btnb <command> [options]',
    '',
    'Commands:',
    ...summaries.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
    '',
    "Run `btnb <command> --help` for a command's options.",
    'Exit codes: 0 success, 1 failure, 2 usage error. Data goes to stdout, errors to stderr.',
    '',
  ].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  const { COMMANDS: commands } = await import('./registry.ts');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp(Object.entries(commands).map(([n, c]) => [n, c.summary])));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${PRODUCT_VERSION}\n`);
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    process.stderr.write(`btnb: unknown command '${name}'. Run \`btnb --help\`.\n`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    const text = (await cmd.helpFor?.(rest)) ?? cmd.help;
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`btnb ${name}: ${err.message}\n${cmd.help.split('\n')[0]}\n`);
      return 2;
    }
    process.stderr.write(`btnb ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    // a strategy's own frames (its file:line:column), not the engine's
    if (err instanceof Error && err.name === 'StrategyError') for (const l of userFrames(err.stack)) process.stderr.write(`    ${l}\n`);
    if (process.env.BTNB_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
