/**
 * `btnb data import`: DBN trades / tbbo files → raw cache + datasets in the catalog.
 *
 * Order of work, so that a refused import changes nothing: read every file's metadata and
 * hash it (refuse other schemas, unknown symbols, overlaps) → copy into the content-addressed
 * raw cache (temp + rename; re-hashing while copying, the file must not change meanwhile) →
 * register every new dataset with its sources in ONE catalog transaction → optionally derive.
 *
 * One dataset per symbol per import: all the given files that map the symbol are its sources
 * (trades and tbbo, any dates). A file with several symbols is stored once and referenced by
 * several datasets; derive filters records to the dataset's symbol.
 */
import { stat, unlink } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { openCatalog } from '../catalog/sqliteCatalog.ts';
import type { DatasetRow, DatasetSourceRow } from '../ports/catalog.ts';
import type { ComputedBars, DeriveResult } from '../bars/deriveDataset.ts';
import { dataPaths } from '../dataDir.ts';
import { readMetadata } from '../dbn/decoder.ts';
import { SCHEMA, schemaName } from '../dbn/enums.ts';
import type { DbnMetadata } from '../dbn/metadata.ts';
import { sha256File } from '../io/files.ts';
import { DERIVE_VERSION } from '../version.ts';
import { mappedSymbols, resolveIntervals } from '../bars/instrumentFilter.ts';
import { datasetId } from './datasetId.ts';
import { copyIntoCache } from './rawCache.ts';

export const DERIVE_SCHEMAS = ['trades', 'tbbo'] as const;

export interface ImportProgress {
  phase: string;
  done: number;
  total: number;
}

export interface ImportOptions {
  dataDir: string;
  symbol?: string;
  derive?: boolean;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  /** With `derive`: called once per dataset when its bars are written. */
  onDerived?: (info: DatasetInfo, result: DeriveResult) => void;
}

export interface SourceInfo {
  file: string;
  original_name: string;
  sha256: string;
  schema: string;
  bytes: number;
  dbn_version: number;
  databento_dataset: string;
  start: string;
  end: string | null;
}

export interface DatasetInfo {
  dataset_id: string;
  symbol: string;
  schemas: string[];
  start: string | null;
  end: string | null;
  sources: SourceInfo[];
  /** True when this import registered it; false when the catalog already had it. */
  created?: boolean;
  bars_path?: string;
  bar_count?: number;
}

export interface ImportResult {
  datasets: DatasetInfo[];
}

interface Inspected {
  path: string;
  meta: DbnMetadata;
  schema: 'trades' | 'tbbo';
  symbols: string[];
  /** Known after the copy (or earlier when an overlap check needed it). */
  sha256: string;
  bytes: number;
}

export function nsToIso(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  return frac === 0n ? `${base}Z` : `${base}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

async function inspect(path: string, signal?: AbortSignal): Promise<Inspected> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot read (${err.code ?? err.message})`, { cause: err });
  });
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  const meta = await readMetadata(path);
  const name = meta.schema === null ? 'mixed' : (schemaName(meta.schema) ?? `schema id ${meta.schema}`);
  if (meta.schema !== SCHEMA.trades && meta.schema !== SCHEMA.tbbo) {
    throw new Error(
      `${path}: schema '${name}' (metadata field 'schema' at byte 24) is not supported for derive; supported schemas: ${DERIVE_SCHEMAS.join(', ')}`,
    );
  }
  signal?.throwIfAborted();
  checkOneInstrumentPerSymbol(path, meta);
  let symbols = mappedSymbols(meta);
  if (symbols.length === 0) symbols = meta.symbols.filter((s) => s !== '' && s !== 'ALL_SYMBOLS');
  return { path, meta, schema: meta.schema === SCHEMA.trades ? 'trades' : 'tbbo', symbols, sha256: '', bytes: st.size };
}

/**
 * Bars are per instrument: a symbol that maps to two instrument ids on the same date (parent
 * symbology such as ES.FUT, or a malformed file) would mix contracts in one bar series.
 */
