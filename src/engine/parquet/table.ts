/**
 * Generic columnar Parquet I/O for artifacts and bars: the columns go to parquet-wasm (arrow-rs)
 * as an Arrow IPC stream built in a reused buffer (ipcStream.ts), which encodes them. Writing streams one row group at a time through
 * `transformParquetStream` into an atomic temp file, so memory stays ~1× the input columns
 * plus one row group; reading streams record batches from a Blob over the file.
 *
 * Output is deterministic: the only metadata are the Arrow schema, our fixed `created_by`
 * and caller key/values — no timestamps, no random ids (a test writes twice and compares).
 */
import { canonicalJson } from '../util/canonicalJson.ts';
import type * as Arrow from 'apache-arrow';
import { openAsBlob } from 'node:fs';
import type { Writable } from 'node:stream';
import type * as Pq from 'parquet-wasm';
import { PRODUCT_VERSION } from '../version.ts';
import { createAtomicWriteStream, writeFileAtomic, type AtomicFs } from '../io/atomicWrite.ts';
import { ColumnError, type ColumnSpec } from './arrowChunks.ts';
import { encodeIpcStream } from './ipcStream.ts';
import { ParquetFileError } from './errors.ts';

export type { ColumnSpec, ColumnType } from './arrowChunks.ts';
export { ParquetFileError };

let pqModule: typeof Pq | undefined;
let arrowModule: typeof Arrow | undefined;

/** parquet-wasm, loaded (its WebAssembly compiled) on first use, once per process (parquetWasm.ts). */
async function parquetWasm(): Promise<typeof Pq> {
  return (pqModule ??= (await import('./parquetWasm.ts')).pq);
}

/** apache-arrow (a large module graph), only for the readers that hand out Arrow objects. */
async function apacheArrow(): Promise<typeof Arrow> {
  return (arrowModule ??= await import('apache-arrow'));
}

/** Rows per row group: ~10 MB of bar columns, fine-grained enough for parallel/partial reads. */
export const DEFAULT_ROW_GROUP_SIZE = 65_536;
export const METADATA_KEY = 'btnb.metadata';
export const CREATED_BY = `btnb ${PRODUCT_VERSION} (parquet-wasm 0.8.0)`;
/**
 * Tables up to this many cells (rows × columns, ~8 bytes each) are encoded in one synchronous
 * `writeParquet` call: parquet-wasm's stream path costs ~6 ms of fixed overhead per file, which
 * dominated small artifacts (fills, trades). Bigger tables stream one row group at a time so
 * memory stays bounded. Both paths give byte-identical files (a test compares them).
 */
export const ONE_SHOT_MAX_CELLS = 4 << 20;

export interface WriteTableOptions {
  rowGroupSize?: number;
  /**
   * Caller metadata, stored as canonical JSON (sorted keys) under the single Parquet key
   * `btnb.metadata`: arrow-rs keeps key/value metadata in a randomly seeded HashMap, so
   * several keys would come out in a different order on every write.
   */
  metadata?: Record<string, string>;
  /** Injected file system for the atomic write (tests). */
  fs?: AtomicFs;
  /** Force the streaming encoder (tests; default: only above ONE_SHOT_MAX_CELLS). */
  stream?: boolean;
}

/** Resolves on 'drain', rejects on 'error'; removes both listeners either way. */
function drained(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      w.off('drain', onDrain);
      w.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    w.on('drain', onDrain);
    w.on('error', done);
  });
}

function metadataJson(m: Record<string, string>): string {
  for (const k of Object.keys(m)) if (typeof m[k] !== 'string') throw new Error(`parquet metadata '${k}' must be a string`);
  return canonicalJson(m);
}

function checkColumns(path: string, columns: readonly ColumnSpec[]): number {
  if (columns.length === 0) throw new ParquetFileError(path, 'no columns to write');
  const names = new Set<string>();
  const rows = columns[0]!.values.length;
  for (const c of columns) {
    if (names.has(c.name)) throw new ParquetFileError(path, `duplicate column '${c.name}'`);
    names.add(c.name);
    if (c.values.length !== rows)
      throw new ParquetFileError(path, `column '${c.name}' has ${c.values.length} rows, expected ${rows} (as '${columns[0]!.name}')`);
    if (c.nulls !== undefined && c.nulls.length !== rows)
      throw new ParquetFileError(path, `column '${c.name}': nulls has ${c.nulls.length} entries, expected ${rows}`);
    if (c.nullable === false && (c.nulls !== undefined || c.nanIsNull))
      throw new ParquetFileError(path, `column '${c.name}' is declared non-nullable but has a null mask`);
  }
  return rows;
}

