/**
 * A run's data over HTTP, for scripts and dashboards without a Parquet reader:
 * - GET /backtests/{id}/artifacts/{name}: the run's own files (an allow-list, nothing else of
 *   the data dir is reachable), streamed from disk with a strong ETag (SHA-256 of the bytes,
 *   cached by size and mtime; artifacts are deterministic, so the tag is too), If-None-Match →
 *   304 and single byte ranges → 206 / 416;
 * - GET /backtests/{id}/series: the run views' decimated candles and equity for a time range,
 *   every fill in it (views/seriesWindow.ts through RunViewsBackend);
 * - GET /backtests/{id}/fills|orders|trades: the views' tables, paged with an opaque cursor.
 * A light sweep point is materialised first, in a `materialize` job child (backtest/materialize.ts), as when a view opens it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { dataPaths } from '../../dataDir.ts';
import { cachedSha256File } from '../../io/files.ts';
import { MaterializeError } from '../../backtest/materialize.ts';
import { barAtOrAfter } from '../../replay/runSeries.ts';
import { IpcError } from '../../views/ipc.ts';
import { viewsBackend } from '../viewsBackend.ts';
import type { TableName } from '../../views/protocol.ts';
import type { RunRow } from '../../ports/catalog.ts';
import {
  ARTIFACT_NAMES,
  ArtifactBytes,
  ArtifactParams,
  type ArtifactName,
  Problem,
  RunId,
  RunSeriesWindow,
  RunTablePage,
  SeriesQuery,
  TableQuery,
} from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { getRunOr404 } from './runs.ts';

const CONTENT_TYPES: Record<ArtifactName, string> = {
  'metrics.json': 'application/json; charset=utf-8',
  'run-manifest.json': 'application/json; charset=utf-8',
  'equity.parquet': 'application/vnd.apache.parquet',
  'orders.parquet': 'application/vnd.apache.parquet',
  'fills.parquet': 'application/vnd.apache.parquet',
  'trades.parquet': 'application/vnd.apache.parquet',
};

function artifactPath(dataDir: string, runId: string, name: ArtifactName): string {
  const p = dataPaths(dataDir);
  switch (name) {
    case 'metrics.json':
      return p.runMetrics(runId);
    case 'run-manifest.json':
      return p.runManifest(runId);
    case 'equity.parquet':
      return p.runEquity(runId);
    case 'orders.parquet':
      return p.runOrders(runId);
    case 'fills.parquet':
      return p.runFills(runId);
    case 'trades.parquet':
      return p.runTrades(runId);
  }
}

function isArtifactName(name: string): name is ArtifactName {
  return (ARTIFACT_NAMES as readonly string[]).includes(name);
}

/** A strong ETag: the file's SHA-256 (base64url), hashed once while the file is unchanged. */
async function fileEtag(path: string): Promise<string> {
  return `"${Buffer.from(await cachedSha256File(path), 'hex').toString('base64url')}"`;
}

/** If-None-Match (a list of tags or *, weak comparison as RFC 9110 asks) matches the tag. */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * A single byte range of a file of `size` bytes: [start, end] inclusive, 'unsatisfiable', or
 * null to answer the whole file (no Range, a unit other than bytes, several ranges, bad syntax).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // suffix: the last N bytes
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null; // invalid range: ignored (RFC 9110 §14.2)
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function ipcToHttp(err: unknown): never {
  if (err instanceof IpcError) {
    if (err.code === 'not_found') throw new HttpProblem(404, err.message);
    if (err.code === 'bad_params') throw new HttpProblem(400, err.message, { field: 'querystring' });
    if (err.code === 'conflict') throw new HttpProblem(409, err.message);
    throw new HttpProblem(500, err.message);
  }
  throw err;
}

function succeededRunOr409(ctx: ServerContext, id: string): RunRow {
  const r = getRunOr404(ctx, id);
  if (r.status !== 'succeeded')
    throw new HttpProblem(409, `run ${id} is ${r.status}: only a succeeded run has artifacts`, { field: 'params.id' });
  return r;
}

/** The table cursor: the next row, bound to the run, table and sort that made it. */
function encodeCursor(offset: number, key: string): string {
  return Buffer.from(JSON.stringify({ o: offset, q: key })).toString('base64url');
}
function decodeCursor(cursor: string, key: string): number {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; q?: unknown };
    if (typeof v.o === 'number' && Number.isSafeInteger(v.o) && v.o >= 0 && v.q === key) return v.o;
  } catch {
    /* below */
  }
  throw new HttpProblem(400, 'cursor: not a cursor of this table (use the next_cursor of the previous page)', {
    field: 'querystring.cursor',
  });
}

