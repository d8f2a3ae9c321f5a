/**
 * Child process: download from Databento (timeseries.get_range per schema) into
 * <data>/tmp/fetch-*, then import (and derive) like `btnb data import`. The API key arrives
 * only in the start message — never argv, env or a file — and every error text is redacted.
 * Downloaded files are kept when the import fails (they were paid for).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runJobChild } from './childRuntime.ts';

runJobChild('fetch', async (p, ctx) => {
  const [{ HistoricalClient }, { importFiles }] = await Promise.all([import('../databento/historicalClient.ts'), import('../ingest/importFiles.ts')]);
  const client = new HistoricalClient({
    key: p.apiKey,
    ...(p.baseUrl ? { baseUrl: p.baseUrl } : {}),
    env: {},
    onRetry: (e) => ctx.log('warn', client.redact(`retry: ${JSON.stringify(e)}`)),
    onWarning: (w, endpoint) => ctx.log('warn', client.redact(`${endpoint}: ${w}`)),
  });
  const tmpRoot = join(p.dataDir, 'tmp');
  await mkdir(tmpRoot, { recursive: true });
  const dir = await mkdtemp(join(tmpRoot, 'fetch-'));
  const files: string[] = [];
  try {
    for (const [i, schema] of p.schemas.entries()) {
      const params = { dataset: p.dataset, symbols: p.symbols, schema, start: p.start, end: p.end, stypeIn: 'raw_symbol' };
      const dest = join(dir, `${p.dataset}-${schema}-${p.symbols.join('_').slice(0, 60)}.dbn.zst`);
      const r = await client.getRange(params, dest, {
        signal: ctx.signal,
        onProgress: (pr) => ctx.progress(`download ${schema}`, pr.totalBytes ? pr.bytes : i, pr.totalBytes ?? p.schemas.length, `${schema}: ${(pr.bytes / 1e6).toFixed(1)} MB`),
      });
      ctx.log('info', `${schema}: ${r.bytes} bytes, sha256 ${r.sha256}${r.partial ? ' (HTTP 206: some symbols only partly resolved)' : ''}`);
      files.push(r.path);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(client.redact((err as Error).message));
  }
  try {
    const result = await importFiles(files, { dataDir: p.dataDir, derive: p.derive, onProgress: (x) => ctx.progress(x.phase, x.done, x.total), signal: ctx.signal });
    await rm(dir, { recursive: true, force: true });
    return { ...result, downloads: files.length };
  } catch (err) {
    throw new Error(`${client.redact((err as Error).message)} — the downloaded files are kept in ${dir}; import them with Backtest: Import DBN Files…`);
  }
});