function writerProperties(pq: typeof Pq, columns: readonly ColumnSpec[], opts: WriteTableOptions): Pq.WriterProperties {
  let b = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setMaxRowGroupSize(opts.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE)
    // Min/max per column chunk (row group) is what readers prune on (e.g. a ts range);
    // per-page statistics cost encode time for no reader we target.
    .setStatisticsEnabled(pq.EnabledStatistics.Chunk)
    .setCreatedBy(CREATED_BY);
  // Timestamps are unique per row: a dictionary attempt there is wasted work.
  for (const c of columns) if (c.type === 'timestamp_ns_utc' || c.dictionary === false) b = b.setColumnDictionaryEnabled(c.name, false);
  for (const c of columns) {
    if (c.encoding !== 'delta') continue;
    if (c.type !== 'int32' && c.type !== 'int64' && c.type !== 'timestamp_ns_utc')
      throw new ColumnError(c.name, 0, `delta encoding needs an integer or timestamp column, got ${c.type}`);
    b = b.setColumnDictionaryEnabled(c.name, false).setColumnEncoding(c.name, pq.Encoding.DELTA_BINARY_PACKED);
  }
  if (opts.metadata) b = b.setKeyValueMetadata(new Map([[METADATA_KEY, metadataJson(opts.metadata)]]));
  return b.build();
}

/**
 * Writes `columns` as one Parquet file at `path` (atomic: temp + fsync + rename).
 * Types: timestamp_ns_utc → INT64 TIMESTAMP(NANOS, UTC), float64 → DOUBLE, int64 → INT64,
 * int32 → INT32, utf8 → BYTE_ARRAY (STRING), bool → BOOLEAN; zstd.
 */
export async function writeParquetTable(path: string, columns: readonly ColumnSpec[], opts: WriteTableOptions = {}): Promise<void> {
  const rows = checkColumns(path, columns);
  const rowGroup = opts.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  const pq = await parquetWasm();
  if (!Number.isInteger(rowGroup) || rowGroup < 1) throw new ParquetFileError(path, `rowGroupSize ${rowGroup} is not a positive integer`);
  // Row groups as record batches of the IPC stream (an empty table: one empty batch).
  const batchAt = (off: number, len: number): Pq.RecordBatch => {
    const wasm = pq.Table.fromIPCStream(encodeIpcStream(columns, rows, rowGroup, off, len));
    const batch = wasm.recordBatch(0);
    wasm.free();
    if (batch === undefined) throw new Error('parquet-wasm returned no record batch');
    return batch;
  };
  if (opts.stream !== true && rows * columns.length <= ONE_SHOT_MAX_CELLS) {
    let bytes: Uint8Array;
    try {
      // writeParquet takes ownership of the wasm table (frees it).
      bytes = pq.writeParquet(pq.Table.fromIPCStream(encodeIpcStream(columns, rows, rowGroup)), writerProperties(pq, columns, opts));
    } catch (err) {
      throw wrapWriteError(path, err);
    }
    await writeFileAtomic(path, bytes, opts.fs ? { fs: opts.fs } : {});
    return;
  }
  let off = 0;
  let emitted = false;
  // parquet-wasm turns a JS error from the source into an opaque "Dyn casting error": keep ours.
  let buildError: unknown = null;
  // Pull-driven: the next row group is built only when the encoder asks for it.
  const batches = new ReadableStream<Pq.RecordBatch>({
    pull(ctl) {
      try {
        if (off >= rows && emitted) {
          ctl.close();
          return;
        }
        const len = Math.min(rowGroup, rows - off);
        ctl.enqueue(batchAt(off, len));
        off += len;
        emitted = true; // an empty table still sends one (empty) batch so the schema is written
      } catch (err) {
        buildError = err;
        ctl.error(err);
      }
    },
  });
  const out = createAtomicWriteStream(path, { fs: opts.fs });
  try {
    const encoded = await pq.transformParquetStream(batches, writerProperties(pq, columns, opts));
    for await (const chunk of encoded as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await drained(out);
    }
    await out.commit();
  } catch (caught) {
    await out.abort();
    throw wrapWriteError(path, buildError ?? caught);
  }
}

