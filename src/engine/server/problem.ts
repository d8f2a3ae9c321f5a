/** Errors as RFC 9457 problem details: one error type routes throw, one handler that answers them. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import type { Problem } from './api.ts';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Unsupported media type',
  422: 'Invalid parameters',
  429: 'Too many jobs',
  500: 'Internal error',
  503: 'Unavailable',
};

export class HttpProblem extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, detail: string, opts: { field?: string; headers?: Record<string, string> } = {}) {
    super(detail);
    this.status = status;
    this.field = opts.field;
    this.headers = opts.headers ?? {};
  }
}

export function problem(status: number, detail: string, field?: string): Problem {
  return {
    type: `https://btnb.dev/problems/${status}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(field !== undefined ? { field } : {}),
  };
}

/** The path of the first zod issue, as `body.costs.fee_bps` or `querystring.limit`. */
function zodField(err: ZodError, where: string | undefined): string | undefined {
  const first = err.issues[0];
  if (!first) return where;
  const path = first.path.map(String).join('.');
  return [where, path].filter((x) => x).join('.') || undefined;
}

export function sendProblem(reply: FastifyReply, p: Problem, headers: Record<string, string> = {}): FastifyReply {
  for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
  return reply.code(p.status).type('application/problem+json').send(p);
}

export function problemHandler(err: FastifyError | HttpProblem | Error, _req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof HttpProblem) return sendProblem(reply, problem(err.status, err.message, err.field), err.headers);
  const fe = err as FastifyError & { validation?: unknown; validationContext?: string };
  if (fe.validation !== undefined || fe.code === 'FST_ERR_VALIDATION') {
    const cause = (fe as { cause?: unknown }).cause;
    const zod = cause instanceof ZodError ? cause : err instanceof ZodError ? err : null;
    const issues = Array.isArray(fe.validation)
      ? (fe.validation as { message?: string; instancePath?: string; params?: { issue?: { path?: unknown[] } } }[])
      : [];
    const first = issues[0];
    const path = first?.params?.issue?.path?.map(String).join('.') ?? first?.instancePath?.replace(/^\//, '').replaceAll('/', '.');
    const field = zod ? zodField(zod, fe.validationContext) : [fe.validationContext, path].filter((x) => x).join('.') || undefined;
    const detail = first?.message ? `${field ?? 'request'}: ${first.message}` : fe.message;
    return sendProblem(reply, problem(400, detail, field));
  }
  if (fe.statusCode === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, problem(413, fe.message));
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, problem(415, fe.message));
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return sendProblem(reply, problem(fe.statusCode, fe.message));
  reply.log.error(err);
  return sendProblem(reply, problem(500, err.message));
}
