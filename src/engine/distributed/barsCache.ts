/**
 * A worker's datasets: bars.parquet fetched from the coordinator by dataset id, verified by its
 * SHA-256 (the job names it: content-addressed), kept under `<cacheDir>/bars/<sha256>.parquet`
 * and decoded once per process (a few datasets at a time).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BarSeries } from '../bars/barSeries.ts';
import { readBarsParquet } from '../parquet/barsParquet.ts';
import { patiently } from './patience.ts';

const KEEP = 4;

export class BarsCache {
  readonly #dir: string;
  readonly #server: string;
  readonly #headers: Record<string, string>;
  readonly #decoded = new Map<string, Promise<BarSeries>>();
  /** Bytes fetched over HTTP (the benchmark's bytes moved). */
  bytesFetched = 0;

  constructor(cacheDir: string, server: string, headers: Record<string, string>) {
    this.#dir = join(cacheDir, 'bars');
    this.#server = server.replace(/\/$/, '');
    this.#headers = headers;
  }

  bars(datasetId: string, sha256: string): Promise<BarSeries> {
    let p = this.#decoded.get(sha256);
    if (p) {
      this.#decoded.delete(sha256);
    } else {
      p = this.#file(datasetId, sha256).then((path) => readBarsParquet(path));
      p.catch(() => this.#decoded.delete(sha256));
    }
    this.#decoded.set(sha256, p);
    while (this.#decoded.size > KEEP) this.#decoded.delete(this.#decoded.keys().next().value!);
    return p;
  }

  async #file(datasetId: string, sha256: string): Promise<string> {
    const path = join(this.#dir, `${sha256}.parquet`);
    if (existsSync(path)) return path;
    const url = `${this.#server}/datasets/${encodeURIComponent(datasetId)}/bars.parquet`;
    const res = await patiently(`GET ${url}`, () => fetch(url, { headers: this.#headers }));
    const bytes = new Uint8Array(await res.arrayBuffer());
    this.bytesFetched += bytes.length;
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== sha256)
      throw new Error(
        `GET ${url}: the ${bytes.length} bytes received hash to ${got}, the job expects ${sha256} (changed or truncated on the way)`,
      );
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
    return path;
  }
}