function wrapWriteError(path: string, err: unknown): Error {
  if (err instanceof ParquetFileError) return err;
  if (err instanceof ColumnError) return new ParquetFileError(path, err.message, err);
  const e = err as NodeJS.ErrnoException;
  if (e?.code && e.message?.startsWith(path)) return e; // already names the file (I/O errors)
  return new ParquetFileError(path, `writing Parquet failed: ${e instanceof Error ? e.message : String(e)}`, err);
}

export interface ReadOptions {
  /** Only these columns (default: all). */
  columns?: string[];
  /** Rows per batch (default: the row group size). */
  batchSize?: number;
}

async function openParquet(path: string): Promise<Pq.ParquetFile> {
  let blob: Blob;
  try {
    blob = await openAsBlob(path);
  } catch (err) {
    throw new ParquetFileError(path, `cannot open: ${(err as Error).message}`, err);
  }
  try {
    return await (await parquetWasm()).ParquetFile.fromFile(blob);
  } catch (err) {
    throw new ParquetFileError(
      path,
      `not a readable Parquet file (expected 'PAR1' magic and a valid footer): ${String((err as Error)?.message ?? err)}`,
      err,
    );
  }
}

/** File-level facts without reading data. */
export interface ParquetFileInfo {
  rows: number;
  rowGroups: number;
  rowGroupRows: number[];
  createdBy: string | null;
  /** Raw Parquet key/value metadata (includes ARROW:schema). */
  keyValue: Map<string, string>;
  /** Our `metadata` option as written (empty when absent or unparsable). */
  metadata: Record<string, string>;
  schema: Arrow.Schema;
}

export async function parquetFileInfo(path: string): Promise<ParquetFileInfo> {
  const arrow = await apacheArrow();
  const file = await openParquet(path);
  try {
    const md = file.metadata();
    const fmd = md.fileMetadata();
    const rowGroupRows = md.rowGroups().map((g) => g.numRows());
    const ipcSchema = file.schema().intoIPCStream();
    const schema = arrow.tableFromIPC(ipcSchema).schema;
    const keyValue = fmd.keyValueMetadata() as Map<string, string>;
    let metadata: Record<string, string> = {};
    try {
      metadata = JSON.parse(keyValue.get(METADATA_KEY) ?? '{}') as Record<string, string>;
    } catch {
      /* foreign file */
    }
    return {
      rows: fmd.numRows(),
      rowGroups: md.numRowGroups(),
      rowGroupRows,
      createdBy: fmd.createdBy() ?? null,
      keyValue,
      metadata,
      schema,
    };
  } finally {
    file.free();
  }
}

/** Streams the file as Arrow JS record batches (one row group's worth at a time by default). */
export async function* readParquetBatches(path: string, opts: ReadOptions = {}): AsyncGenerator<Arrow.RecordBatch> {
  const arrow = await apacheArrow();
  const file = await openParquet(path);
  try {
    let stream: ReadableStream<Pq.RecordBatch>;
    try {
      stream = await file.stream({ batchSize: opts.batchSize ?? DEFAULT_ROW_GROUP_SIZE, columns: opts.columns });
    } catch (err) {
      throw new ParquetFileError(path, `cannot read: ${String((err as Error)?.message ?? err)}`, err);
    }
    const reader = stream.getReader();
    let finished = false;
    try {
      for (;;) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (err) {
          finished = true;
          throw new ParquetFileError(path, `corrupt data: ${String((err as Error)?.message ?? err)}`, err);
        }
        if (r.done) {
          finished = true;
          break;
        }
        const t = arrow.tableFromIPC(r.value.intoIPCStream());
        for (const b of t.batches) yield b;
      }
    } finally {
      // A consumer that stops early (break/throw) cancels the decode instead of leaving it pending.
      if (!finished) await reader.cancel().catch(() => {});
    }
  } finally {
    file.free();
  }
}

/** Reads the whole file into an apache-arrow Table (artifacts; bars use readBarsParquet). */
export async function readParquetTable(path: string, opts: ReadOptions = {}): Promise<Arrow.Table> {
  const arrow = await apacheArrow();
  const batches: Arrow.RecordBatch[] = [];
  for await (const b of readParquetBatches(path, opts)) batches.push(b);
  if (batches.length === 0) {
    const info = await parquetFileInfo(path);
    return new arrow.Table(opts.columns ? info.schema.select(opts.columns) : info.schema);
  }
  return new arrow.Table(batches);
}
