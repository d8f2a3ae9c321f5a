/**
 * Databento's batch API for large requests: submit a job, poll until its files are ready,
 * download each file. Unlike get_range, batch files are static: a dropped download resumes
 * where it stopped (HTTP Range on the `.part` file), and a finished file is checked against the
 * size and SHA-256 the API lists before it is renamed into place. A mismatch discards the part
 * and downloads it again.
 */
import { existsSync, statSync } from 'node:fs';
import { open, rename, truncate, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../io/atomicWrite.ts';
import { sha256File } from '../io/files.ts';
import { DatabentoAbortError, DatabentoTransportError } from './errors.ts';
import { rangeForm, type RangeParams } from './params.ts';
import type { RetryEvent, RetryPolicy } from './retry.ts';
import { apiError, get, header, mapNetworkError, post, readSmallBody, type TransportConfig } from './transport.ts';

export type BatchState = 'received' | 'queued' | 'processing' | 'done' | 'expired';

export interface BatchJob {
  id: string;
  state: BatchState;
  costUsd: number | null;
}

export interface BatchFile {
  filename: string;
  size: number;
  /** Lowercase hex SHA-256. */
  sha256: string;
  url: string;
}

export interface BatchDownload {
  path: string;
  bytes: number;
  sha256: string;
  attempts: number;
  /** Byte offsets attempts resumed from (Range requests), in order. */
  resumedFrom: number[];
}

interface Ctx {
  cfg: TransportConfig;
  retry: RetryPolicy;
  onRetry: ((e: RetryEvent) => void) | undefined;
}

async function json(ctx: Ctx, endpoint: string, send: () => ReturnType<typeof post>, signal?: AbortSignal): Promise<unknown> {
  return ctx.retry.run(
    endpoint,
    async () => {
      const ex = await send();
      const status = ex.res.statusCode ?? 0;
      if (status < 200 || status > 299) throw await apiError(ctx.cfg, endpoint, ex, signal);
      const text = await readSmallBody(ctx.cfg, endpoint, ex, 16 << 20, signal);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new TypeError(ctx.cfg.redact(`Databento ${endpoint}: expected a JSON body, got ${text.slice(0, 200)}`));
      }
    },
    signal,
    ctx.onRetry,
  );
}

function jobOf(endpoint: string, v: unknown): BatchJob {
  const o = v as { id?: unknown; state?: unknown; cost_usd?: unknown };
  if (!o || typeof o.id !== 'string' || typeof o.state !== 'string')
    throw new TypeError(`Databento ${endpoint}: expected a job with "id" and "state", got ${JSON.stringify(v)?.slice(0, 200)}`);
  return { id: o.id, state: o.state as BatchState, costUsd: typeof o.cost_usd === 'number' ? o.cost_usd : null };
}

/** batch.submit_job: one job for the request, DBN + zstd, one file per day (split_duration=day). */
export async function submitJob(ctx: Ctx, params: RangeParams, signal?: AbortSignal): Promise<BatchJob> {
  const form = rangeForm(params);
  form.set('split_duration', 'day');
  form.set('delivery', 'download');
  return jobOf(
    'batch.submit_job',
    await json(ctx, 'batch.submit_job', () => post(ctx.cfg, 'batch.submit_job', form, 'application/json', signal), signal),
  );
}

/** Polls batch.list_jobs until the job is done; `onState` hears every state seen. An expired job is an error. */
export async function waitForJob(
  ctx: Ctx,
  id: string,
  o: {
    pollMs: number;
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
    onState?: (s: BatchState, polls: number) => void;
    signal?: AbortSignal;
  },
): Promise<BatchJob> {
  for (let polls = 1; ; polls++) {
    const q = new URLSearchParams({ states: 'received,queued,processing,done,expired' });
    const list = await json(
      ctx,
      'batch.list_jobs',
      () => get(ctx.cfg, 'batch.list_jobs', q, 'application/json', o.signal ? { signal: o.signal } : {}),
      o.signal,
    );
    if (!Array.isArray(list))
      throw new TypeError(`Databento batch.list_jobs: expected a JSON array, got ${JSON.stringify(list)?.slice(0, 200)}`);
    const job = list.map((j) => jobOf('batch.list_jobs', j)).find((j) => j.id === id);
    if (!job) throw new Error(`Databento batch job ${id} is not in batch.list_jobs (expired or deleted)`);
    o.onState?.(job.state, polls);
    if (job.state === 'done') return job;
    if (job.state === 'expired') throw new Error(`Databento batch job ${id} expired before its files were downloaded`);
    try {
      await o.sleep(o.pollMs, o.signal);
    } catch {
      throw new DatabentoAbortError('batch.list_jobs');
    }
  }
}

