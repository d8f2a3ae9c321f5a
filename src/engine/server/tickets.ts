/**
 * One-time tickets for the replay routes (GET /backtests/{id}/ws and /events). Browsers cannot
 * set `Authorization` on a WebSocket or an EventSource, and the token must never travel in a URL
 * (URLs are logged); so a client that holds the token asks POST /tickets for a ticket — random,
 * valid TICKET_TTL_MS, good for one open — and passes it as `?ticket=`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from './context.ts';

export const TICKET_TTL_MS = 30_000;
/** Routes a ticket opens (route patterns): nothing else accepts one. */
export const TICKET_ROUTES: ReadonlySet<string> = new Set(['/backtests/:id/ws', '/backtests/:id/events', '/views/ws']);
/** Unused tickets kept at most; the oldest go first beyond (a client that only asks never redeems). */
const MAX_TICKETS = 10_000;

export class TicketStore {
  readonly #tickets = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issue(): { ticket: string; expires_in: number } {
    const now = this.#now();
    for (const [t, exp] of this.#tickets) if (exp <= now) this.#tickets.delete(t);
    while (this.#tickets.size >= MAX_TICKETS) this.#tickets.delete(this.#tickets.keys().next().value!);
    const ticket = randomBytes(24).toString('base64url');
    this.#tickets.set(ticket, now + TICKET_TTL_MS);
    return { ticket, expires_in: TICKET_TTL_MS / 1000 };
  }

  /** True once for a ticket issued less than TICKET_TTL_MS ago; the ticket is gone after. */
  redeem(ticket: string): boolean {
    const exp = this.#tickets.get(ticket);
    if (exp === undefined) return false;
    this.#tickets.delete(ticket);
    return exp > this.#now();
  }

  get size(): number {
    return this.#tickets.size;
  }
}

const stores = new WeakMap<ServerContext, TicketStore>();

export function ticketsFor(ctx: ServerContext): TicketStore {
  let s = stores.get(ctx);
  if (!s) stores.set(ctx, (s = new TicketStore()));
  return s;
}

/** For the auth hook: a GET of a replay route carrying a valid `?ticket=` (which is used up). */
export function redeemTicket(ctx: ServerContext, req: FastifyRequest): boolean {
  if (req.method !== 'GET' || !TICKET_ROUTES.has(req.routeOptions.url ?? '')) return false;
  const t = (req.query as { ticket?: unknown } | undefined)?.ticket;
  return typeof t === 'string' && ticketsFor(ctx).redeem(t);
}
