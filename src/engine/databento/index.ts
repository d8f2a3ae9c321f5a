// Public surface of the Databento historical client.
export { HistoricalClient, DEFAULT_BASE_URL, DownloadWriteError } from './historicalClient.ts';
export type { HistoricalClientOptions, DownloadProgress, GetRangeOptions, RangeDownload } from './historicalClient.ts';
export type { RangeParams } from './params.ts';
export { validateRangeParams, MAX_SYMBOLS } from './params.ts';
export type { RetryEvent, RetryOptions } from './retry.ts';
export {
  DatabentoAbortError,
  DatabentoApiError,
  DatabentoRetriesExhaustedError,
  DatabentoTransportError,
  makeRedactor,
  parseErrorBody,
  parseRetryAfter,
  parseWarnings,
} from './errors.ts';
export { ZstdFrameWalker, ZstdFrameError } from './zstdFrames.ts';
export {
  downloadAndImport,
  downloadFileName,
  FETCHABLE_SCHEMAS,
  FetchFailedError,
  fetchResultJson,
  quoteFetch,
  rangeParams,
} from './fetchFlow.ts';
export type { FetchableSchema, FetchedFile, FetchOutcome, FetchQuote, FetchRequest, SchemaQuote } from './fetchFlow.ts';
