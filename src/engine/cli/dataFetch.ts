// `btnb data fetch`: quote (cost, records, size) → confirm → stream each schema from Databento
// into <data>/tmp → importFiles (→ derive). The API key comes only from env DATABENTO_API_KEY
// (never a flag: flags land in shell history and process lists) and is never printed.
import { resolveDataDir } from '../dataDir.ts';
import { DatabentoAbortError, HistoricalClient, validateRangeParams, type HistoricalClientOptions } from '../databento/index.ts';
import {
  downloadAndImport,
  FETCHABLE_SCHEMAS,
  FetchFailedError,
  fetchResultJson,
  quoteFetch,
  type FetchableSchema,
  type FetchQuote,
  type FetchRequest,
} from '../databento/fetchFlow.ts';
import { formatBytes, formatCount, formatUsd, ProgressRenderer } from '../databento/progress.ts';
import { parseArgs, UsageError } from './args.ts';
import { formatDatasets, jsonText, phaseLine } from './output.ts';

export const DATA_FETCH_HELP = `Usage: btnb data fetch --dataset GLBX.MDP3 --symbols ESH4[,..] --schema trades[,tbbo]
                       --start 2024-01-02 --end 2024-01-05 [--stype-in raw_symbol]
                       [--yes] [--derive] [--data-dir D] [--json] [--base-url URL] [--max-attempts N]
                       [--max-cost USD] [--batch-above BYTES]

Downloads trades/tbbo from Databento's historical API and imports them (like \`btnb data import\`).
First asks Databento for each schema's cost, record count and size and shows them; downloads only
after you confirm (on a terminal) or with --yes, and never when the total exceeds --max-cost. --start is inclusive, --end exclusive (UTC unless
an offset is given; dates, ISO-8601 datetimes or UNIX nanoseconds).

Transient failures (timeouts, dropped connections, HTTP 429 honouring Retry-After, 5xx) are retried
with exponential backoff, --max-attempts in all (default 5); a retried get_range download restarts
from scratch. A schema billed at least --batch-above bytes (default 5e9) goes through Databento's
batch API instead: the job is submitted and polled, its files download with resume (HTTP Range)
and are checked by size and SHA-256; an interrupted fetch run again continues the same job and the
partial files (kept in <data-dir>/tmp/batch-*/ until the import succeeds).

Environment: DATABENTO_API_KEY (required), DATABENTO_BASE_URL (default https://hist.databento.com),
BTNB_DATA_DIR, HTTPS_PROXY/HTTP_PROXY/NO_PROXY.
--json prints {"datasets":[…],"cost":{"usd","records","billable_bytes","schemas":[…]},"downloads":[…]} on stdout.
Exit codes: 0 done, 1 failed or declined, 2 usage error (incl. no terminal to confirm and no --yes).`;

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** Injectable process edges (tests, the extension's job runner); defaults are the real process. */
export interface DataFetchIo {
  stdout: Out;
  stderr: Out;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Extra client options (tests: sleep, timeoutMs, maxAttempts). */
  client?: Partial<HistoricalClientOptions>;
  signal?: AbortSignal;
}

const SPEC = {
  dataset: { type: 'string' },
  symbols: { type: 'string' },
  schema: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  'stype-in': { type: 'string' },
  yes: { type: 'boolean' },
  derive: { type: 'boolean' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  'base-url': { type: 'string' },
  'max-attempts': { type: 'string' },
  'max-cost': { type: 'string' },
  'batch-above': { type: 'string' },
} as const;

function required(values: Map<string, string>, name: string): string {
  const v = values.get(name);
  if (v === undefined || v.trim() === '') throw new UsageError(`--${name} is required`);
  return v.trim();
}

/** Parses and checks the flags; throws UsageError naming the flag. */
export function parseFetchArgs(argv: string[]): {
  request: FetchRequest;
  yes: boolean;
  derive: boolean;
  json: boolean;
  dataDirFlag: string | undefined;
  baseUrl: string | undefined;
  maxAttempts: number | undefined;
  maxCostUsd: number | undefined;
  batchAboveBytes: number | undefined;
} {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length) throw new UsageError(`unexpected argument '${a.positionals[0]}'`);
  const schemas = [
    ...new Set(
      required(a.values, 'schema')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  for (const s of schemas) {
    if (!(FETCHABLE_SCHEMAS as readonly string[]).includes(s)) {
      throw new UsageError(
        `--schema: '${s}' is not supported; expected ${FETCHABLE_SCHEMAS.join(' and/or ')} (what derive builds bars from)`,
      );
    }
  }
  const request: FetchRequest = {
    dataset: required(a.values, 'dataset'),
    symbols: required(a.values, 'symbols')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    start: required(a.values, 'start'),
    end: required(a.values, 'end'),
    stypeIn: a.values.get('stype-in') ?? 'raw_symbol',
    schemas: schemas as FetchableSchema[],
  };
  try {
    validateRangeParams({ ...request, schema: schemas[0]! });
  } catch (err) {
    const msg = (err as Error).message.replace(
      /^(dataset|symbols|start|end|stype_in|limit):/,
      (_, f: string) => `--${f.replace('_', '-')}:`,
    );
    throw new UsageError(msg);
  }
  const ma = a.values.get('max-attempts');
  if (ma !== undefined && !/^[1-9]\d*$/.test(ma)) throw new UsageError(`--max-attempts expects a positive integer, got '${ma}'`);
  const mc = a.values.get('max-cost');
  if (mc !== undefined && !/^\d+(\.\d+)?$/.test(mc)) throw new UsageError(`--max-cost expects US dollars like 25 or 2.50, got '${mc}'`);
  const ba = a.values.get('batch-above');
  if (ba !== undefined && !(Number.isFinite(Number(ba)) && Number(ba) >= 0))
    throw new UsageError(`--batch-above expects a byte count like 5e9 or 0, got '${ba}'`);
  return {
    request,
    batchAboveBytes: ba === undefined ? undefined : Number(ba),
    maxCostUsd: mc === undefined ? undefined : Number(mc),
    yes: a.flags.has('yes'),
    derive: a.flags.has('derive'),
    json: a.flags.has('json'),
    dataDirFlag: a.values.get('data-dir'),
    baseUrl: a.values.get('base-url'),
    maxAttempts: ma === undefined ? undefined : Number(ma),
  };
}

/** Reads one line from stdin (the confirmation answer); '' on EOF. */
function readLine(stdin: NodeJS.ReadableStream, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.off('end', done);
      signal.removeEventListener('abort', onAbort);
      stdin.pause();
      resolve(buf.split('\n')[0]!.trim());
    };
    const onData = (c: Buffer | string): void => {
      buf += c.toString();
      if (buf.includes('\n')) done();
    };
    const onAbort = (): void => {
      buf = '';
      done();
    };
    stdin.on('data', onData);
    stdin.on('end', done);
    signal.addEventListener('abort', onAbort, { once: true });
    stdin.resume();
  });
}

