/**
 * The streaming core of derive: a dataset's sources → BarSeries (no file written).
 * Per-file symbol filters (mappings by UTC date), the ts_recv merge, the minute aggregator.
 */
import { isAbsolute, join } from 'node:path';
import type { DatasetRow } from '../ports/catalog.ts';
import type { Mbp1Columns } from '../dbn/columns.ts';
import { readMetadata } from '../dbn/decoder.ts';
import { InstrumentFilter, resolveIntervals } from './instrumentFilter.ts';
import { MinuteAggregator, type QuoteSpan } from './minuteAggregator.ts';
import { mergeSources, type MergeSource } from './sourceMerge.ts';

export interface DeriveOptions {
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  signal?: AbortSignal;
  /** Decoder batch size (tests). */
  batchSize?: number;
}

function absolute(dataDir: string, p: string): string {
  return isAbsolute(p) ? p : join(dataDir, p);
}

/** Aggregates the dataset's sources into bars; no file is written. */
export async function computeBars(dataDir: string, row: Pick<DatasetRow, 'dataset_id' | 'symbol' | 'sources'>, opts: DeriveOptions = {}) {
  const sources = row.sources;
  if (sources.length === 0) throw new Error(`dataset ${row.dataset_id}: has no sources`);
  const metas = await Promise.all(sources.map((s) => readMetadata(absolute(dataDir, s.path))));
  const hasTrades = sources.some((s) => s.schema === 'trades');
  const quoteSpans: QuoteSpan[] = [];
  sources.forEach((s, i) => {
    if (s.schema === 'tbbo') quoteSpans.push({ start: metas[i]!.start, end: metas[i]!.end });
  });
  const filters = metas.map((m) => new InstrumentFilter(resolveIntervals(m), row.symbol));
  const agg = new MinuteAggregator({ symbol: row.symbol, quoteSpans });
  const matched = new Float64Array(sources.length);
  const mergeSrc: MergeSource[] = sources.map((s, i) => {
    if (s.schema !== 'trades' && s.schema !== 'tbbo')
      throw new Error(`dataset ${row.dataset_id}: source ${s.path} has schema '${s.schema}'; derive supports trades, tbbo`);
    return { path: absolute(dataDir, s.path), name: s.path, sha256: s.sha256, schema: s.schema, recordsOffset: metas[i]!.recordsOffset };
  });
  // Progress as minutes of the sources' metadata span covered so far (a real fraction, no record count needed).
  const spanStart = metas.reduce((a, m) => (m.start < a ? m.start : a), metas[0]!.start);
  const spanEnd = metas.reduce((a, m) => (m.end !== null && m.end > a ? m.end : a), spanStart);
  const totalMinutes = Number((spanEnd - spanStart) / 60_000_000_000n);
  let runs = 0;
  const stats = await mergeSources(
    mergeSrc,
    (i, batch, from, to) => {
      if (mergeSrc[i]!.schema === 'trades') matched[i] = matched[i]! + agg.addTrades(batch, from, to, filters[i]);
      else matched[i] = matched[i]! + agg.addQuotes(batch as Mbp1Columns, from, to, filters[i], !hasTrades);
      if (opts.onProgress && (++runs & 15) === 0) {
        const done = Number((batch.tsRecv[from]! - spanStart) / 60_000_000_000n);
        opts.onProgress({ phase: 'derive', done: Math.min(Math.max(done, 0), totalMinutes), total: totalMinutes });
      }
    },
    { signal: opts.signal, batchSize: opts.batchSize, barFieldsOnly: true },
  );
  const bars = agg.finish();
  const instrumentIds = [...new Set(filters.flatMap((f) => [...f.seenIds]))].sort((a, b) => a - b);
  return { bars, metas, stats, matched, instrumentIds };
}
