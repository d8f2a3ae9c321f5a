// Databento historical HTTP API client (DBN brief §12): cost/size queries and streaming
// timeseries.get_range downloads to disk, with retries. The key is held in a private field
// and never appears in a message, URL or log line (every error text passes `redact`).
import { createHash } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../io/atomicWrite.ts';
import { DatabentoAbortError, DatabentoTransportError, makeRedactor, parseWarnings } from './errors.ts';
import {
  downloadFile,
  listFiles,
  submitJob,
  waitForJob,
  type BatchDownload,
  type BatchFile,
  type BatchJob,
  type BatchState,
} from './batch.ts';
import { metadataForm, rangeForm, type RangeParams } from './params.ts';
import { RetryPolicy, type RetryEvent, type RetryOptions } from './retry.ts';
import { apiError, header, makeAgents, mapNetworkError, normalizeBaseUrl, post, readSmallBody, type TransportConfig } from './transport.ts';
import { ZstdFrameError, ZstdFrameWalker } from './zstdFrames.ts';

export const DEFAULT_BASE_URL = 'https://hist.databento.com';

export interface HistoricalClientOptions extends RetryOptions {
  /** The API key (`db-…`): sent as the Basic-auth username with an empty password. */
  key: string;
  /** Default: env DATABENTO_BASE_URL, else https://hist.databento.com (`/v0` is appended). */
  baseUrl?: string;
  /** Idle timeout: a request fails (and is retried) when no byte arrives for this long. Default 100 s. */
  timeoutMs?: number;
  onRetry?: (e: RetryEvent) => void;
  /** Each X-Warning entry of each response. */
  onWarning?: (warning: string, endpoint: string) => void;
  /** Environment to read DATABENTO_BASE_URL and HTTPS_PROXY/HTTP_PROXY/NO_PROXY from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface DownloadProgress {
  /** Compressed bytes written so far in the current attempt. */
  bytes: number;
  /** Content-Length when the server sent one, else null (Databento streams chunked). */
  totalBytes: number | null;
  attempt: number;
  elapsedMs: number;
  done: boolean;
}

export interface GetRangeOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface RangeDownload {
  path: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
  /** 200, or 206 (success with some symbols only partly resolved: see the metadata's partial/not_found). */
  status: number;
  partial: boolean;
  warnings: string[];
  attempts: number;
  requestId: string | null;
  zstdFrames: number;
  elapsedMs: number;
}

export class HistoricalClient {
  readonly baseUrl: string;
  readonly #cfg: TransportConfig;
  readonly #retry: RetryPolicy;
  readonly #onRetry: ((e: RetryEvent) => void) | undefined;
  readonly #onWarning: ((w: string, endpoint: string) => void) | undefined;
  /** Removes the key (and its base64 forms) from any text. */
  readonly redact: (text: string) => string;

