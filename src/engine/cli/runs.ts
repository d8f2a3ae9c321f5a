/**
 * `btnb runs list|show|delete|tag|note|verify`: the run catalog from the command line.
 */
import { rm } from 'node:fs/promises';
import { parseArgs, UsageError, intOption } from './args.ts';
import type { CliCommand } from './commands.ts';
import { RUN_STATUSES, type MetricRange, type RunFilter, type RunRow, type RunStatus } from '../ports/catalog.ts';

const HELP = `Usage: btnb runs list [--status S] [--strategy S] [--dataset ID] [--search TEXT]
                      [--min METRIC=X] [--max METRIC=X] [--sort METRIC] [--limit N] [--json]
       btnb runs show ID [--artifacts] [--json]  (--artifacts: re-create a light sweep point's files first)
       btnb runs delete ID [--force]  (the catalog row and its artifacts; --force for a stale queued/running row)
       btnb runs tag ID TAG [--remove]
       btnb runs note ID TEXT
       btnb runs verify ID [--json]   (re-run, compare artifact hashes)

Common: --data-dir D (default: $BTNB_DATA_DIR or ./data)
list: newest first; --search is full-text over strategy, symbol, tags and notes;
      --min/--max filter on a metrics.json key (e.g. --min sharpe=1 --max max_drawdown=0.2).`;