function checkOneInstrumentPerSymbol(path: string, meta: DbnMetadata): void {
  const bySymbol = new Map<string, { id: number; startDate: number; endDate: number }[]>();
  for (const iv of resolveIntervals(meta)) {
    const list = bySymbol.get(iv.symbol) ?? [];
    list.push(iv);
    bySymbol.set(iv.symbol, list);
  }
  for (const [symbol, list] of bySymbol) {
    list.sort((a, b) => a.startDate - b.startDate);
    for (let i = 1; i < list.length; i++) {
      for (let j = 0; j < i; j++) {
        const a = list[j]!,
          b = list[i]!;
        if (a.id !== b.id && b.startDate < a.endDate && a.startDate < b.endDate) {
          throw new Error(
            `${path}: metadata symbol mappings map '${symbol}' to instruments ${a.id} and ${b.id} on ${Math.max(a.startDate, b.startDate)} ` +
              '(e.g. parent symbology); bars need one instrument per symbol and date: request raw_symbol or continuous symbols',
          );
        }
      }
    }
  }
}

async function hashOf(f: Inspected): Promise<string> {
  if (f.sha256 === '') f.sha256 = await sha256File(f.path);
  return f.sha256;
}

/**
 * Refuses two distinct sources of one symbol and schema whose metadata spans overlap. Only
 * overlapping pairs are hashed (byte-identical files are one source, not an overlap), so the
 * common case reads each file once, in the copy.
 */
async function checkOverlaps(symbol: string, files: Inspected[]): Promise<void> {
  for (const schema of DERIVE_SCHEMAS) {
    const list = files
      .filter((f) => f.schema === schema)
      .sort((a, b) => (a.meta.start < b.meta.start ? -1 : a.meta.start > b.meta.start ? 1 : 0));
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!;
      const b = list[i]!;
      if ((a.meta.end === null || a.meta.end > b.meta.start) && (a.bytes !== b.bytes || (await hashOf(a)) !== (await hashOf(b)))) {
        throw new Error(
          `${a.path} and ${b.path}: both hold ${schema} for '${symbol}' and their time spans overlap ` +
            `([${nsToIso(a.meta.start)}, ${a.meta.end === null ? 'open end' : nsToIso(a.meta.end)}) and [${nsToIso(b.meta.start)}, ${b.meta.end === null ? 'open end' : nsToIso(b.meta.end)})); import them separately or drop one`,
        );
      }
    }
  }
}