  constructor(opts: HistoricalClientOptions) {
    if (typeof opts.key !== 'string' || opts.key.trim() === '') {
      throw new TypeError('Databento API key: expected a non-empty key (env DATABENTO_API_KEY)');
    }
    if (/[\s:]/.test(opts.key)) throw new TypeError('Databento API key: must not contain whitespace or ":"');
    const env = opts.env ?? process.env;
    this.baseUrl = normalizeBaseUrl(opts.baseUrl ?? env.DATABENTO_BASE_URL ?? DEFAULT_BASE_URL);
    this.redact = makeRedactor(opts.key);
    this.#cfg = {
      baseUrl: this.baseUrl,
      agents: makeAgents(env),
      authorization: `Basic ${Buffer.from(`${opts.key}:`).toString('base64')}`,
      timeoutMs: opts.timeoutMs ?? 100_000,
      userAgent: 'btnb-databento/0.1 (node)',
      redact: this.redact,
    };
    this.#retry = new RetryPolicy(opts);
    this.#onRetry = opts.onRetry;
    this.#onWarning = opts.onWarning;
  }

  /** Keeps the key out of util.inspect / console.log of the client. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `HistoricalClient { baseUrl: '${this.baseUrl}' }`;
  }

  toJSON(): { baseUrl: string } {
    return { baseUrl: this.baseUrl };
  }

  /** metadata.get_cost: the cost of the request in US dollars. */
  async getCost(params: RangeParams, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const v = await this.#metadata('metadata.get_cost', params, opts.signal);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw this.#shape('metadata.get_cost', 'a non-negative JSON number (US dollars)', v);
    return v;
  }

  /** metadata.get_record_count: how many records the request would return. */
  async getRecordCount(params: RangeParams, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const v = await this.#metadata('metadata.get_record_count', params, opts.signal);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw this.#shape('metadata.get_record_count', 'a non-negative JSON integer', v);
    return v;
  }

  /** metadata.get_billable_size: uncompressed DBN record bytes the request would be billed for. */
  async getBillableSize(params: RangeParams, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const v = await this.#metadata('metadata.get_billable_size', params, opts.signal);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw this.#shape('metadata.get_billable_size', 'a non-negative JSON integer (bytes)', v);
    return v;
  }

  /** The batch API (batch.ts) with this client's key, retries and timeouts. */
  get batch(): {
    submit(params: RangeParams, signal?: AbortSignal): Promise<BatchJob>;
    wait(id: string, o?: { pollMs?: number; onState?: (s: BatchState, polls: number) => void; signal?: AbortSignal }): Promise<BatchJob>;
    files(id: string, signal?: AbortSignal): Promise<BatchFile[]>;
    download(
      f: BatchFile,
      destPath: string,
      o?: { signal?: AbortSignal; onProgress?: (bytes: number, total: number) => void },
    ): Promise<BatchDownload>;
  } {
    const ctx = { cfg: this.#cfg, retry: this.#retry, onRetry: this.#onRetry };
    return {
      submit: (params, signal) => submitJob(ctx, params, signal),
      wait: (id, o = {}) => waitForJob(ctx, id, { pollMs: o.pollMs ?? 10_000, sleep: this.#retry.sleep, ...o }),
      files: (id, signal) => listFiles(ctx, id, signal),
      download: (f, destPath, o) => downloadFile(ctx, f, destPath, o),
    };
  }

  /**
   * timeseries.get_range as zstd DBN, streamed to `destPath + '.part'`, fsynced, then renamed
   * to `destPath`. The body must end on a zstd frame boundary (and match Content-Length when
   * sent); otherwise the attempt counts as a dropped connection. A retry starts from scratch:
   * get_range is a POST whose body Databento generates per request (no validators, no
   * Accept-Ranges), so a Range resume could splice two different streams.
   */
  async getRange(params: RangeParams, destPath: string, opts: GetRangeOptions = {}): Promise<RangeDownload> {
    const endpoint = 'timeseries.get_range';
    const form = rangeForm(params);
    const t0 = performance.now();
    let attempts = 0;
    const result = await this.#retry.run(
      endpoint,
      async (attempt) => {
        attempts = attempt;
        return this.#downloadOnce(endpoint, form, destPath, attempt, t0, opts);
      },
      opts.signal,
      this.#onRetry,
    );
    return { ...result, attempts, elapsedMs: performance.now() - t0 };
  }

  async #downloadOnce(
    endpoint: string,
    form: URLSearchParams,
    destPath: string,
    attempt: number,
    t0: number,
    opts: GetRangeOptions,
  ): Promise<Omit<RangeDownload, 'attempts' | 'elapsedMs'>> {
    const part = `${destPath}.part`;
    const { signal, onProgress } = opts;
    // The .part is opened before the request: a download that cannot be written is never requested (or paid for).
    const fh = await open(part, 'w', 0o644).catch((err: Error) => {
      throw new DownloadWriteError(part, err);
    });
    let committed = false;
    let ex: Awaited<ReturnType<typeof post>> | null = null;
    try {
      ex = await post(this.#cfg, endpoint, form, 'application/octet-stream', signal);
      const status = ex.res.statusCode ?? 0;
      if (status !== 200 && status !== 206) throw await apiError(this.#cfg, endpoint, ex, signal);
      const warnings = this.#warnings(endpoint, ex.res.headers['x-warning']);
      const lenHeader = header(ex.res, 'content-length');
      const totalBytes = lenHeader !== undefined && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;
      const hash = createHash('sha256');
      const walker = new ZstdFrameWalker();
      let bytes = 0;
      onProgress?.({ bytes: 0, totalBytes, attempt, elapsedMs: performance.now() - t0, done: false });
      // Writes are batched (≥ 1 MiB, one writev in flight while the socket keeps reading):
      // an awaited write per 64 KiB socket chunk cost ~40 % of loopback throughput.
      const writer = new BatchedWriter(fh, part);
      let firstChunk: Buffer | null = null;
      try {
        for await (const chunk of ex.res as AsyncIterable<Buffer>) {
          firstChunk ??= chunk;
          walker.push(chunk);
          hash.update(chunk);
          await writer.add(chunk);
          bytes += chunk.length;
          onProgress?.({ bytes, totalBytes, attempt, elapsedMs: performance.now() - t0, done: false });
        }
        await writer.flush();
      } catch (err) {
        await writer.settle();
        if (err instanceof DownloadWriteError) throw err; // local disk trouble: not retried
        if (err instanceof ZstdFrameError) {
          ex.destroy();
          // e.g. a proxy's HTML page or a JSON error sent with 200: show its start so the cause is visible
          const head = err.offset < 256 && firstChunk ? firstChunk.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ') : '';
          const ctype = header(ex.res, 'content-type');
          throw new DatabentoTransportError(
            endpoint,
            'corrupt',
            this.redact(
              `response body (HTTP ${status}${ctype ? `, ${ctype}` : ''}) is not a zstd DBN stream: ${err.message}${head ? `; body starts: ${head}` : ''}`,
            ),
          );
        }
        throw mapNetworkError(this.#cfg, endpoint, err, ex.timedOut(), signal);
      }
      if (signal?.aborted) throw new DatabentoAbortError(endpoint);
      if (ex.timedOut()) throw mapNetworkError(this.#cfg, endpoint, null, true, signal);
      if (!ex.res.complete) {
        throw new DatabentoTransportError(endpoint, 'truncated', `connection dropped after ${bytes} bytes of the body`);
      }
      if (totalBytes !== null && bytes !== totalBytes) {
        throw new DatabentoTransportError(endpoint, 'truncated', `body ended after ${bytes} of ${totalBytes} bytes (Content-Length)`);
      }
      try {
        walker.finish();
      } catch (err) {
        throw new DatabentoTransportError(endpoint, 'truncated', `body ended mid-frame after ${bytes} bytes: ${(err as Error).message}`);
      }
      try {
        await fh.sync();
        await fh.close();
        await rename(part, destPath);
      } catch (err) {
        throw new DownloadWriteError(part, err as Error);
      }
      committed = true;
      await fsyncDir(dirname(destPath));
      onProgress?.({ bytes, totalBytes, attempt, elapsedMs: performance.now() - t0, done: true });
      return {
        path: destPath,
        bytes,
        sha256: hash.digest('hex'),
        status,
        partial: status === 206,
        warnings,
        requestId: header(ex.res, 'request-id') ?? null,
        zstdFrames: walker.frames,
      };
    } finally {
      if (!committed) {
        await fh.close().catch(() => {});
        await unlink(part).catch(() => {});
        ex?.destroy();
      }
    }
  }

  async #metadata(endpoint: string, params: RangeParams, signal?: AbortSignal): Promise<unknown> {
    const form = metadataForm(params);
    return this.#retry.run(
      endpoint,
      async () => {
        const ex = await post(this.#cfg, endpoint, form, 'application/json', signal);
        const status = ex.res.statusCode ?? 0;
        if (status < 200 || status > 299) throw await apiError(this.#cfg, endpoint, ex, signal);
        this.#warnings(endpoint, ex.res.headers['x-warning']);
        const text = await readSmallBody(this.#cfg, endpoint, ex, 1 << 20, signal);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw this.#shape(endpoint, 'a JSON body', text);
        }
      },
      signal,
      this.#onRetry,
    );
  }

  #warnings(endpoint: string, value: string | string[] | undefined): string[] {
    const list = parseWarnings(value).map(this.redact);
    for (const w of list) this.#onWarning?.(w, endpoint);
    return list;
  }

  #shape(endpoint: string, expected: string, got: unknown): Error {
    const text = typeof got === 'string' ? got : JSON.stringify(got);
    return new TypeError(this.redact(`Databento ${endpoint}: expected ${expected}, got ${(text ?? 'undefined').slice(0, 200)}`));
  }
}

const BATCH_BYTES = 1 << 20;

/** The download could not be written locally (disk full, permissions): never retried. */
export class DownloadWriteError extends Error {
  override name = 'DownloadWriteError';
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(`cannot write the download to ${path}: ${cause.message}`);
    this.path = path;
    this.code = code;
  }
}

/** Collects chunks and writes them with writev, keeping at most one write in flight. */
class BatchedWriter {
  private readonly fh: FileHandle;
  private readonly path: string;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inflight: Promise<void> | null = null;

  constructor(fh: FileHandle, path: string) {
    this.fh = fh;
    this.path = path;
  }

  async add(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH_BYTES) return;
    await this.inflight;
    this.inflight = this.write(this.pending, this.pendingBytes);
    this.inflight.catch(() => {}); // awaited by the next add/flush/settle; never an unhandled rejection
    this.pending = [];
    this.pendingBytes = 0;
  }

  async flush(): Promise<void> {
    await this.inflight;
    this.inflight = null;
    if (this.pendingBytes > 0) await this.write(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Waits for a write in flight, ignoring its outcome (the caller is already failing). */
  async settle(): Promise<void> {
    await this.inflight?.catch(() => {});
    this.inflight = null;
  }

  private async write(bufs: Buffer[], total: number): Promise<void> {
    try {
      const { bytesWritten } = await this.fh.writev(bufs);
      if (bytesWritten === total) return;
      // short write (rare): finish it byte-exactly
      const rest = Buffer.concat(bufs).subarray(bytesWritten);
      let off = 0;
      while (off < rest.length) off += (await this.fh.write(rest, off, rest.length - off)).bytesWritten;
    } catch (err) {
      throw new DownloadWriteError(this.path, err as Error);
    }
  }
}