/** The quote as a table: one row per schema and the total. */
export function quoteTable(quote: FetchQuote): string {
  const req = quote.request;
  const rows = quote.schemas.map((q) => [q.schema, formatCount(q.records), formatBytes(q.billableBytes), formatUsd(q.usd)]);
  rows.push(['total', formatCount(quote.totalRecords), formatBytes(quote.totalBillableBytes), formatUsd(quote.totalUsd)]);
  const head = ['schema', 'records', 'billable size', 'cost'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string =>
    `  ${r[0]!.padEnd(w[0]!)}  ${r
      .slice(1)
      .map((c, i) => c.padStart(w[i + 1]!))
      .join('  ')}`;
  return [
    `Databento quote: ${req.dataset} ${req.symbols.join(',')} from ${req.start} to ${req.end} (end exclusive, stype_in ${req.stypeIn ?? 'raw_symbol'})`,
    fmt(head),
    ...rows.map(fmt),
    '',
  ].join('\n');
}

export async function runDataFetch(argv: string[], ioIn: Partial<DataFetchIo> = {}): Promise<number> {
  const io: DataFetchIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, ...ioIn };
  const err = (s: string): void => void io.stderr.write(`btnb data fetch: ${s}\n`);
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${DATA_FETCH_HELP}\n`);
    return 0;
  }
  let args: ReturnType<typeof parseFetchArgs>;
  try {
    args = parseFetchArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${e.message}\n${DATA_FETCH_HELP.split('\n')[0]}`);
      return 2;
    }
    throw e;
  }
  const key = io.env.DATABENTO_API_KEY?.trim();
  if (!key) {
    err(
      'env DATABENTO_API_KEY is not set: export your Databento API key (it is read from the environment only, never from a flag or file)',
    );
    return 1;
  }

  // Ctrl-C (or the caller's signal) cancels cleanly: the .part is removed by the client.
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  if (!ioIn.signal) process.once('SIGINT', onSigint);
  ioIn.signal?.addEventListener('abort', onSigint, { once: true });
  const info = args.json ? io.stderr : io.stdout; // human output; stdout stays pure JSON with --json
  let client: HistoricalClient;
  const warned = new Set<string>();
  try {
    client = new HistoricalClient({
      key,
      env: io.env,
      ...(args.baseUrl !== undefined ? { baseUrl: args.baseUrl } : {}),
      ...(args.maxAttempts !== undefined ? { maxAttempts: args.maxAttempts } : {}),
      onRetry: (e) =>
        void io.stderr.write(
          `${io.stderr.isTTY ? '\r\x1b[K' : ''}${e.endpoint}: attempt ${e.attempt}/${e.maxAttempts} failed (${e.reason.replace(`Databento ${e.endpoint}: `, '')}); retrying in ${(e.delayMs / 1000).toFixed(1)} s\n`,
        ),
      onWarning: (w, ep) => {
        if (warned.has(w)) return; // Databento repeats a dataset warning on every call: say it once
        warned.add(w);
        io.stderr.write(`${io.stderr.isTTY ? '\r\x1b[K' : ''}Databento warning (${ep}): ${w}\n`);
      },
      ...io.client,
    });
  } catch (e) {
    err((e as Error).message);
    process.off('SIGINT', onSigint);
    return 2;
  }
  const redact = client.redact;
  try {
    // 1. Quote every schema before anything is downloaded.
    const quote = await quoteFetch(client, args.request, { signal: ac.signal });
    info.write(quoteTable(quote));
    for (const q of quote.schemas) if (q.records === 0) io.stderr.write(`${q.schema}: no records in the range; skipped\n`);
    const wantedRecords = quote.schemas.reduce((t, q) => t + q.records, 0);
    if (wantedRecords === 0) {
      err('Databento has no records for this request (check the symbols, dates and --stype-in)');
      return 1;
    }

    // 2. Confirm (a --max-cost cap holds even with --yes: safe for scripts).
    if (args.maxCostUsd !== undefined && quote.totalUsd - args.maxCostUsd > 1e-9) {
      // sums of per-schema doubles: no refusal on float noise
      err(`the quote (${formatUsd(quote.totalUsd)}, $${quote.totalUsd}) exceeds --max-cost $${args.maxCostUsd}: nothing downloaded`);
      return 1;
    }
    if (!args.yes) {
      if (!io.stdin.isTTY) {
        err(`no terminal to confirm the download (${formatUsd(quote.totalUsd)}): pass --yes to download without asking`);
        return 2;
      }
      io.stderr.write(
        `Download ${formatCount(wantedRecords)} records (${formatBytes(quote.totalBillableBytes)} billable) for ${formatUsd(quote.totalUsd)}? [y/N] `,
      );
      const answer = await readLine(io.stdin, ac.signal);
      if (!/^y(es)?$/i.test(answer)) {
        io.stderr.write('Canceled: nothing downloaded.\n');
        return 1;
      }
    }

    // 3. Download each schema into <data>/tmp/fetch-XXXX/, then import (and derive).
    const dataDir = resolveDataDir(args.dataDirFlag, io.env);
    await (await import('./recover.ts')).settleAbandoned(dataDir);
    const tty = io.stderr.isTTY === true;
    let bar: ProgressRenderer | null = null;
    const importLine = phaseLine(io.stderr);
    const outcome = await downloadAndImport(client, quote, {
      dataDir,
      derive: args.derive,
      signal: ac.signal,
      ...(args.batchAboveBytes !== undefined ? { batchAboveBytes: args.batchAboveBytes } : {}),
      onBatchState: (schema, state, polls) => {
        if (state !== 'done' || polls === 1) io.stderr.write(`${schema}: batch job ${state}${polls > 1 ? ` (poll ${polls})` : ''}\n`);
      },
      onDownloadStart: (q) => {
        bar = new ProgressRenderer(io.stderr, q.schema, tty);
        if (!tty) io.stderr.write(`${q.schema}: downloading ${formatCount(q.records)} records\n`);
      },
      onDownloadProgress: (_schema, p) => bar?.update(p),
      onDownloaded: (f) => {
        bar?.finish(f.partial ? ' (HTTP 206: some symbols only partly resolved)' : '');
        if (f.partialSymbols.length) io.stderr.write(`${f.schema}: symbols resolved on only some days: ${f.partialSymbols.join(', ')}\n`);
        if (f.notFoundSymbols.length) io.stderr.write(`${f.schema}: symbols not found: ${f.notFoundSymbols.join(', ')}\n`);
      },
      ...(importLine.onProgress ? { onImportProgress: importLine.onProgress } : {}),
    }).catch((e: unknown) => {
      bar?.interrupt();
      throw e;
    });
    importLine.end();
    if (args.json) io.stdout.write(jsonText(fetchResultJson(quote, outcome)));
    else io.stdout.write(formatDatasets(outcome.datasets, dataDir));
    return 0;
  } catch (e) {
    const canceled = e instanceof DatabentoAbortError || ac.signal.aborted;
    err(canceled ? 'canceled' : redact((e as Error).message));
    if (e instanceof FetchFailedError && e.keptDir) {
      const files = e.completed.map((d) => d.path);
      io.stderr.write(
        e.stage === 'import'
          ? `The downloaded files are kept in ${e.keptDir}; import them with \`btnb data import ${files.join(' ')}\`\n`
          : `Completed downloads are kept in ${e.keptDir}: ${e.completed.map((d) => d.schema).join(', ')}\n`,
      );
    }
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    ioIn.signal?.removeEventListener('abort', onSigint);
  }
}
