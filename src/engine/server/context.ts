/** What every route of `btnb serve` shares: the data dir, one catalog connection, the job queue, limits. */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { CatalogPort } from '../ports/catalog.ts';
import type { JobQueue } from '../jobs/jobQueue.ts';
import type { Materializer } from '../replay/runSeries.ts';
import type { QueueCoordinator } from '../distributed/coordinator.ts';

export interface ServerOptions {
  dataDir: string;
  /** Folder of the job children's entry scripts (`<kind>Job.js`). */
  jobsDir: string;
  /** Bearer token every route but /healthz requires; null = no auth (127.0.0.1 only). */
  token: string | null;
  /** Jobs running at once; more wait in the queue. */
  maxJobs: number;
  /** Jobs waiting at most; beyond, POSTs answer 429 with Retry-After. */
  maxQueued: number;
  /** Largest request body in bytes (413 beyond). */
  bodyLimit?: number;
  /** Origin allowed by CORS (`--cors`); none by default. */
  cors?: string | null;
  /** The built run views (dist/webview) served as the web app at `/`; null: no web app. */
  webviewDir?: string | null;
  /** Redis of the distributed sweeps this server coordinates (`--redis`); none: sweeps stay local. */
  redisUrl?: string | null;
  /** BullMQ queue name (default btnb-points). */
  queueName?: string;
  /** Only /healthz and the workers' routes (a one-sweep coordinator: `btnb sweep --queue`). */
  workersOnly?: boolean;
  /** How often the coordinator checks open points against their jobs (default 3000 ms). */
  reconcileMs?: number;
  log?: (line: string) => void;
}

export interface ServerContext {
  readonly opts: ServerOptions;
  readonly catalog: CatalogPort;
  readonly jobs: JobQueue;
  /** Writes a light sweep point's files in a `materialize` job (never on the event loop). */
  readonly materialize: Materializer;
  /** The distributed sweeps' coordinator (`--redis`), or null. */
  readonly coordinator: QueueCoordinator | null;
}

export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** A new job would have to wait and the waiting room is full: the caller answers 429. */
export function queueFull(ctx: ServerContext): boolean {
  return ctx.jobs.running >= ctx.opts.maxJobs && ctx.jobs.queued >= ctx.opts.maxQueued;
}