export async function importFiles(paths: string[], opts: ImportOptions): Promise<ImportResult> {
  if (paths.length === 0) throw new Error('import: no files given');
  const progress = opts.onProgress ?? (() => {});
  const inspected: Inspected[] = [];
  for (const [i, p] of paths.entries()) {
    progress({ phase: 'inspect', done: i, total: paths.length });
    inspected.push(await inspect(p, opts.signal));
  }
  progress({ phase: 'inspect', done: paths.length, total: paths.length });
  // The same path given twice is one file.
  const unique = [...new Map(inspected.map((f) => [f.path, f])).values()];

  let symbols: string[];
  if (opts.symbol !== undefined) {
    // An instrument id (decimal) names the records no mapping covers (docs/bars.md); it is
    // accepted without scanning the file (the dataset may then have no bars).
    const byId = /^\d+$/.test(opts.symbol);
    const missing = byId ? [] : unique.filter((f) => f.symbols.length > 0 && !f.symbols.includes(opts.symbol!));
    if (missing.length > 0) {
      throw new Error(
        missing
          .map((f) => `${f.path}: symbol '${opts.symbol}' is not in the file (its symbol mappings name: ${f.symbols.join(', ') || 'none'})`)
          .join('; '),
      );
    }
    symbols = [opts.symbol];
  } else {
    symbols = [...new Set(unique.flatMap((f) => f.symbols))];
    const anonymous = unique.filter((f) => f.symbols.length === 0);
    if (anonymous.length > 0)
      throw new Error(`${anonymous[0]!.path}: the metadata maps no symbols; pass --symbol (a symbol or an instrument id)`);
  }
  const fileGroups = symbols.map((symbol) => ({
    symbol,
    // With --symbol every file passed the check above and is a source.
    files: opts.symbol !== undefined ? unique : unique.filter((f) => f.symbols.length === 0 || f.symbols.includes(symbol)),
  }));
  for (const g of fileGroups) await checkOverlaps(g.symbol, g.files);

  // With --derive the original files are decoded while they are copied and hashed (the
  // dataset id, hence where the bars go, is known only after hashing); the catalog still sees
  // the import registered first, then the derive, exactly as in the sequential order.
  const early = opts.derive ? startEarlyDerive(fileGroups, opts) : null;
  // Copy into the raw cache, hashing on the way (a no-op for bytes already there).
  const cached = new Map<string, { relPath: string; path: string; copied: boolean }>();
  // A refused import leaves the raw cache as it found it: files this import added are removed.
  const undoCopies = async () => {
    for (const c of cached.values()) if (c.copied) await unlink(c.path).catch(() => undefined);
  };
  try {
    for (const [i, f] of unique.entries()) {
      progress({ phase: 'copy', done: i, total: unique.length });
      const c = await copyIntoCache(f.path, opts.dataDir, f.meta.dataset, f.schema, opts.signal);
      if (f.sha256 !== '' && c.sha256 !== f.sha256)
        throw new Error(`${f.path}: the file changed while importing (SHA-256 ${f.sha256} then ${c.sha256})`);
      f.sha256 = c.sha256;
      cached.set(c.sha256, c);
    }
  } catch (err) {
    if (early) await early.cancel();
    await undoCopies();
    throw err;
  }
  progress({ phase: 'copy', done: unique.length, total: unique.length });
  // Byte-identical files (different paths) are one source.
  const groups = fileGroups.map((g) => {
    const files = [...new Map(g.files.map((f) => [f.sha256, f])).values()];
    return {
      symbol: g.symbol,
      files,
      id: datasetId(
        g.symbol,
        files.map((f) => f.sha256),
      ),
    };
  });

  const infos: DatasetInfo[] = groups.map((g) => {
    const starts = g.files.map((f) => f.meta.start);
    const ends = g.files.map((f) => f.meta.end);
    const minStart = starts.reduce((a, b) => (b < a ? b : a));
    const maxEnd = ends.includes(null) ? null : (ends as bigint[]).reduce((a, b) => (b > a ? b : a));
    return {
      dataset_id: g.id,
      symbol: g.symbol,
      schemas: DERIVE_SCHEMAS.filter((s) => g.files.some((f) => f.schema === s)),
      start: nsToIso(minStart),
      end: maxEnd === null ? null : nsToIso(maxEnd),
      sources: g.files.map((f) => ({
        file: cached.get(f.sha256)!.relPath,
        original_name: basename(f.path),
        sha256: f.sha256,
        schema: f.schema,
        bytes: f.bytes,
        dbn_version: f.meta.version,
        databento_dataset: f.meta.dataset,
        start: nsToIso(f.meta.start),
        end: f.meta.end === null ? null : nsToIso(f.meta.end),
      })),
    };
  });

  try {
    registerDatasets(opts.dataDir, infos, groups, cached);
  } catch (err) {
    if (early) await early.cancel();
    await undoCopies();
    throw err;
  }

  if (opts.derive) {
    const { deriveDataset } = await import('../bars/deriveDataset.ts');
    try {
      for (const [i, info] of infos.entries()) {
        const compute = early?.results[i] ? (row: DatasetRow) => inRowOrder(early.results[i]!, fileGroups[i]!.files, row) : undefined;
        const r = await deriveDataset(opts.dataDir, info.dataset_id, { onProgress: opts.onProgress, signal: opts.signal }, compute);
        opts.onDerived?.(info, r);
        info.bars_path = r.bars_path;
        info.bar_count = r.bar_count;
        info.start = r.start;
        info.end = r.end;
      }
    } catch (err) {
      if (early) await early.cancel();
      throw err;
    }
  }
  return { datasets: infos };
}

function commonDataset(files: Inspected[]): string | null {
  const set = new Set(files.map((f) => f.meta.dataset));
  return set.size === 1 ? [...set][0]! : null;
}

