// One HTTP exchange with the historical API over node:http/https: form POST, Basic auth,
// idle timeout, abort. node:http rather than fetch: a per-socket idle timeout (no bytes for
// N ms, whatever the download's length), streaming bodies and destroy-on-abort without
// undici's buffering or whole-request deadlines.
import http from 'node:http';
import https from 'node:https';
import { DatabentoAbortError, DatabentoApiError, DatabentoTransportError, parseErrorBody, parseRetryAfter } from './errors.ts';

export interface Exchange {
  res: http.IncomingMessage;
  /** True once the idle timeout fired (a later body error is then a timeout). */
  timedOut(): boolean;
  /** Destroys the connection (used on abort or local write errors). */
  destroy(err?: Error): void;
}

export interface TransportConfig {
  baseUrl: string;
  /** Connection agents (no keep-alive; behind HTTP(S)_PROXY when the env names one). */
  agents: { http: http.Agent; https: https.Agent };
  /** `Basic base64(key:)`, kept out of every message. */
  authorization: string;
  timeoutMs: number;
  userAgent: string;
  redact: (s: string) => string;
}

/**
 * Agents without keep-alive — a fresh connection per attempt, so a retry never reuses a
 * poisoned socket — that tunnel through HTTPS_PROXY/HTTP_PROXY (honouring NO_PROXY) when
 * the environment names one, as corporate networks need (Node's built-in proxy support).
 */
export function makeAgents(env: Record<string, string | undefined>): { http: http.Agent; https: https.Agent } {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;
  const proxyEnv: Record<string, string> = {};
  for (const n of names) if (env[n]) proxyEnv[n] = env[n]!;
  const useProxy = Object.keys(proxyEnv).some((k) => !/no_proxy/i.test(k));
  const opts = { keepAlive: false, ...(useProxy ? { proxyEnv } : {}) };
  return { http: new http.Agent(opts), https: new https.Agent(opts) };
}