/** batch.list_files: the job's files with size, SHA-256 and download URL. */
export async function listFiles(ctx: Ctx, id: string, signal?: AbortSignal): Promise<BatchFile[]> {
  const q = new URLSearchParams({ job_id: id });
  const v = await json(
    ctx,
    'batch.list_files',
    () => get(ctx.cfg, 'batch.list_files', q, 'application/json', signal ? { signal } : {}),
    signal,
  );
  if (!Array.isArray(v)) throw new TypeError(`Databento batch.list_files: expected a JSON array, got ${JSON.stringify(v)?.slice(0, 200)}`);
  return v.map((f: { filename?: unknown; size?: unknown; hash?: unknown; urls?: { https?: unknown } }) => {
    const hash = typeof f.hash === 'string' ? f.hash.replace(/^sha256:/, '').toLowerCase() : '';
    if (
      typeof f.filename !== 'string' ||
      !/^[\w.+-]+$/.test(f.filename) ||
      !Number.isSafeInteger(f.size) ||
      !/^[0-9a-f]{64}$/.test(hash) ||
      typeof f.urls?.https !== 'string'
    )
      throw new TypeError(
        `Databento batch.list_files: expected filename, size, sha256 hash and urls.https, got ${JSON.stringify(f).slice(0, 200)}`,
      );
    return { filename: f.filename, size: f.size as number, sha256: hash, url: f.urls.https };
  });
}

/**
 * Downloads one batch file to `destPath` through `destPath.part`, resuming a part left by an
 * earlier attempt or process with a Range request. Verified by size and SHA-256 before the rename.
 */
export async function downloadFile(
  ctx: Ctx,
  file: BatchFile,
  destPath: string,
  o: { signal?: AbortSignal; onProgress?: (bytes: number, total: number) => void } = {},
): Promise<BatchDownload> {
  const endpoint = 'batch.download';
  const part = `${destPath}.part`;
  if (existsSync(destPath) && statSync(destPath).size === file.size && (await sha256File(destPath)) === file.sha256)
    return { path: destPath, bytes: file.size, sha256: file.sha256, attempts: 0, resumedFrom: [] };
  const resumedFrom: number[] = [];
  let attempts = 0;
  await ctx.retry.run(
    endpoint,
    async (n) => {
      attempts = n;
      let have = existsSync(part) ? statSync(part).size : 0;
      if (have > file.size) {
        await truncate(part, 0);
        have = 0;
      }
      if (have < file.size) {
        const ex = await get(ctx.cfg, endpoint, file.url, 'application/octet-stream', {
          headers: have > 0 ? { range: `bytes=${have}-` } : {},
          ...(o.signal ? { signal: o.signal } : {}),
        });
        const status = ex.res.statusCode ?? 0;
        if (status !== 200 && status !== 206) throw await apiError(ctx.cfg, endpoint, ex, o.signal);
        // 206 must continue exactly where the part ends; a 200 is the whole file again
        const range = header(ex.res, 'content-range');
        const resumed = status === 206 && have > 0 && range !== undefined && range.startsWith(`bytes ${have}-`);
        if (status === 206 && !resumed) {
          ex.destroy();
          await truncate(part, 0).catch(() => undefined);
          throw new DatabentoTransportError(
            endpoint,
            'truncated',
            `the server answered Range bytes=${have}- with Content-Range ${range ?? '(none)'}; starting over`,
          );
        }
        if (resumed) resumedFrom.push(have);
        else have = 0;
        const fh = await open(part, resumed ? 'a' : 'w', 0o644);
        let bytes = have;
        try {
          for await (const chunk of ex.res as AsyncIterable<Buffer>) {
            await fh.write(chunk);
            bytes += chunk.length;
            o.onProgress?.(bytes, file.size);
          }
          await fh.sync();
        } catch (err) {
          // keep what arrived: the next attempt resumes after it
          throw mapNetworkError(ctx.cfg, endpoint, err, ex.timedOut(), o.signal);
        } finally {
          await fh.close().catch(() => undefined);
        }
        if (o.signal?.aborted) throw new DatabentoAbortError(endpoint);
        if (!ex.res.complete || bytes < file.size)
          throw new DatabentoTransportError(
            endpoint,
            'truncated',
            `${file.filename}: connection ended after ${bytes} of ${file.size} bytes`,
          );
      }
      const size = statSync(part).size;
      const sha = size === file.size ? await sha256File(part) : '';
      if (sha !== file.sha256) {
        await unlink(part).catch(() => undefined);
        throw new DatabentoTransportError(
          endpoint,
          'truncated',
          `${file.filename}: ${size !== file.size ? `${size} bytes, expected ${file.size}` : `sha256 ${sha}, expected ${file.sha256}`}; the part was discarded`,
        );
      }
    },
    o.signal,
    ctx.onRetry,
  );
  await rename(part, destPath);
  await fsyncDir(dirname(destPath));
  return { path: destPath, bytes: file.size, sha256: file.sha256, attempts, resumedFrom };
}