/** Registers every new dataset with its sources in ONE catalog transaction. */
function registerDatasets(
  dataDir: string,
  infos: DatasetInfo[],
  groups: { symbol: string; files: Inspected[]; id: string }[],
  cached: Map<string, { relPath: string }>,
): void {
  const catalog = openCatalog(dataPaths(dataDir).catalog);
  try {
    catalog.db
      .transaction(() => {
        for (const [i, info] of infos.entries()) {
          if (catalog.getDataset(info.dataset_id)) {
            info.created = false;
            continue;
          }
          const g = groups[i]!;
          const sources: DatasetSourceRow[] = g.files.map((f) => ({
            sha256: f.sha256,
            path: cached.get(f.sha256)!.relPath,
            original_name: basename(f.path),
            schema: f.schema,
            dbn_version: f.meta.version,
            bytes: f.bytes,
            records: 0,
            first_ts_recv: null,
            last_ts_recv: null,
            meta_start: f.meta.start,
            meta_end: f.meta.end,
          }));
          catalog.upsertDataset({
            dataset_id: info.dataset_id,
            symbol: info.symbol,
            schemas: info.schemas,
            derive_version: DERIVE_VERSION,
            databento_dataset: commonDataset(g.files),
            start: info.start,
            end: info.end,
            status: 'imported',
            sources,
          });
          info.created = true;
        }
      })
      .immediate();
  } finally {
    catalog.close();
  }
}

interface EarlyDerive {
  /** Per file group: its bars decoded from the original files, or null (decoded after the copy). */
  results: (Promise<ComputedBars> | null)[];
  /** Stops the decodes still running and waits for them (a failed import leaves nothing running). */
  cancel(): Promise<void>;
}

/**
 * Starts decoding each group's original files (one group after the other: one decode per core
 * is what the machine has). Only groups with at most one file per schema: the merge breaks
 * equal-ts_recv ties within a schema by SHA-256, unknown before the copy, and byte-identical
 * files under two paths (one source once hashed) would be counted twice; other groups decode
 * from the cache after the copy, as before.
 */
function startEarlyDerive(fileGroups: { symbol: string; files: Inspected[] }[], opts: ImportOptions): EarlyDerive {
  const ac = new AbortController();
  const onAbort = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let chain: Promise<unknown> = import('../bars/computeBars.ts');
  const results = fileGroups.map((g) => {
    if (DERIVE_SCHEMAS.some((s) => g.files.filter((f) => f.schema === s).length > 1)) return null;
    const row = {
      dataset_id: `(being imported: ${g.symbol})`,
      symbol: g.symbol,
      sources: g.files.map((f) => ({ path: resolve(f.path), schema: f.schema, sha256: '' })) as DatasetSourceRow[],
    };
    const p = chain.then(async () => {
      const { computeBars } = await import('../bars/computeBars.ts');
      return computeBars('/', row, { onProgress: opts.onProgress, signal: ac.signal });
    });
    chain = p.catch(() => {});
    p.catch(() => {}); // awaited later (or cancelled); never an unhandled rejection
    return p;
  });
  const done = chain.finally(() => opts.signal?.removeEventListener('abort', onAbort));
  return {
    results,
    async cancel() {
      ac.abort(new DOMException('import failed', 'AbortError'));
      await done;
    },
  };
}

/** Reorders an early decode's per-source arrays (file-group order) into the catalog row's source order. */
async function inRowOrder(pending: Promise<ComputedBars>, files: Inspected[], row: DatasetRow): Promise<ComputedBars> {
  const c = await pending;
  const at = row.sources.map((s) => {
    const i = files.findIndex((f) => f.sha256 === s.sha256);
    if (i < 0) throw new Error(`dataset ${row.dataset_id}: source ${s.sha256} was not decoded by this import`);
    return i;
  });
  const matched = new Float64Array(at.length);
  at.forEach((j, k) => {
    matched[k] = c.matched[j]!;
  });
  return { ...c, metas: at.map((j) => c.metas[j]!), stats: { ...c.stats, sources: at.map((j) => c.stats.sources[j]!) }, matched };
}
