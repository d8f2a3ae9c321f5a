// The fetch flow without any UI: quote (cost, records, billable size per schema), then
// download each schema into <data>/tmp/fetch-XXXX and import (and derive) the files. The CLI
// (`btnb data fetch`) and the extension's fetch job put their own confirmation and progress
// around these two calls.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.ts';
import type { BatchState } from './batch.ts';
import { readMetadata } from '../dbn/decoder.ts';
import type { DatasetInfo, ImportProgress } from '../ingest/importFiles.ts';
import type { DownloadProgress, HistoricalClient, RangeDownload } from './historicalClient.ts';
import { rangeForm, type RangeParams } from './params.ts';

/** Billable size from which a schema goes through the batch API instead of get_range (Databento suggests batch above ~5 GB). */
export const DEFAULT_BATCH_ABOVE_BYTES = 5e9;

/** What derive builds bars from (docs/bars.md). */
export const FETCHABLE_SCHEMAS = ['trades', 'tbbo'] as const;
export type FetchableSchema = (typeof FETCHABLE_SCHEMAS)[number];

export interface FetchRequest {
  dataset: string;
  symbols: string[];
  schemas: FetchableSchema[];
  start: string;
  /** exclusive */
  end: string;
  /** default raw_symbol */
  stypeIn?: string;
}

export interface SchemaQuote {
  schema: FetchableSchema;
  usd: number;
  records: number;
  /** Uncompressed record bytes Databento bills for. */
  billableBytes: number;
}

export interface FetchQuote {
  request: FetchRequest;
  schemas: SchemaQuote[];
  totalUsd: number;
  totalRecords: number;
  totalBillableBytes: number;
}

export interface FetchedFile extends RangeDownload {
  schema: FetchableSchema;
  /** Batch API downloads: the job, its directory (kept until the import succeeds) and where attempts resumed. */
  batchJobId?: string;
  batchDir?: string;
  resumedFrom?: number[];
  dbnVersion: number;
  /** From the DBN metadata: symbols resolved on only some days, and symbols not found at all. */
  partialSymbols: string[];
  notFoundSymbols: string[];
}

export interface FetchOutcome {
  datasets: DatasetInfo[];
  downloads: FetchedFile[];
}

/** A failure after money was spent: `keptDir` holds the completed downloads (null if none). */
export class FetchFailedError extends Error {
  override name = 'FetchFailedError';
  readonly stage: 'download' | 'import';
  readonly keptDir: string | null;
  readonly completed: FetchedFile[];
  override readonly cause: Error;
  constructor(stage: 'download' | 'import', cause: Error, keptDir: string | null, completed: FetchedFile[], redact: (s: string) => string) {
    super(redact(stage === 'import' ? `import failed: ${cause.message}` : cause.message));
    this.stage = stage;
    this.cause = cause;
    this.keptDir = keptDir;
    this.completed = completed;
  }
}

export function rangeParams(req: FetchRequest, schema: FetchableSchema): RangeParams {
  return { dataset: req.dataset, symbols: req.symbols, schema, start: req.start, end: req.end, stypeIn: req.stypeIn ?? 'raw_symbol' };
}

/** Asks cost, record count and billable size for every schema (3 metadata calls each). */
export async function quoteFetch(client: HistoricalClient, req: FetchRequest, opts: { signal?: AbortSignal } = {}): Promise<FetchQuote> {
  const schemas: SchemaQuote[] = [];
  for (const schema of req.schemas) {
    const p = rangeParams(req, schema);
    const usd = await client.getCost(p, opts);
    const records = await client.getRecordCount(p, opts);
    const billableBytes = await client.getBillableSize(p, opts);
    schemas.push({ schema, usd, records, billableBytes });
  }
  return {
    request: req,
    schemas,
    totalUsd: schemas.reduce((t, q) => t + q.usd, 0),
    totalRecords: schemas.reduce((t, q) => t + q.records, 0),
    totalBillableBytes: schemas.reduce((t, q) => t + q.billableBytes, 0),
  };
}

/** A descriptive file name (it becomes the source's original_name in the catalog). */
export function downloadFileName(req: FetchRequest, schema: string): string {
  const syms = req.symbols.length > 3 ? `${req.symbols.slice(0, 3).join('_')}+${req.symbols.length - 3}` : req.symbols.join('_');
  return `${req.dataset}.${schema}.${syms}.${req.start}.${req.end}.dbn.zst`.replace(/[^A-Za-z0-9._+-]/g, '_');
}

