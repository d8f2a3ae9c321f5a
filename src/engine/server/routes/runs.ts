/** The catalog's runs: GET /backtests (filters, search, sort, cursor pages), GET/PATCH/DELETE /backtests/{id}. */
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { dataPaths } from '../../dataDir.ts';
import type { RunFilter, RunRow } from '../../ports/catalog.ts';
import { Problem, Run, RunId, RunPatch, RunsPage, RunsQuery } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { toRunInfo } from '../../views/runViewsBackend.ts';

export function toApiRun(r: RunRow): Run {
  return { ...toRunInfo(r), materialized: r.materialized };
}

/** Cursors are opaque to clients: the offset of the next page, bound to the query that made it. */
function encodeCursor(offset: number, q: string): string {
  return Buffer.from(JSON.stringify({ o: offset, q })).toString('base64url');
}
function decodeCursor(cursor: string, q: string): number {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; q?: unknown };
    if (typeof v.o === 'number' && Number.isSafeInteger(v.o) && v.o >= 0 && v.q === q) return v.o;
  } catch {
    /* below */
  }
  throw new HttpProblem(400, 'cursor: not a cursor of this query (use the next_cursor of the previous page)', {
    field: 'querystring.cursor',
  });
}

export function getRunOr404(ctx: ServerContext, id: string): RunRow {
  const r = ctx.catalog.getRun(id);
  if (!r) throw new HttpProblem(404, `run ${id} is not in the catalog`, { field: 'params.id' });
  return r;
}

export function registerRuns(app: TypedApp, ctx: ServerContext): void {
  const errors = { 400: Problem, 404: Problem, 409: Problem };
  app.get('/backtests', { schema: { querystring: RunsQuery, response: { 200: RunsPage, 400: Problem } } }, (req) => {
    const q = req.query;
    const { cursor, limit, ...rest } = q;
    const key = JSON.stringify(rest);
    const offset = cursor === undefined ? 0 : decodeCursor(cursor, key);
    const filter: RunFilter = { limit, offset };
    if (q.status) filter.status = q.status;
    if (q.strategy) filter.strategy = q.strategy;
    if (q.dataset_id) filter.datasetId = q.dataset_id;
    if (q.sweep_id) filter.sweepId = q.sweep_id;
    if (q.search) filter.search = q.search;
    if (q.sort) filter.sortBy = q.sort;
    if (q.order) filter.order = q.order;
    let runs: RunRow[];
    let total: number;
    try {
      runs = ctx.catalog.listRuns(filter);
      total = ctx.catalog.countRuns({ ...filter, limit: undefined, offset: undefined });
    } catch (e) {
      // the catalog names a bad sort key or search syntax
      throw new HttpProblem(400, (e as Error).message, { field: 'querystring' });
    }
    const next = offset + runs.length < total && runs.length > 0 ? encodeCursor(offset + runs.length, key) : null;
    return { runs: runs.map(toApiRun), total, next_cursor: next };
  });

  app.get('/backtests/:id', { schema: { params: RunId, response: { 200: Run, ...errors } } }, (req) =>
    toApiRun(getRunOr404(ctx, req.params.id)),
  );

  app.patch('/backtests/:id', { schema: { params: RunId, body: RunPatch, response: { 200: Run, ...errors } } }, (req) => {
    let r = getRunOr404(ctx, req.params.id);
    if (req.body.tags !== undefined) r = ctx.catalog.setTags(r.run_id, req.body.tags);
    if (req.body.note !== undefined) r = ctx.catalog.setNotes(r.run_id, req.body.note);
    return toApiRun(r);
  });

  app.delete('/backtests/:id', { schema: { params: RunId, response: { 204: z.null(), ...errors } } }, async (req, reply) => {
    const r = getRunOr404(ctx, req.params.id);
    if (r.status === 'queued' || r.status === 'running') throw new HttpProblem(409, `run ${r.run_id} is ${r.status}; cancel it first`);
    await rm(dataPaths(ctx.opts.dataDir).runDir(r.run_id), { recursive: true, force: true });
    ctx.catalog.deleteRun(r.run_id);
    return reply.code(204).send(null);
  });
}