/** Normalizes a base URL to `<origin>[/path]/v0`; refuses credentials in it. */
export function normalizeBaseUrl(base: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new TypeError(`baseUrl: expected an http(s) URL, got '${base}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`baseUrl: expected http: or https:, got '${u.protocol}'`);
  if (u.username || u.password) throw new TypeError('baseUrl: must not contain credentials (the key is sent in the Authorization header)');
  if (u.search || u.hash) throw new TypeError(`baseUrl: must not contain a query or fragment, got '${base}'`);
  let path = u.pathname.replace(/\/+$/, '');
  if (!/\/v0$/.test(path)) path += '/v0';
  return `${u.origin}${path}`;
}

/** POSTs `form` to `<base>/<endpoint>` and resolves when the response headers arrive. */
export function post(
  cfg: TransportConfig,
  endpoint: string,
  form: URLSearchParams,
  accept: string,
  signal?: AbortSignal,
): Promise<Exchange> {
  return send(cfg, endpoint, new URL(`${cfg.baseUrl}/${endpoint}`), { method: 'POST', form, accept }, signal);
}

/**
 * GETs `<base>/<endpoint>?query`, or an absolute URL the API handed out (a batch file's
 * download URL). The key goes only to the API's own origin: a URL elsewhere is refused.
 */
export function get(
  cfg: TransportConfig,
  endpoint: string,
  target: URLSearchParams | string,
  accept: string,
  opts: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Exchange> {
  let url: URL;
  if (typeof target === 'string') {
    url = new URL(target);
    if (url.origin !== new URL(cfg.baseUrl).origin)
      return Promise.reject(
        new TypeError(`${endpoint}: refusing to send the API key to ${url.origin} (the API is ${new URL(cfg.baseUrl).origin})`),
      );
  } else {
    url = new URL(`${cfg.baseUrl}/${endpoint}`);
    url.search = target.toString();
  }
  return send(cfg, endpoint, url, { method: 'GET', accept, ...(opts.headers ? { headers: opts.headers } : {}) }, opts.signal);
}

function send(
  cfg: TransportConfig,
  endpoint: string,
  url: URL,
  o: { method: 'GET' | 'POST'; accept: string; form?: URLSearchParams; headers?: Record<string, string> },
  signal?: AbortSignal,
): Promise<Exchange> {
  const mod = url.protocol === 'https:' ? https : http;
  const body = o.form ? Buffer.from(o.form.toString(), 'utf8') : null;
  if (signal?.aborted) return Promise.reject(new DatabentoAbortError(endpoint));
  return new Promise<Exchange>((resolve, reject) => {
    let timedOut = false;
    let settled = false;
    const req = mod.request(url, {
      method: o.method,
      agent: url.protocol === 'https:' ? cfg.agents.https : cfg.agents.http,
      headers: {
        ...o.headers,
        authorization: cfg.authorization,
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) } : {}),
        accept: o.accept,
        'user-agent': cfg.userAgent,
      },
    });
    const onAbort = (): void => {
      req.destroy(new DatabentoAbortError(endpoint));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
    req.setTimeout(cfg.timeoutMs, () => {
      timedOut = true;
      req.destroy(new DatabentoTransportError(endpoint, 'timeout', `no data from the server for ${cfg.timeoutMs / 1000} s`));
    });
    req.on('error', (err) => {
      if (settled) return; // after the headers, body errors surface on the response stream
      settled = true;
      reject(mapNetworkError(cfg, endpoint, err, timedOut, signal));
    });
    req.on('response', (res) => {
      settled = true;
      resolve({ res, timedOut: () => timedOut, destroy: (e) => req.destroy(e) });
    });
    req.end(body ?? undefined);
  });
}

/** Turns a socket/stream error into a transport, abort or (passed through) client error. */
export function mapNetworkError(cfg: TransportConfig, endpoint: string, err: unknown, timedOut: boolean, signal?: AbortSignal): Error {
  if (signal?.aborted || err instanceof DatabentoAbortError) return new DatabentoAbortError(endpoint);
  if (err instanceof DatabentoTransportError || err instanceof DatabentoApiError) return err;
  const e = err as NodeJS.ErrnoException;
  if (timedOut) return new DatabentoTransportError(endpoint, 'timeout', `no data from the server for ${cfg.timeoutMs / 1000} s`);
  const code = e?.code ? ` (${e.code})` : '';
  return new DatabentoTransportError(
    endpoint,
    'connection',
    cfg.redact(`connection to ${cfg.baseUrl} failed: ${e?.message ?? String(err)}${code}`),
  );
}

/** Reads a whole (small) body, capped at `limit` bytes. */
export async function readSmallBody(
  cfg: TransportConfig,
  endpoint: string,
  ex: Exchange,
  limit: number,
  signal?: AbortSignal,
): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of ex.res as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) {
        ex.destroy();
        break;
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw mapNetworkError(cfg, endpoint, err, ex.timedOut(), signal);
  }
  if (ex.timedOut()) throw mapNetworkError(cfg, endpoint, null, true, signal);
  return Buffer.concat(chunks).toString('utf8');
}

/** Builds the error for a non-2xx answer: Databento's message, Retry-After, request-id; key redacted. */
export async function apiError(cfg: TransportConfig, endpoint: string, ex: Exchange, signal?: AbortSignal): Promise<DatabentoApiError> {
  const status = ex.res.statusCode ?? 0;
  let body = '';
  try {
    body = await readSmallBody(cfg, endpoint, ex, 64 * 1024, signal);
  } catch (err) {
    if (err instanceof DatabentoAbortError) throw err;
    // a status without a readable body still is that status
  }
  const parsed = parseErrorBody(body);
  const detail = parsed.detail || ex.res.statusMessage || '';
  const retryAfter = parseRetryAfter(header(ex.res, 'retry-after'), Date.now());
  return new DatabentoApiError({
    endpoint,
    status,
    case: parsed.case,
    detail: cfg.redact(detail),
    docs: parsed.docs,
    requestId: header(ex.res, 'request-id') ?? null,
    retryAfterMs: retryAfter,
  });
}

export function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
