/**
 * The catalog's datasets: GET /datasets, GET /datasets/{id}, and POST /datasets — the seed's
 * ensure_dataset (symbol + start … end, inclusive dates, + source → dataset id). A ready dataset of the symbol
 * covering the dates is answered at once (200); otherwise a job child makes one (202 + Location
 * of the job): `synth` synthesises seeded data and imports it like `btnb data synth --import`,
 * `databento` downloads and imports like `btnb data fetch --yes`. The Databento key is read only
 * from the server's environment and travels only in the job's start message; it is never echoed.
 */
import type { DatasetRow, DatasetSourceRow } from '../../ports/catalog.ts';
import { datasetCovering } from '../../ingest/localMarketData.ts';
import { sessionBoundsNs } from '../../calendar/xnys.ts';
import { Dataset, DatasetBody, DatasetId, DatasetJobAccepted, DatasetsList, Problem } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { assertRoomForJob } from '../guards.ts';

const ns = (v: bigint | null): string | null => (v === null ? null : v.toString());

function toApiSource(s: DatasetSourceRow): Dataset['sources'][number] {
  return {
    sha256: s.sha256,
    path: s.path,
    original_name: s.original_name,
    schema: s.schema,
    dbn_version: s.dbn_version,
    bytes: s.bytes,
    records: s.records,
    first_ts_recv: ns(s.first_ts_recv),
    last_ts_recv: ns(s.last_ts_recv),
    meta_start: ns(s.meta_start),
    meta_end: ns(s.meta_end),
  };
}

export function toApiDataset(d: DatasetRow): Dataset {
  return {
    dataset_id: d.dataset_id,
    symbol: d.symbol,
    databento_dataset: d.databento_dataset,
    schemas: d.schemas,
    start: d.start,
    end: d.end,
    bar_count: d.bar_count,
    bars_path: d.bars_path,
    manifest: d.manifest,
    derive_version: d.derive_version,
    status: d.status,
    error: d.error,
    created_at: d.created_at,
    updated_at: d.updated_at,
    sources: d.sources.map(toApiSource),
  };
}

/** XNYS trading days in start … end (YYYY-MM-DD, inclusive): what the synth job is asked to generate. */
function tradingDays(start: string, end: string): number {
  let days = 0;
  for (let d = Date.parse(start) / 86_400_000; d <= Date.parse(end) / 86_400_000; d++) if (sessionBoundsNs(d)) days++;
  return days;
}

interface InFlight {
  readonly id: number;
  readonly outcome: Promise<unknown>;
}

export function registerDatasets(app: TypedApp, ctx: ServerContext): void {
  /** Identical requests while their job runs share it (one dataset however many POSTs). */
  const inFlight = new Map<string, InFlight>();

  app.get('/datasets', { schema: { response: { 200: DatasetsList } } }, () => ({
    datasets: ctx.catalog.listDatasets().map(toApiDataset),
  }));

  app.get('/datasets/:id', { schema: { params: DatasetId, response: { 200: Dataset, 400: Problem, 404: Problem } } }, (req) => {
    const d = ctx.catalog.getDataset(req.params.id);
    if (!d) throw new HttpProblem(404, `dataset ${req.params.id} is not in the catalog`, { field: 'params.id' });
    return toApiDataset(d);
  });

  app.post(
    '/datasets',
    {
      schema: {
        body: DatasetBody,
        response: { 200: Dataset, 202: DatasetJobAccepted, 400: Problem, 422: Problem, 429: Problem },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const symbol = b.symbol.toUpperCase();
      const have = datasetCovering(
        ctx.catalog.listDatasets().filter((d) => d.status === 'ready' && d.bars_path !== null),
        symbol,
        b.start,
        b.end,
      );
      if (have) return reply.code(200).header('Location', `/datasets/${have.dataset_id}`).send(toApiDataset(have));

      const key = JSON.stringify([symbol, b.start, b.end, b.source, b.source === 'synth' ? b.seed : b.databento_dataset]);
      const running = inFlight.get(key);
      if (running)
        return reply
          .code(202)
          .header('Location', `/jobs/${running.id}`)
          .send({ job_id: String(running.id) });

      let job: InFlight;
      if (b.source === 'synth') {
        const days = tradingDays(b.start, b.end);
        if (days === 0) throw new HttpProblem(422, `no XNYS trading day in ${b.start} … ${b.end} to synthesise`, { field: 'body.start' });
        assertRoomForJob(ctx);
        job = ctx.jobs.submit({
          kind: 'synth',
          title: `synth ${symbol} ${b.start} … ${b.end} (seed ${b.seed})`,
          params: { dataDir: ctx.opts.dataDir, symbol, start: b.start, days, seed: b.seed },
        });
      } else {
        if (!b.databento_dataset)
          throw new HttpProblem(422, 'databento_dataset: required with source databento (e.g. XNAS.ITCH)', {
            field: 'body.databento_dataset',
          });
        const apiKey = process.env.DATABENTO_API_KEY?.trim();
        if (!apiKey)
          throw new HttpProblem(422, 'source databento: the server has no Databento API key (set DATABENTO_API_KEY in its environment)', {
            field: 'body.source',
          });
        assertRoomForJob(ctx);
        const baseUrl = process.env.DATABENTO_BASE_URL?.trim();
        job = ctx.jobs.submit({
          kind: 'fetch',
          title: `fetch ${b.databento_dataset} ${symbol} ${b.start} … ${b.end}`,
          params: {
            dataDir: ctx.opts.dataDir,
            apiKey,
            ...(baseUrl ? { baseUrl } : {}),
            dataset: b.databento_dataset,
            symbols: [symbol],
            schemas: ['trades', 'tbbo'],
            start: b.start,
            // Databento's end is exclusive: the day after the last one asked for
            end: new Date(Date.parse(b.end) + 86_400_000).toISOString().slice(0, 10),
          },
        });
      }
      inFlight.set(key, job);
      void job.outcome.finally(() => inFlight.delete(key));
      return reply
        .code(202)
        .header('Location', `/jobs/${job.id}`)
        .send({ job_id: String(job.id) });
    },
  );
}
