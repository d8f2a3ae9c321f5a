/**
 * `btnb db apply FILE [--json]`: creates or migrates a catalog file to the current schema and
 * prints the resulting user_version (the seed's `db-apply`). `btnb db info FILE [--json]` shows
 * the version, counts and change counter without changing anything but a pending migration.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, UsageError } from './args.ts';
import type { CliCommand } from './commands.ts';

const HELP = `Usage: btnb db apply FILE [--json]
       btnb db info FILE [--json]

  apply   create FILE if needed and apply pending catalog migrations (PRAGMA user_version);
          prints the resulting schema version
  info    migrate if needed, then print version, dataset/run counts and the change counter

Options:
  --json  one JSON object on stdout`;

export const command: CliCommand = {
  summary: 'create/migrate a catalog file (apply) or describe it (info)',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, { json: { type: 'boolean' } });
    const [sub, file, ...extra] = args.positionals;
    if (sub !== 'apply' && sub !== 'info')
      throw new UsageError(sub === undefined ? 'missing subcommand (apply or info)' : `unknown subcommand '${sub}'`);
    if (file === undefined) throw new UsageError('missing FILE');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const path = resolve(file);
    const existed = existsSync(path);
    const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
    const before = existed ? await readVersion(path) : 0;
    const cat = openCatalog(path);
    try {
      const version = cat.schemaVersion;
      if (sub === 'apply') {
        if (args.flags.has('json'))
          process.stdout.write(`${JSON.stringify({ file: path, created: !existed, from_version: before, user_version: version })}\n`);
        else
          process.stdout.write(`${path}: user_version ${version}${before === version ? ' (up to date)' : ` (migrated from ${before})`}\n`);
      } else {
        const count = (sql: string) => (cat.db.prepare(sql).get() as { n: number }).n;
        const info = {
          file: path,
          user_version: version,
          datasets: count('SELECT count(*) AS n FROM datasets'),
          runs: count('SELECT count(*) AS n FROM runs'),
          change_counter: cat.changeCounter(),
          journal_mode: cat.db.pragma('journal_mode', { simple: true }),
        };
        if (args.flags.has('json')) process.stdout.write(`${JSON.stringify(info)}\n`);
        else for (const [k, v] of Object.entries(info)) process.stdout.write(`${k.padEnd(15)} ${String(v)}\n`);
      }
    } finally {
      cat.close();
    }
    return 0;
  },
};

async function readVersion(path: string): Promise<number> {
  // Peek before migrating so `apply` can say what it did; a non-database fails in openCatalog with the path.
  const { default: Database } = await import('better-sqlite3');
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}