function metricRanges(mins: string[] = [], maxs: string[] = []): MetricRange[] {
  const ranges = new Map<string, MetricRange>();
  const add = (item: string, bound: 'min' | 'max') => {
    const m = /^([a-z_]+)=(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$/.exec(item);
    if (!m) throw new UsageError(`--${bound} expects METRIC=NUMBER, got '${item}'`);
    const r = ranges.get(m[1]!) ?? { key: m[1]! };
    r[bound] = Number(m[2]);
    ranges.set(m[1]!, r);
  };
  for (const x of mins) add(x, 'min');
  for (const x of maxs) add(x, 'max');
  return [...ranges.values()];
}

const fmtPct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(2)}%`);
const fmtNum = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(2));

function table(runs: RunRow[]): string {
  const rows = runs.map((r) => [
    r.run_id,
    r.status,
    r.strategy_id,
    r.symbol ?? '',
    fmtPct(r.metrics?.total_return),
    fmtNum(r.metrics?.sharpe),
    fmtPct(r.metrics?.max_drawdown),
    String(r.metrics?.num_trades ?? '—'),
    r.created_at.slice(0, 19).replace('T', ' '),
    r.tags.join(','),
  ]);
  const head = ['run_id', 'status', 'strategy', 'symbol', 'return', 'sharpe', 'max_dd', 'trades', 'created (UTC)', 'tags'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 4 && i <= 7 ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export const command: CliCommand = {
  summary: 'list, show, tag, annotate, delete and verify backtest runs',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {
      'data-dir': { type: 'string' },
      status: { type: 'string' },
      strategy: { type: 'string' },
      dataset: { type: 'string' },
      search: { type: 'string' },
      min: { type: 'multi' },
      max: { type: 'multi' },
      sort: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      remove: { type: 'boolean' },
      force: { type: 'boolean' },
      artifacts: { type: 'boolean' },
    });
    const [sub, id, ...rest] = args.positionals;
    const json = args.flags.has('json');
    const { resolveDataDir, dataPaths } = await import('../dataDir.ts');
    const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
    const dataDir = resolveDataDir(args.values.get('data-dir'));
    await (await import('./recover.ts')).settleAbandoned(dataDir);
    const needId = () => {
      if (id === undefined) throw new UsageError(`runs ${sub}: missing run ID`);
      return id;
    };
    const cat = openCatalog(dataPaths(dataDir).catalog);
    const get = (runId: string) => {
      const r = cat.getRun(runId);
      if (!r) throw new Error(`run '${runId}' is not in the catalog ${cat.path}`);
      return r;
    };
    try {
      switch (sub) {
        case 'list': {
          if (id !== undefined) throw new UsageError(`unexpected argument '${id}'`);
          const status = args.values.get('status');
          if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status))
            throw new UsageError(`--status expects one of ${RUN_STATUSES.join(', ')}, got '${status}'`);
          const filter: RunFilter = { limit: intOption(args, 'limit', 1000)! };
          if (status) filter.status = status as RunStatus;
          const strategy = args.values.get('strategy');
          if (strategy) filter.strategy = strategy;
          const ds = args.values.get('dataset');
          if (ds) filter.datasetId = ds;
          const search = args.values.get('search');
          if (search) filter.search = search;
          const metrics = metricRanges(args.multi.get('min'), args.multi.get('max'));
          if (metrics.length) filter.metrics = metrics;
          const sort = args.values.get('sort');
          if (sort) filter.sortBy = sort;
          const runs = cat.listRuns(filter);
          process.stdout.write(json ? `${JSON.stringify(runs)}\n` : runs.length ? table(runs) : 'no runs\n');
          return 0;
        }
        case 'show': {
          let r = get(needId());
          let files: { file: string; bytes: number }[] | null = null;
          if (args.flags.has('artifacts')) {
            const { ensureRunArtifacts } = await import('../backtest/materialize.ts');
            const fsp = await import('node:fs/promises');
            const path = await import('node:path');
            const join = (a: string, b: string) => path.join(a, b);
            const dir = await ensureRunArtifacts(dataDir, cat, r.run_id);
            r = get(r.run_id);
            files = await Promise.all(
              (await fsp.readdir(dir)).sort().map(async (f) => ({ file: join(dir, f), bytes: (await fsp.stat(join(dir, f))).size })),
            );
          }
          const dir = dataPaths(dataDir).runDir(r.run_id);
          if (json) {
            process.stdout.write(`${JSON.stringify(files ? { ...r, artifacts: files } : r)}\n`);
            return 0;
          }
          const { metricsTable } = await import('../backtest/format.ts');
          const lines = [
            `run ${r.run_id}  ${r.status}`,
            `strategy   ${r.strategy_id} ${JSON.stringify(r.params)}`,
            `dataset    ${r.dataset_id} (${r.symbol ?? '?'}), session ${r.session}, seed ${r.seed}`,
            `costs      ${JSON.stringify(r.costs)}`,
            `input_hash ${r.input_hash}`,
            `code_hash  ${r.code_hash}`,
            `created    ${r.created_at}  started ${r.started_at ?? '—'}  finished ${r.finished_at ?? '—'}`,
            `tags       ${r.tags.join(', ') || '—'}`,
            `notes      ${r.notes || '—'}`,
          ];
          if (r.error) lines.push(`error      ${r.error}`);
          const where = files
            ? `artifacts: ${dir}\n${files.map((f) => `  ${f.file}  ${f.bytes} bytes`).join('\n')}`
            : r.materialized || r.status !== 'succeeded'
              ? `artifacts: ${dir}`
              : `artifacts: not written yet (a light sweep point); \`btnb runs show ${r.run_id} --artifacts\` re-creates them in ${dir}`;
          process.stdout.write(`${lines.join('\n')}\n\n${metricsTable(r.metrics)}\n${where}\n`);
          return 0;
        }
        case 'delete': {
          const r = get(needId());
          if ((r.status === 'running' || r.status === 'queued') && !args.flags.has('force')) {
            throw new Error(`run '${r.run_id}' is ${r.status}; cancel it first (or --force if its process is gone)`);
          }
          await rm(dataPaths(dataDir).runDir(r.run_id), { recursive: true, force: true });
          cat.deleteRun(r.run_id);
          process.stdout.write(
            json ? `${JSON.stringify({ run_id: r.run_id, deleted: true })}\n` : `deleted run ${r.run_id} and its artifacts\n`,
          );
          return 0;
        }
        case 'tag': {
          const runId = needId();
          const tag = rest[0];
          if (tag === undefined) throw new UsageError('runs tag: missing TAG');
          const r = args.flags.has('remove') ? cat.removeTag(get(runId).run_id, tag) : cat.addTag(get(runId).run_id, tag);
          process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${r.run_id}: tags ${r.tags.join(', ') || '—'}\n`);
          return 0;
        }
        case 'note': {
          const runId = needId();
          if (rest.length === 0) throw new UsageError('runs note: missing TEXT');
          const r = cat.setNotes(get(runId).run_id, rest.join(' '));
          process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${r.run_id}: notes set\n`);
          return 0;
        }
        case 'verify': {
          const { verifyRun } = await import('../backtest/verify.ts');
          const rep = await verifyRun(dataDir, cat, needId());
          if (json) process.stdout.write(`${JSON.stringify(rep)}\n`);
          else {
            for (const f of rep.files)
              process.stdout.write(
                `${f.ok ? 'ok      ' : 'MISMATCH'}  ${f.file.padEnd(15)} ${f.rerun}${f.ok ? '' : ` (stored ${f.stored ?? 'missing'})`}\n`,
              );
            process.stdout.write(rep.code_hash_ok ? '' : 'MISMATCH  code_hash: the strategy code changed since the run\n');
            process.stdout.write(
              !rep.ok
                ? `run ${rep.run_id}: NOT reproducible\n`
                : rep.light
                  ? `run ${rep.run_id}: verified, its re-run gives the recorded metrics (a light sweep point: no artifacts written yet)\n`
                  : `run ${rep.run_id}: verified, artifacts reproduce byte for byte\n`,
            );
          }
          return rep.ok ? 0 : 1;
        }
        default:
          throw new UsageError(
            sub === undefined ? 'missing subcommand (list, show, delete, tag, note, verify)' : `unknown subcommand '${sub}'`,
          );
      }
    } finally {
      cat.close();
    }
  },
};
