/**
 * `btnb data import|synth|derive|list|show|fetch` — the data half of the CLI (issue 3).
 * Human output on stdout by default; `--json` prints one JSON document on stdout and keeps
 * progress on stderr. `fetch` is delegated to dataFetch.ts (Databento download).
 */
import { resolve } from 'node:path';
import { intOption, parseArgs, type ParsedArgs, UsageError } from './args.ts';
import type { CliCommand } from './commands.ts';
import { formatDatasets, jsonText, phaseLine, type DatasetLike } from './output.ts';

const HELP = `Usage: btnb data <import|synth|derive|list|show|fetch> [options]

  import FILE... [--symbol S] [--derive] [--json]
        copy DBN trades/tbbo files into the raw cache and register one dataset per symbol
  synth --symbol DEMO --start 2024-03-04 --days 5 --seed 7 [--out DIR] [--trades-per-day N]
        [--raw] [--import] [--derive] [--json]
        write synthetic DBN v3 trades + tbbo files (dataset SYNTH; same seed → same bytes)
  derive DATASET_ID [--json]       build bars-1m.parquet + manifest.json
  list [--json]                    the datasets in the catalog
  show DATASET_ID [--rows N] [--json]   manifest and the first bars
  fetch ...                        download from Databento (btnb data fetch --help)

Every subcommand takes --data-dir DIR (default: env BTNB_DATA_DIR, else ./data).`;

async function dataDirOf(args: ParsedArgs): Promise<string> {
  const { resolveDataDir } = await import('../dataDir.ts');
  const dir = resolveDataDir(args.values.get('data-dir'));
  await (await import('./recover.ts')).settleAbandoned(dir);
  return dir;
}

function jsonOut(v: unknown): void {
  process.stdout.write(jsonText(v));
}

async function runImport(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    symbol: { type: 'string' },
    derive: { type: 'boolean' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
  });
  if (args.positionals.length === 0) throw new UsageError('import: give at least one FILE');
  const dataDir = await dataDirOf(args);
  const { importFiles } = await import('../ingest/importFiles.ts');
  const progress = phaseLine();
  const res = await importFiles(
    args.positionals.map((p) => resolve(p)),
    {
      dataDir,
      symbol: args.values.get('symbol'),
      derive: args.flags.has('derive'),
      onProgress: progress.onProgress,
    },
  );
  progress.end();
  if (args.flags.has('json')) jsonOut(res);
  else process.stdout.write(formatDatasets(res.datasets, dataDir));
  return 0;
}

async function runSynth(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    symbol: { type: 'string' },
    start: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'trades-per-day': { type: 'string' },
    raw: { type: 'boolean' },
    import: { type: 'boolean' },
    derive: { type: 'boolean' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
  });
  if (args.positionals.length > 0) throw new UsageError(`synth: unexpected argument '${args.positionals[0]}'`);
  const { synthesize } = await import('../ingest/synth.ts');
  const tpd = intOption(args, 'trades-per-day');
  if (tpd !== undefined && tpd < 1) throw new UsageError('--trades-per-day must be at least 1');
  const res = await synthesize({
    symbol: args.values.get('symbol') ?? 'DEMO',
    start: args.values.get('start') ?? '2024-03-04',
    days: intOption(args, 'days', 5)!,
    seed: intOption(args, 'seed', 7)!,
    outDir: resolve(args.values.get('out') ?? '.'),
    compress: !args.flags.has('raw'),
    tradesPerDay: tpd,
  });
  let datasets: DatasetLike[] | undefined;
  let dataDir = '';
  if (args.flags.has('import') || args.flags.has('derive')) {
    dataDir = await dataDirOf(args);
    const { importFiles } = await import('../ingest/importFiles.ts');
    const progress = phaseLine();
    datasets = (await importFiles(res.files, { dataDir, derive: args.flags.has('derive'), onProgress: progress.onProgress })).datasets;
    progress.end();
  }
  if (args.flags.has('json')) {
    jsonOut({ files: res.files, trades: res.trades, trading_days: res.tradingDays, ...(datasets ? { datasets } : {}) });
  } else {
    for (const f of res.files) process.stdout.write(`${f}\n`);
    process.stdout.write(
      `${res.trades} trades over ${res.tradingDays.length} trading days (${res.tradingDays[0]} … ${res.tradingDays[res.tradingDays.length - 1]})\n`,
    );
    if (datasets) process.stdout.write(formatDatasets(datasets, dataDir));
  }
  return 0;
}