export function registerArtifacts(app: TypedApp, ctx: ServerContext): void {
  const views = () => viewsBackend(ctx);
  const errors = { 400: Problem, 404: Problem, 409: Problem, 500: Problem };

  app.get(
    '/backtests/:id/artifacts/:name',
    {
      schema: {
        params: ArtifactParams,
        response: {
          200: ArtifactBytes,
          206: ArtifactBytes,
          304: z.null(),
          400: Problem,
          404: Problem,
          409: Problem,
          416: Problem,
          500: Problem,
        },
      },
    },
    async (req, reply) => {
      const { id, name } = req.params;
      if (!isArtifactName(name))
        throw new HttpProblem(404, `no artifact '${name}' (a run has ${ARTIFACT_NAMES.join(', ')})`, { field: 'params.name' });
      const run = succeededRunOr409(ctx, id);
      if (!run.materialized) {
        try {
          await ctx.materialize(ctx.opts.dataDir, run.run_id);
        } catch (err) {
          if (err instanceof MaterializeError) throw new HttpProblem(err.code === 'not_found' ? 404 : 409, err.message);
          throw err;
        }
      }
      const path = artifactPath(ctx.opts.dataDir, run.run_id, name);
      let st;
      try {
        st = await stat(path);
      } catch {
        throw new HttpProblem(404, `run ${run.run_id}: no ${name} in its directory (deleted, or another data directory)`, {
          field: 'params.name',
        });
      }
      const etag = await fileEtag(path);
      void reply
        .header('ETag', etag)
        .header('Last-Modified', st.mtime.toUTCString())
        .header('Accept-Ranges', 'bytes')
        .header('Cache-Control', 'private, no-cache');
      if (noneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send(null);
      void reply.type(CONTENT_TYPES[name]);
      // If-Range: a range only of the representation the client has
      const ifRange = req.headers['if-range'];
      const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, st.size);
      if (range === 'unsatisfiable')
        throw new HttpProblem(416, `range ${req.headers.range} is outside ${name} (${st.size} bytes)`, {
          field: 'headers.range',
          headers: { 'Content-Range': `bytes */${st.size}` },
        });
      if (range) {
        void reply
          .code(206)
          .header('Content-Range', `bytes ${range.start}-${range.end}/${st.size}`)
          .header('Content-Length', range.end - range.start + 1);
        return reply.send(createReadStream(path, { start: range.start, end: range.end }));
      }
      void reply.header('Content-Length', st.size);
      return reply.send(createReadStream(path));
    },
  );

  app.get(
    '/backtests/:id/series',
    { schema: { params: RunId, querystring: SeriesQuery, response: { 200: RunSeriesWindow, ...errors } } },
    async (req) => {
      const run = succeededRunOr409(ctx, req.params.id);
      const { from, to, points } = req.query;
      if (from !== undefined && to !== undefined && to <= from)
        throw new HttpProblem(400, `to (${to}) must be after from (${from})`, { field: 'querystring.to' });
      try {
        const s = await views().series(run.run_id);
        const a = from === undefined ? 0 : barAtOrAfter(s.tsMs, from);
        const b = to === undefined ? s.length : barAtOrAfter(s.tsMs, to);
        return await views().runSeries(run.run_id, a, b, points);
      } catch (err) {
        return ipcToHttp(err);
      }
    },
  );

  for (const table of ['fills', 'orders', 'trades'] as const satisfies readonly TableName[]) {
    app.get(
      `/backtests/:id/${table}`,
      { schema: { params: RunId, querystring: TableQuery, response: { 200: RunTablePage, ...errors } } },
      async (req) => {
        const run = succeededRunOr409(ctx, req.params.id);
        const { cursor, limit, sort, order } = req.query;
        if (order !== undefined && sort === undefined)
          throw new HttpProblem(400, 'order: needs sort (the column to order by)', { field: 'querystring.order' });
        const key = JSON.stringify([run.run_id, table, sort ?? null, order ?? 'asc']);
        const offset = cursor === undefined ? 0 : decodeCursor(cursor, key);
        try {
          const page = await views().runTable(run.run_id, table, offset, limit, sort ? { column: sort, dir: order ?? 'asc' } : undefined);
          const got = page.rows[page.columns[0]!]?.length ?? 0;
          const next = offset + got < page.total && got > 0 ? encodeCursor(offset + got, key) : null;
          return { ...page, next_cursor: next };
        } catch (err) {
          return ipcToHttp(err);
        }
      },
    );
  }
}
