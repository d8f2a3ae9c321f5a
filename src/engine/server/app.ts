/**
 * `btnb serve`'s HTTP application (Fastify): the engine's ports over HTTP for browsers, scripts
 * and CI jobs outside VS Code. Routes validate with the zod schemas of api.ts (the type
 * provider), errors are problem details (problem.ts), CPU work runs in the job children of
 * jobs/jobQueue.ts — a handler only reads the catalog or queues a job.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { PRODUCT_VERSION } from '../version.ts';
import { openCatalog } from '../catalog/sqliteCatalog.ts';
import { childMaterializer } from '../jobs/materializeInChild.ts';
import { QueueCoordinator } from '../distributed/coordinator.ts';
import { registerDistributed } from './routes/distributed.ts';
import fastifyMultipart from '@fastify/multipart';
import { dataPaths } from '../dataDir.ts';
import { JobQueue } from '../jobs/jobQueue.ts';
import type { ServerContext, ServerOptions } from './context.ts';
import { problem, problemHandler, sendProblem } from './problem.ts';
import { replayPreClose } from './replayHub.ts';
import { redeemTicket } from './tickets.ts';
import { registerHealth } from './routes/health.ts';
import { registerRuns } from './routes/runs.ts';
import { registerBacktests } from './routes/backtests.ts';
import { registerReplay } from './routes/replay.ts';
import { registerArtifacts } from './routes/artifacts.ts';
import { registerSweeps } from './routes/sweeps.ts';
import { registerDatasets } from './routes/datasets.ts';
import { registerJobs } from './routes/jobs.ts';
import { registerWebApp } from './routes/webApp.ts';
import { registerViewsSocket } from './routes/viewsSocket.ts';

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function buildServer(opts: ServerOptions): Promise<{ app: FastifyInstance; ctx: ServerContext; close(): Promise<void> }> {
  const catalog = openCatalog(dataPaths(opts.dataDir).catalog);
  const jobs = new JobQueue({ jobsDir: opts.jobsDir, maxParallel: () => opts.maxJobs });
  const materialize = childMaterializer(async (params, title) => jobs.submit({ kind: 'materialize', params, title }).outcome);
  // with --redis this server coordinates distributed sweeps (distributed/coordinator.ts)
  const coordinator = opts.redisUrl
    ? await QueueCoordinator.start({
        redisUrl: opts.redisUrl,
        dataDir: opts.dataDir,
        catalog,
        ...(opts.queueName ? { queueName: opts.queueName } : {}),
        ...(opts.reconcileMs ? { reconcileMs: opts.reconcileMs } : {}),
        ...(opts.log ? { log: opts.log } : {}),
      })
    : null;
  const ctx: ServerContext = { opts, catalog, jobs, materialize, coordinator };
  // forceCloseConnections: at shutdown the streams have already been ended (preClose); a
  // keep-alive connection left open must not hold the process for its idle timeout
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimit ?? 1 << 20, return503OnClosing: true, forceCloseConnections: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(problemHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem(404, `no route ${req.method} ${req.url.split('?')[0]}`)));
  // the WebSocket plugin before the routes and the auth hook (an upgrade refused with 401 must still be closed by it)
  // multipart bodies (a worker's upload of a run's files): per-file limit, streamed to disk
  // (a file over the limit is cut and flagged, so the route answers 413 itself)
  await app.register(fastifyMultipart, { limits: { fileSize: 1 << 30, files: 8, fields: 2 }, throwFileSizeLimit: false });
  if (!opts.workersOnly) await app.register(websocket, { options: { maxPayload: 1 << 16 }, preClose: replayPreClose(ctx) });
  app.addHook('onRequest', async (req, reply) => {
    // a CORS preflight (only with --cors, for that origin) is answered before auth: it carries no credentials
    if (opts.cors && req.method === 'OPTIONS' && req.headers.origin === opts.cors && req.headers['access-control-request-method'])
      return reply
        .code(204)
        .header('Access-Control-Allow-Origin', opts.cors)
        .header('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE')
        .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, Idempotency-Key')
        .header('Access-Control-Max-Age', '600')
        .header('Vary', 'Origin')
        .send();
    if (opts.token === null || req.url === '/healthz') return;
    // the web app's page and bundle hold no data (the page gets its data over /views/ws with a ticket)
    const route = req.routeOptions.url ?? '';
    if (req.method === 'GET' && (route === '/' || route === '/app/:file' || route === '/favicon.ico')) return;
    // browsers cannot set headers on WebSocket/EventSource: the replay routes take a one-time ?ticket= (POST /tickets) instead
    if (!tokenMatches(req.headers.authorization, opts.token) && !redeemTicket(ctx, req))
      return sendProblem(reply, problem(401, 'missing or wrong bearer token (Authorization: Bearer …)'), { 'WWW-Authenticate': 'Bearer' });
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('X-Content-Type-Options', 'nosniff');
    void reply.header('Referrer-Policy', 'no-referrer');
    if (!reply.hasHeader('Content-Security-Policy'))
      void reply.header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    if (opts.cors) {
      void reply.header('Access-Control-Allow-Origin', opts.cors);
      void reply.header('Vary', 'Origin');
    }
    return payload;
  });
  if (opts.workersOnly) {
    // a one-sweep coordinator (btnb sweep --queue): only what workers call, so it starts fast
    const typed = app.withTypeProvider<ZodTypeProvider>();
    registerHealth(typed, ctx);
    registerDistributed(typed, ctx);
    return { app, ctx, close: closer(app, ctx) };
  }
  // The OpenAPI 3.1 document is generated from the routes' zod schemas (never written by hand):
  // served at /openapi.json, committed as docs/api/openapi.yaml (a test keeps that current).
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Backtest Notebook (btnb serve)',
        version: PRODUCT_VERSION,
        description: 'Backtests, the catalog and replays over HTTP. Errors are RFC 9457 problem details.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  registerHealth(typed, ctx);
  registerRuns(typed, ctx);
  registerBacktests(typed, ctx);
  registerArtifacts(typed, ctx);
  registerReplay(typed, ctx);
  registerSweeps(typed, ctx);
  registerDatasets(typed, ctx);
  registerJobs(typed, ctx);
  registerWebApp(typed, ctx);
  registerViewsSocket(typed, ctx);
  registerDistributed(typed, ctx);
  return { app, ctx, close: closer(app, ctx) };
}

/** Stops accepting, then the coordinator, the jobs and the catalog, in that order. */
function closer(app: FastifyInstance, ctx: ServerContext): () => Promise<void> {
  return async () => {
    await app.close();
    await ctx.coordinator?.close();
    for (const j of ctx.jobs.list()) j.cancel();
    await Promise.all(ctx.jobs.list().map((j) => j.outcome));
    ctx.catalog.close();
  };
}
