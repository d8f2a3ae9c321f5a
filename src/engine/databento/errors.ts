// Errors of the Databento historical client, and the key redaction every message passes through.

/** Why an HTTP status failed, in the words a user can act on (Databento's own message follows it). */
const STATUS_HINTS: Record<number, string> = {
  400: 'bad or missing parameter',
  401: 'authentication failed: check the API key (env DATABENTO_API_KEY)',
  402: 'payment required: check the billing details of the Databento account',
  403: 'the API key lacks permission for this dataset or schema',
  404: 'not found (unknown dataset, symbol or endpoint)',
  409: 'conflict',
  422: 'request refused',
  429: 'rate limited',
};

/** An HTTP error answer from Databento. `message` is Databento's own text when it sent one. */
export class DatabentoApiError extends Error {
  override name = 'DatabentoApiError';
  readonly endpoint: string;
  readonly status: number;
  /** Databento's error case (nested error shape only), e.g. `data_start_before_available_start`. */
  readonly case: string | null;
  /** Databento's own message (or the raw body when it was not JSON). */
  readonly detail: string;
  readonly docs: string | null;
  readonly requestId: string | null;
  /** Milliseconds from a Retry-After header (429/503), else null. */
  readonly retryAfterMs: number | null;

  constructor(init: {
    endpoint: string;
    status: number;
    case: string | null;
    detail: string;
    docs: string | null;
    requestId: string | null;
    retryAfterMs: number | null;
  }) {
    const hint = STATUS_HINTS[init.status] ?? (init.status >= 500 ? 'server error' : 'request failed');
    const parts = [`Databento ${init.endpoint}: HTTP ${init.status} (${hint})`];
    if (init.detail) parts.push(init.case ? `${init.detail} [${init.case}]` : init.detail);
    let message = parts.join(': ');
    if (init.docs) message += ` (see ${init.docs})`;
    if (init.requestId) message += ` (request-id ${init.requestId})`;
    super(message);
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.case = init.case;
    this.detail = init.detail;
    this.docs = init.docs;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
  }

  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** A transport failure: connection refused/reset, timeout, a body cut short or corrupt. Retryable. */
export class DatabentoTransportError extends Error {
  override name = 'DatabentoTransportError';
  readonly endpoint: string;
  /** 'timeout' | 'connection' | 'truncated' | 'corrupt' */
  readonly kind: 'timeout' | 'connection' | 'truncated' | 'corrupt';
  constructor(endpoint: string, kind: DatabentoTransportError['kind'], message: string) {
    super(`Databento ${endpoint}: ${message}`);
    this.endpoint = endpoint;
    this.kind = kind;
  }
}

/** Thrown when the caller's AbortSignal fired; never retried. */
export class DatabentoAbortError extends Error {
  override name = 'AbortError';
  constructor(endpoint: string) {
    super(`Databento ${endpoint}: canceled`);
  }
}

/** Every retry failed: carries the last error and how many attempts were made. */
export class DatabentoRetriesExhaustedError extends Error {
  override name = 'DatabentoRetriesExhaustedError';
  readonly attempts: number;
  readonly last: Error;
  constructor(endpoint: string, attempts: number, last: Error) {
    const prefix = `Databento ${endpoint}: `;
    const lastText = last.message.startsWith(prefix) ? last.message.slice(prefix.length) : last.message;
    super(`${prefix}gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}; last error: ${lastText}`);
    this.attempts = attempts;
    this.last = last;
  }
}

/**
 * Pulls Databento's message out of an error body. Two JSON shapes exist:
 * `{"detail": "msg"}` and `{"detail": {"case", "message", "status_code", "docs", "payload"}}`;
 * anything else (HTML from a proxy, plain text) is used raw, whitespace-collapsed and capped.
 */
export function parseErrorBody(body: string): { detail: string; case: string | null; docs: string | null } {
  const raw = body.trim();
  try {
    const json: unknown = JSON.parse(raw);
    if (json && typeof json === 'object' && 'detail' in json) {
      const d = json.detail;
      if (typeof d === 'string') return { detail: d, case: null, docs: null };
      if (d && typeof d === 'object') {
        const o = d as Record<string, unknown>;
        const message = typeof o.message === 'string' ? o.message : JSON.stringify(d);
        return {
          detail: message,
          case: typeof o.case === 'string' ? o.case : null,
          docs: typeof o.docs === 'string' ? o.docs : null,
        };
      }
    }
    if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
      return { detail: (json as { message: string }).message, case: null, docs: null };
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  const flat = raw.replace(/\s+/g, ' ');
  return { detail: flat.length > 500 ? `${flat.slice(0, 500)}…` : flat, case: null, docs: null };
}

/**
 * Returns a function that removes every trace of `key` from a text: the key itself and the
 * base64 of `key:` (what an Authorization header carries), in case a server or proxy echoes it.
 */
export function makeRedactor(key: string): (text: string) => string {
  if (!key) return (t) => t;
  const needles = [key, Buffer.from(`${key}:`).toString('base64'), Buffer.from(key).toString('base64')]
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const n of needles) out = out.split(n).join('<redacted>');
    return out;
  };
}

/** Parses Retry-After: delta-seconds or an HTTP-date (relative to `nowMs`). Null when absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - nowMs);
}

/** Parses an X-Warning header: a JSON array of strings, or (tolerated) a plain string. */
export function parseWarnings(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const v of values) {
    try {
      const json: unknown = JSON.parse(v);
      if (Array.isArray(json)) {
        for (const w of json) out.push(typeof w === 'string' ? w : JSON.stringify(w));
        continue;
      }
      if (typeof json === 'string') {
        out.push(json);
        continue;
      }
    } catch {
      // plain text warning
    }
    out.push(v);
  }
  return out;
}
