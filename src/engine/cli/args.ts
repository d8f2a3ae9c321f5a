/** Minimal, strict argv parser: `--flag`, `--key value`, `--key=value`, repeated keys, positionals. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  /** 'boolean' takes no value; 'string' takes one; 'multi' may repeat and collects values. */
  type: 'boolean' | 'string' | 'multi';
}

export interface ParsedArgs {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
  multi: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Set(), values: new Map(), multi: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) throw new UsageError(`unknown option ${arg}`);
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const opt = spec[name];
    if (!opt) throw new UsageError(`unknown option --${name}`);
    if (opt.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i]!;
    }
    if (opt.type === 'multi') {
      const list = out.multi.get(name) ?? [];
      list.push(value);
      out.multi.set(name, list);
    } else {
      if (out.values.has(name)) throw new UsageError(`--${name} given twice`);
      out.values.set(name, value);
    }
  }
  return out;
}

/** Parses a non-negative integer option, or throws a UsageError naming it. */
export function intOption(args: ParsedArgs, name: string, fallback?: number): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} expects a non-negative integer, got '${raw}'`);
  return Number(raw);
}
