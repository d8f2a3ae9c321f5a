/**
 * How a failed run is told in one line (CLI, sweep results): the message, and where in the
 * strategy's own file it threw. No imports: the CLI's error path loads it without the engine.
 */
/** The stack frames of a strategy's own code (its file:line:column), not the engine's or Node's. */
export function userFrames(stack: string | undefined, max = 3): string[] {
  if (!stack) return [];
  return stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l) && !/[\\/](src[\\/]engine|dist)[\\/]|node:internal|\(node:/.test(l))
    .slice(0, max)
    .map((l) => l.trim());
}

/** One line for a failed run: the message, and where in the strategy it threw when it did. */
export function errorSummary(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const at = err.name === 'StrategyError' ? userFrames(err.stack, 1)[0] : undefined;
  return at ? `${err.message} (${at})` : err.message;
}
