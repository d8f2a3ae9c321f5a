/**
 * Typed messaging between a view and its backend (a VS Code webview and the extension host
 * over postMessage; later a browser and `btnb serve` over a WebSocket). After GitLens's webview
 * IPC and rust-analyzer's `lsp_ext.ts`: every message is a method name plus a zod schema;
 * requests pair their params with a result schema and carry an id; both are checked where they
 * arrive, so a bad message becomes an error reply naming the field, never a crash.
 * Browser-safe: zod only.
 */
import { z } from 'zod';

export interface RequestType<P, R> {
  readonly method: string;
  readonly params: z.ZodType<P>;
  readonly result: z.ZodType<R>;
}

export interface NotificationType<P> {
  readonly method: string;
  readonly params: z.ZodType<P>;
}

export function request<P, R>(method: string, params: z.ZodType<P>, result: z.ZodType<R>): RequestType<P, R> {
  return { method, params, result };
}

export function notification<P>(method: string, params: z.ZodType<P>): NotificationType<P> {
  return { method, params };
}

/** conflict: the request cannot be met in the run's present state (e.g. a light point whose inputs changed). */
export const IpcErrorCode = z.enum(['unknown_method', 'bad_params', 'bad_result', 'not_found', 'conflict', 'failed', 'closed']);
export type IpcErrorCode = z.infer<typeof IpcErrorCode>;

/** The wire envelope: notify (no reply), request (id) → response (same id). */
export const Envelope = z.union([
  z.strictObject({ kind: z.literal('notify'), method: z.string().min(1), params: z.unknown() }),
  z.strictObject({ kind: z.literal('request'), id: z.number().int().nonnegative(), method: z.string().min(1), params: z.unknown() }),
  z.strictObject({ kind: z.literal('response'), id: z.number().int().nonnegative(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({
    kind: z.literal('response'),
    id: z.number().int().nonnegative(),
    ok: z.literal(false),
    error: z.strictObject({ code: IpcErrorCode, message: z.string() }),
  }),
]);
export type Envelope = z.infer<typeof Envelope>;

/** An error a request handler throws to choose its reply code. */
export class IpcError extends Error {
  readonly code: IpcErrorCode;
  constructor(code: IpcErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** "field.path: message; …" for the first few issues. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(message)'}: ${i.message}`)
    .join('; ');
}

type Handler = (params: unknown) => unknown;

export interface IpcEndpointOptions {
  /** Sends one envelope to the other side. */
  post(message: Envelope): void;
  /** Protocol faults the other side caused (bad envelopes, bad notifications). */
  onFault?(message: string): void;
  /** Every envelope in and out, for tests and tracing. */
  trace?(direction: 'in' | 'out', message: Envelope): void;
}

/**
 * One side of the connection: answers the requests it handles, sends its own requests and
 * notifications, and dispatches incoming notifications. Symmetric: host and view use the same class.
 */
export class IpcEndpoint {
  #opts: IpcEndpointOptions;
  #nextId = 1;
  #pending = new Map<number, { type: RequestType<unknown, unknown>; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #requests = new Map<string, { type: RequestType<unknown, unknown>; fn: Handler }>();
  #notifications = new Map<string, { type: NotificationType<unknown>; fns: ((p: unknown) => void)[] }>();
  #closed = false;

  constructor(opts: IpcEndpointOptions) {
    this.#opts = opts;
  }

  onRequest<P, R>(type: RequestType<P, R>, fn: (params: P) => R | Promise<R>): void {
    this.#requests.set(type.method, { type: type, fn: fn as Handler });
  }

  onNotification<P>(type: NotificationType<P>, fn: (params: P) => void): () => void {
    let entry = this.#notifications.get(type.method);
    if (!entry) this.#notifications.set(type.method, (entry = { type: type, fns: [] }));
    entry.fns.push(fn as (p: unknown) => void);
    return () => {
      const k = entry.fns.indexOf(fn as (p: unknown) => void);
      if (k >= 0) entry.fns.splice(k, 1);
    };
  }

  notify<P>(type: NotificationType<P>, params: P): void {
    this.#post({ kind: 'notify', method: type.method, params });
  }

  request<P, R>(type: RequestType<P, R>, params: P): Promise<R> {
    if (this.#closed) return Promise.reject(new IpcError('closed', `${type.method}: the connection is closed`));
    const id = this.#nextId++;
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { type: type, resolve: resolve as (v: unknown) => void, reject });
      this.#post({ kind: 'request', id, method: type.method, params });
    });
  }

  /** Feed every message that arrives from the other side here. */
  receive(raw: unknown): void {
    const parsed = Envelope.safeParse(raw);
    if (!parsed.success) {
      this.#opts.onFault?.(`invalid message: ${describeIssues(parsed.error)}`);
      return;
    }
    const m = parsed.data;
    this.#opts.trace?.('in', m);
    if (m.kind === 'notify') this.#onNotify(m.method, m.params);
    else if (m.kind === 'request') void this.#onRequest(m.id, m.method, m.params);
    else this.#onResponse(m);
  }

  /** Rejects every pending request; later requests fail at once. */
  close(): void {
    this.#closed = true;
    for (const [, p] of this.#pending) p.reject(new IpcError('closed', `${p.type.method}: the connection closed before the reply`));
    this.#pending.clear();
  }

  #post(m: Envelope): void {
    if (this.#closed) return;
    this.#opts.trace?.('out', m);
    this.#opts.post(m);
  }

  #onNotify(method: string, params: unknown): void {
    const entry = this.#notifications.get(method);
    if (!entry) {
      this.#opts.onFault?.(`unknown notification '${method}'`);
      return;
    }
    const p = entry.type.params.safeParse(params);
    if (!p.success) {
      this.#opts.onFault?.(`${method}: ${describeIssues(p.error)}`);
      return;
    }
    for (const fn of [...entry.fns]) fn(p.data);
  }

  async #onRequest(id: number, method: string, params: unknown): Promise<void> {
    const entry = this.#requests.get(method);
    const fail = (code: IpcErrorCode, message: string) => this.#post({ kind: 'response', id, ok: false, error: { code, message } });
    if (!entry) return fail('unknown_method', `unknown request '${method}'`);
    const p = entry.type.params.safeParse(params);
    if (!p.success) return fail('bad_params', `${method}: ${describeIssues(p.error)}`);
    try {
      const result = await entry.fn(p.data);
      this.#post({ kind: 'response', id, ok: true, result });
    } catch (err) {
      const e = err as Error;
      fail(err instanceof IpcError ? err.code : 'failed', `${method}: ${e?.message ?? String(err)}`);
    }
  }

  #onResponse(m: Extract<Envelope, { kind: 'response' }>): void {
    const p = this.#pending.get(m.id);
    if (!p) {
      this.#opts.onFault?.(`response to unknown request ${m.id}`);
      return;
    }
    this.#pending.delete(m.id);
    if (!m.ok) {
      p.reject(new IpcError(m.error.code, m.error.message));
      return;
    }
    const r = p.type.result.safeParse(m.result);
    if (r.success) p.resolve(r.data);
    else p.reject(new IpcError('bad_result', `${p.type.method}: invalid result: ${describeIssues(r.error)}`));
  }
}
