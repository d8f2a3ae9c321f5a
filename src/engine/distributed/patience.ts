/**
 * A worker's calls to the coordinator outlast a coordinator restart: network errors and 5xx/429
 * answers are retried with backoff for up to two minutes (the point's lock is renewed meanwhile:
 * the event loop is free), while a refusal (another 4xx) fails at once — the job's attempt fails
 * and BullMQ retries it, as for a corrupted upload.
 */
export const PATIENCE_MS = 120_000;

export class Refused extends Error {
  override name = 'Refused';
}

export async function patiently(what: string, call: () => Promise<Response>, patienceMs = PATIENCE_MS): Promise<Response> {
  const t0 = Date.now();
  let wait = 250;
  for (;;) {
    let why: string;
    try {
      const res = await call();
      if (res.ok) return res;
      const body = (await res.text()).slice(0, 500);
      if (res.status < 500 && res.status !== 429) throw new Refused(`${what}: HTTP ${res.status} ${body}`);
      why = `HTTP ${res.status} ${body}`;
    } catch (err) {
      if (err instanceof Refused) throw err;
      why = (err as Error).message;
    }
    if (Date.now() - t0 + wait > patienceMs)
      throw new Error(`${what}: the coordinator did not answer within ${patienceMs / 1000} s (${why})`);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 5000);
  }
}
