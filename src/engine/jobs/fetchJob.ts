/**
 * Child process: download from Databento and import (and derive) like `btnb data fetch --yes`
 * — the same quote → download → import flow as the CLI (databento/fetchFlow.ts); the host
 * asked the user about the cost before starting this job. The API key arrives only in the
 * start message — never argv, env or a file — and every error text is redacted. Downloads
 * that arrived are kept when a later step fails (they were paid for).
 */
import { runJobChild } from './childRuntime.ts';

runJobChild('fetch', async (p, ctx) => {
  const [{ HistoricalClient }, flow] = await Promise.all([import('../databento/historicalClient.ts'), import('../databento/fetchFlow.ts')]);
  const client = new HistoricalClient({
    key: p.apiKey,
    ...(p.baseUrl ? { baseUrl: p.baseUrl } : {}),
    env: {},
    onRetry: (e) => ctx.log('warn', client.redact(`retry ${e.attempt}/${e.maxAttempts} of ${e.endpoint} in ${e.delayMs} ms: ${e.reason}`)),
    onWarning: (w, endpoint) => ctx.log('warn', client.redact(`${endpoint}: ${w}`)),
  });
  try {
    const quote = await flow.quoteFetch(
      client,
      { dataset: p.dataset, symbols: p.symbols, schemas: p.schemas, start: p.start, end: p.end },
      { signal: ctx.signal },
    );
    const outcome = await flow.downloadAndImport(client, quote, {
      dataDir: p.dataDir,
      derive: p.derive,
      signal: ctx.signal,
      onDownloadProgress: (schema, pr) =>
        ctx.progress(`download ${schema}`, pr.bytes, pr.totalBytes ?? 0, `${schema}: ${(pr.bytes / 1e6).toFixed(1)} MB`),
      onDownloaded: (f) =>
        ctx.log(
          'info',
          `${f.schema}: ${f.bytes} bytes, sha256 ${f.sha256}${f.partial ? ' (HTTP 206: some symbols only partly resolved)' : ''}`,
        ),
      onImportProgress: ctx.phaseProgress,
      onBatchState: (schema, state, polls) => ctx.log('info', `${schema}: batch job ${state} (poll ${polls})`),
    });
    return flow.fetchResultJson(quote, outcome);
  } catch (err) {
    if (err instanceof flow.FetchFailedError && err.keptDir) {
      throw new Error(`${err.message} — the downloaded files are kept in ${err.keptDir}; import them with Backtest: Import DBN Files…`);
    }
    throw new Error(client.redact((err as Error).message));
  }
});