/**
 * Downloads every quoted schema with records, then imports them. The temp dir is removed on
 * success and when nothing was downloaded; when a download or the import fails after at
 * least one schema arrived, the files are kept (they were paid for) and FetchFailedError says where.
 */
export async function downloadAndImport(
  client: HistoricalClient,
  quote: FetchQuote,
  opts: {
    dataDir: string;
    derive?: boolean;
    signal?: AbortSignal;
    onDownloadStart?: (q: SchemaQuote) => void;
    onDownloadProgress?: (schema: FetchableSchema, p: DownloadProgress) => void;
    onDownloaded?: (f: FetchedFile) => void;
    onImportProgress?: (p: ImportProgress) => void;
    /** Schemas billed at least this many bytes use the batch API (default DEFAULT_BATCH_ABOVE_BYTES). */
    batchAboveBytes?: number;
    /** Batch job polling interval (default 10 s). */
    batchPollMs?: number;
    onBatchState?: (schema: FetchableSchema, state: BatchState, polls: number) => void;
  },
): Promise<FetchOutcome> {
  const wanted = quote.schemas.filter((q) => q.records > 0);
  if (wanted.length === 0) throw new Error('Databento has no records for this request (check the symbols, dates and stype_in)');
  const tmpRoot = join(opts.dataDir, 'tmp');
  await mkdir(tmpRoot, { recursive: true });
  // the pid in the name lets a later process remove it if this one is killed (recovery.ts)
  const dir = await mkdtemp(join(tmpRoot, `fetch-${process.pid}-`));
  const downloads: FetchedFile[] = [];
  try {
    for (const q of wanted) {
      opts.onDownloadStart?.(q);
      const got =
        q.billableBytes >= (opts.batchAboveBytes ?? DEFAULT_BATCH_ABOVE_BYTES)
          ? await batchDownload(client, quote.request, q.schema, tmpRoot, opts)
          : [
              await client.getRange(rangeParams(quote.request, q.schema), join(dir, downloadFileName(quote.request, q.schema)), {
                ...(opts.signal ? { signal: opts.signal } : {}),
                onProgress: (p) => opts.onDownloadProgress?.(q.schema, p),
              }),
            ];
      for (const r of got) {
        // The body is what we asked for: a DBN stream of this dataset and schema.
        const meta = await readMetadata(r.path);
        if (meta.dataset !== quote.request.dataset || meta.schemaName !== q.schema) {
          throw new Error(
            `${r.path}: Databento sent dataset ${meta.dataset} schema ${meta.schemaName ?? 'mixed'} (DBN metadata), but ${quote.request.dataset} ${q.schema} was requested`,
          );
        }
        const f: FetchedFile = {
          ...r,
          schema: q.schema,
          dbnVersion: meta.version,
          partialSymbols: meta.partial,
          notFoundSymbols: meta.notFound,
        };
        downloads.push(f);
        opts.onDownloaded?.(f);
      }
    }
  } catch (err) {
    if (downloads.length === 0) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    throw new FetchFailedError('download', err as Error, dir, downloads, client.redact);
  }
  let datasets: DatasetInfo[];
  try {
    const { importFiles } = await import('../ingest/importFiles.ts');
    datasets = (
      await importFiles(
        downloads.map((d) => d.path),
        {
          dataDir: opts.dataDir,
          derive: opts.derive ?? false,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onImportProgress ? { onProgress: opts.onImportProgress } : {}),
        },
      )
    ).datasets;
  } catch (err) {
    throw new FetchFailedError('import', err as Error, dir, downloads, client.redact);
  }
  await rm(dir, { recursive: true, force: true });
  for (const d of new Set(downloads.map((f) => f.batchDir).filter((x): x is string => !!x))) await rm(d, { recursive: true, force: true });
  return { datasets, downloads };
}

/** The batch job directory of a request: named by the request, not the process, so a re-run resumes it. */
export function batchDirOf(tmpRoot: string, params: RangeParams): string {
  return join(tmpRoot, `batch-${createHash('sha256').update(rangeForm(params).toString()).digest('hex').slice(0, 20)}`);
}