async function runDerive(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: { type: 'boolean' }, 'data-dir': { type: 'string' } });
  const [id, extra] = args.positionals;
  if (id === undefined || extra !== undefined) throw new UsageError('derive: give exactly one DATASET_ID');
  const dataDir = await dataDirOf(args);
  const { LocalMarketData } = await import('../ingest/localMarketData.ts');
  const t0 = performance.now();
  const progress = phaseLine();
  const r = await new LocalMarketData({ dataDir }).deriveBars(id, { onProgress: progress.onProgress });
  progress.end();
  const seconds = (performance.now() - t0) / 1000;
  if (args.flags.has('json')) jsonOut({ ...r, seconds });
  else {
    process.stdout.write(`${r.dataset_id}  ${r.symbol}  ${r.bar_count} bars  ${r.start ?? '-'} → ${r.end ?? '-'}\n`);
    process.stdout.write(`  bars: ${resolve(dataDir, r.bars_path)}\n  manifest: ${resolve(dataDir, r.manifest_path)}\n`);
    process.stdout.write(`  ${r.records} records, ${(r.bytes / 1e6).toFixed(1)} MB decoded in ${seconds.toFixed(2)} s\n`);
  }
  return 0;
}

async function openCatalogAt(dataDir: string) {
  const [{ openCatalog }, { dataPaths }] = await Promise.all([import('../catalog/sqliteCatalog.ts'), import('../dataDir.ts')]);
  return openCatalog(dataPaths(dataDir).catalog);
}

async function runList(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: { type: 'boolean' }, 'data-dir': { type: 'string' } });
  if (args.positionals.length > 0) throw new UsageError(`list: unexpected argument '${args.positionals[0]}'`);
  const cat = await openCatalogAt(await dataDirOf(args));
  try {
    const rows = cat.listDatasets();
    if (args.flags.has('json')) {
      jsonOut({ datasets: rows.map(({ manifest: _m, ...r }) => r) });
      return 0;
    }
    if (rows.length === 0)
      process.stdout.write('No datasets. Import some with `btnb data import FILE...` or `btnb data synth --import`.\n');
    for (const r of rows) {
      process.stdout.write(
        `${r.dataset_id}  ${r.symbol.padEnd(8)}  ${r.schemas.join('+').padEnd(12)}  ${r.status.padEnd(8)}  ${r.start ?? '?'} → ${r.end ?? '?'}  ${r.bar_count ?? '-'} bars\n`,
      );
    }
    return 0;
  } finally {
    cat.close();
  }
}

async function runShow(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: { type: 'boolean' }, rows: { type: 'string' }, 'data-dir': { type: 'string' } });
  const [id, extra] = args.positionals;
  if (id === undefined || extra !== undefined) throw new UsageError('show: give exactly one DATASET_ID');
  const n = intOption(args, 'rows', 10)!;
  const dataDir = await dataDirOf(args);
  const cat = await openCatalogAt(dataDir);
  let row;
  try {
    row = cat.getDataset(id);
  } finally {
    cat.close();
  }
  if (!row) throw new Error(`dataset ${id} is not in the catalog (see \`btnb data list\`)`);
  let bars: Record<string, unknown>[] = [];
  if (row.bars_path) {
    const { readBarsParquet } = await import('../parquet/barsParquet.ts');
    const { barRows } = await import('../bars/barRows.ts');
    bars = barRows(await readBarsParquet(resolve(dataDir, row.bars_path)), n);
  }
  if (args.flags.has('json')) {
    jsonOut({ dataset: row, bars });
    return 0;
  }
  process.stdout.write(
    `${row.dataset_id}  ${row.symbol}  ${row.schemas.join('+')}  status ${row.status}${row.error ? ` (${row.error})` : ''}\n`,
  );
  process.stdout.write(
    `  range ${row.start ?? '?'} → ${row.end ?? '?'}  bars ${row.bar_count ?? '-'}${row.bars_path ? `  ${resolve(dataDir, row.bars_path)}` : ''}\n`,
  );
  for (const s of row.sources)
    process.stdout.write(
      `  source ${s.schema.padEnd(6)} ${s.sha256.slice(0, 12)}…  ${s.bytes} bytes  ${s.records} records  ${s.original_name ?? ''}\n`,
    );
  if (bars.length > 0) {
    const cols = Object.keys(bars[0]!);
    process.stdout.write(`${cols.join('\t')}\n`);
    for (const b of bars)
      process.stdout.write(`${cols.map((c) => (b[c] === null ? 'null' : String(b[c] as number | string))).join('\t')}\n`);
  } else if (!row.bars_path) {
    process.stdout.write(`  not derived yet: btnb data derive ${row.dataset_id}\n`);
  }
  return 0;
}

export const command: CliCommand = {
  summary: 'import, synthesize, derive and inspect market data (datasets)',
  help: HELP,
  async helpFor(argv) {
    return argv[0] === 'fetch' ? (await import('./dataFetch.ts')).DATA_FETCH_HELP : undefined;
  },
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'import':
        return runImport(rest);
      case 'synth':
        return runSynth(rest);
      case 'derive':
        return runDerive(rest);
      case 'list':
        return runList(rest);
      case 'show':
        return runShow(rest);
      case 'fetch': {
        const { runDataFetch } = await import('./dataFetch.ts');
        return runDataFetch(rest);
      }
      default:
        throw new UsageError(
          sub === undefined ? 'missing subcommand (import, synth, derive, list, show, fetch)' : `unknown subcommand '${sub}'`,
        );
    }
  },
};
