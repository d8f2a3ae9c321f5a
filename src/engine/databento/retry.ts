// Retry policy: exponential backoff with "equal jitter" from a seeded PRNG, Retry-After honoured.
import { uniformSource } from '../util/prng.ts';
import { DatabentoAbortError, DatabentoApiError, DatabentoRetriesExhaustedError, DatabentoTransportError } from './errors.ts';

export interface RetryOptions {
  /** Total attempts including the first (default 5). 1 disables retries. */
  maxAttempts?: number;
  /** Backoff before retry n (n = 1, 2, …) is base·2^(n−1), capped at maxDelayMs, then jittered (default 500). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After above this gives up instead of waiting (default 300 000 = 5 min). */
  maxRetryAfterMs?: number;
  /** Uniform [0,1) source for jitter; default the project Sfc32 PRNG seeded with `seed` (default 1). */
  random?: () => number;
  seed?: number;
  /** Injectable sleep (tests); must reject with the signal's abort. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What a retry is about to do, for logging (`attempt` is the one that failed, 1-based). */
export interface RetryEvent {
  endpoint: string;
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  reason: string;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(o: RetryOptions = {}) {
    this.maxAttempts = Math.max(1, Math.floor(o.maxAttempts ?? 5));
    this.baseDelayMs = o.baseDelayMs ?? 500;
    this.maxDelayMs = o.maxDelayMs ?? 30_000;
    this.maxRetryAfterMs = o.maxRetryAfterMs ?? 300_000;
    this.random = o.random ?? uniformSource(o.seed ?? 1);
    this.sleep = o.sleep ?? abortableSleep;
  }

  /** Backoff before retry number `retry` (1-based): half fixed, half uniform jitter. */
  backoffMs(retry: number): number {
    const full = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (retry - 1));
    return Math.round(full / 2 + this.random() * (full / 2));
  }

  /**
   * Runs `attempt` until it succeeds, fails with a non-retryable error, or attempts run out.
   * Retryable: transport errors (timeouts, resets, truncated bodies; not a corrupt body), HTTP 429 and 5xx.
   */
  async run<T>(
    endpoint: string,
    attempt: (n: number) => Promise<T>,
    signal: AbortSignal | undefined,
    onRetry?: (e: RetryEvent) => void,
  ): Promise<T> {
    for (let n = 1; ; n++) {
      if (signal?.aborted) throw new DatabentoAbortError(endpoint);
      try {
        return await attempt(n);
      } catch (err) {
        if (signal?.aborted || err instanceof DatabentoAbortError) throw new DatabentoAbortError(endpoint);
        const retryable =
          (err instanceof DatabentoTransportError && err.kind !== 'corrupt') || (err instanceof DatabentoApiError && err.retryable);
        if (!retryable) throw err;
        if (n >= this.maxAttempts) {
          if (this.maxAttempts === 1) throw err;
          throw new DatabentoRetriesExhaustedError(endpoint, n, err);
        }
        let delay = this.backoffMs(n);
        if (err instanceof DatabentoApiError && err.retryAfterMs !== null) {
          if (err.retryAfterMs > this.maxRetryAfterMs) {
            throw new DatabentoRetriesExhaustedError(
              endpoint,
              n,
              new Error(
                `${err.message}; Retry-After ${Math.ceil(err.retryAfterMs / 1000)} s exceeds the ${Math.round(this.maxRetryAfterMs / 1000)} s limit`,
              ),
            );
          }
          delay = err.retryAfterMs;
        }
        onRetry?.({ endpoint, attempt: n, maxAttempts: this.maxAttempts, delayMs: delay, reason: (err as Error).message });
        try {
          await this.sleep(delay, signal);
        } catch {
          throw new DatabentoAbortError(endpoint);
        }
      }
    }
  }
}