/**
 * One schema through the batch API: submit (or find the job an earlier, interrupted run of the
 * same request submitted: `job.json` in the request's batch dir), poll until done, download
 * every DBN file with resume. The dir stays until the import succeeded.
 */
async function batchDownload(
  client: HistoricalClient,
  req: FetchRequest,
  schema: FetchableSchema,
  tmpRoot: string,
  opts: {
    signal?: AbortSignal;
    batchPollMs?: number;
    onBatchState?: (schema: FetchableSchema, state: BatchState, polls: number) => void;
    onDownloadProgress?: (schema: FetchableSchema, p: DownloadProgress) => void;
  },
): Promise<(RangeDownload & { batchDir: string; batchJobId: string; resumedFrom: number[] })[]> {
  const params = rangeParams(req, schema);
  const dir = batchDirOf(tmpRoot, params);
  await mkdir(dir, { recursive: true });
  const jobFile = join(dir, 'job.json');
  const signal = opts.signal ? { signal: opts.signal } : {};
  const t0 = performance.now();
  let id = existsSync(jobFile) ? (JSON.parse(readFileSync(jobFile, 'utf8')) as { id: string }).id : null;
  const follow = (jobId: string) =>
    client.batch.wait(jobId, {
      ...signal,
      ...(opts.batchPollMs !== undefined ? { pollMs: opts.batchPollMs } : {}),
      onState: (s, polls) => opts.onBatchState?.(schema, s, polls),
    });
  try {
    if (!id) throw new Error('no job yet');
    await follow(id);
  } catch (err) {
    if (id === null || /expired|not in batch\.list_jobs/.test((err as Error).message)) {
      const job = await client.batch.submit(params, opts.signal);
      id = job.id;
      await writeFileAtomic(jobFile, `${JSON.stringify({ id, schema, request: req })}\n`);
      await follow(id);
    } else throw err;
  }
  const files = (await client.batch.files(id, opts.signal)).filter((f) => /\.dbn(\.zst)?$/.test(f.filename));
  const out: (RangeDownload & { batchDir: string; batchJobId: string; resumedFrom: number[] })[] = [];
  for (const f of files) {
    const d = await client.batch.download(f, join(dir, f.filename), {
      ...signal,
      onProgress: (bytes, total) =>
        opts.onDownloadProgress?.(schema, {
          bytes,
          totalBytes: total,
          attempt: 1,
          elapsedMs: performance.now() - t0,
          done: bytes >= total,
        }),
    });
    out.push({
      path: d.path,
      bytes: d.bytes,
      sha256: d.sha256,
      status: 200,
      partial: false,
      warnings: [],
      attempts: d.attempts,
      requestId: null,
      zstdFrames: 0,
      elapsedMs: performance.now() - t0,
      batchDir: dir,
      resumedFrom: d.resumedFrom,
      batchJobId: id,
    });
  }
  return out;
}

/** The `--json` document of `btnb data fetch` (also what a job can return). */
export function fetchResultJson(
  quote: FetchQuote,
  outcome: FetchOutcome,
): {
  datasets: DatasetInfo[];
  cost: {
    usd: number;
    records: number;
    billable_bytes: number;
    schemas: { schema: string; usd: number; records: number; billable_bytes: number }[];
  };
  downloads: {
    schema: string;
    bytes: number;
    sha256: string;
    status: number;
    partial: boolean;
    warnings: string[];
    attempts: number;
    request_id: string | null;
    dbn_version: number;
    partial_symbols: string[];
    not_found_symbols: string[];
  }[];
} {
  return {
    datasets: outcome.datasets,
    cost: {
      usd: quote.totalUsd,
      records: quote.totalRecords,
      billable_bytes: quote.totalBillableBytes,
      schemas: quote.schemas.map((q) => ({ schema: q.schema, usd: q.usd, records: q.records, billable_bytes: q.billableBytes })),
    },
    downloads: outcome.downloads.map((d) => ({
      schema: d.schema,
      bytes: d.bytes,
      sha256: d.sha256,
      status: d.status,
      partial: d.partial,
      warnings: d.warnings,
      attempts: d.attempts,
      request_id: d.requestId,
      dbn_version: d.dbnVersion,
      partial_symbols: d.partialSymbols,
      not_found_symbols: d.notFoundSymbols,
    })),
  };
}
