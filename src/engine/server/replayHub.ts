/**
 * What the replay routes of `btnb serve` share: one LocalStreamer per server (sessions of every
 * client on one clock, a few recently replayed runs kept loaded), the replays open now (ended with
 * `end` `stopped` at shutdown) and the SSE sessions by id.
 *
 * Backpressure: a client slower than `max` speed must not make the server buffer without bound,
 * and nothing may be dropped (every fill arrives exactly once). The streamer paces itself with
 * timers on its Clock, so the server's clock is `gatedClock`: each session runs its open and its
 * commands inside its transport's Gate (AsyncLocalStorage carries it into the timers they set),
 * and a due timer of a session whose transport holds more than HIGH_WATER_BYTES waits until it
 * drains. The session's pacing simply slows down; frames are never skipped.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';
import type { ReplaySession } from '../ports/streamer.ts';
import { systemClock, type Clock } from '../replay/clock.ts';
import { LocalStreamer } from '../replay/localStreamer.ts';
import type { ErrMsg, ServerMsg } from '../replay/protocol.ts';
import { loadRunSeries, RunDataError, type RunSeries } from '../replay/runSeries.ts';
import type { ReplayQuery } from './api.ts';
import type { ServerContext } from './context.ts';

/** Bytes a transport may hold unsent before its session's timers wait. */
export const HIGH_WATER_BYTES = 1 << 20;
/** Runs kept loaded for the next replay. */
const CACHED_RUNS = 4;

/** A transport's flow control as the clock sees it. */
export interface Gate {
  /** True while the transport holds too much: the session's due timers wait. */
  blocked(): boolean;
  /** Resolves when it is worth asking blocked() again (drained, closed, or a short poll). */
  drained(): Promise<void>;
}

const gates = new AsyncLocalStorage<Gate>();

/** Runs `fn` (a session's open or a command to it) so that the timers it sets wait on `gate`. */
export function withGate<T>(gate: Gate, fn: () => T): T {
  return gates.run(gate, fn);
}

/** A Clock whose timers, when set inside withGate, fire only once their gate is not blocked. */
export function gatedClock(base: Clock = systemClock): Clock {
  interface Handle {
    inner: unknown;
    cancelled: boolean;
  }
  return {
    now: () => base.now(),
    setTimeout(fn, ms) {
      const gate = gates.getStore();
      const h: Handle = { inner: null, cancelled: false };
      const fire = (): void => {
        h.inner = null;
        if (h.cancelled) return;
        if (gate === undefined) return fn();
        if (gate.blocked()) {
          void gate.drained().then(fire);
          return;
        }
        gates.run(gate, fn);
      };
      h.inner = base.setTimeout(fire, ms);
      return h;
    },
    clearTimeout(handle) {
      const h = handle as Handle;
      h.cancelled = true;
      if (h.inner !== null) base.clearTimeout(h.inner);
      h.inner = null;
    },
  };
}

/** An open replay on some transport: close() ends it with `end` (`stopped`) and closes the transport. */
export interface LiveReplay {
  close(): void;
}

/** An SSE replay by its session id: commands POSTed for it (queued until the session is open). */
export interface SseReplay {
  runId: string;
  control(msg: unknown): void;
}

export class ReplayHub {
  readonly streamer: LocalStreamer;
  readonly live = new Set<LiveReplay>();
  readonly sse = new Map<string, SseReplay>();
  readonly #ctx: ServerContext;
  readonly #cache = new Map<string, Promise<RunSeries>>();

  constructor(ctx: ServerContext, clock: Clock = gatedClock()) {
    this.#ctx = ctx;
    this.streamer = new LocalStreamer((id) => this.#load(id), clock);
  }

  #load(runId: string): Promise<RunSeries> {
    const row = this.#ctx.catalog.getRun(runId);
    let p = row?.status === 'succeeded' ? this.#cache.get(runId) : undefined;
    if (p) {
      this.#cache.delete(runId); // most recently used last
    } else {
      const loading = loadRunSeries(this.#ctx.opts.dataDir, this.#ctx.catalog, runId, this.#ctx.materialize);
      loading.catch(() => {
        if (this.#cache.get(runId) === loading) this.#cache.delete(runId);
      });
      p = loading;
    }
    this.#cache.set(runId, p);
    while (this.#cache.size > CACHED_RUNS) this.#cache.delete(this.#cache.keys().next().value!);
    return p;
  }

  /**
   * Opens a replay whose messages go to `send`; its timers wait on `gate`. When it cannot open
   * (unknown run, not succeeded, bad from/to) the client gets `err` then `end` and null is returned.
   */
  async open(runId: string, q: ReplayQuery, gate: Gate, send: (m: ServerMsg) => void): Promise<ReplaySession | null> {
    try {
      return await withGate(gate, () =>
        this.streamer.open(
          runId,
          {
            ...(q.speed !== undefined ? { speed: q.speed } : {}),
            ...(q.from !== undefined ? { from: q.from } : {}),
            ...(q.to !== undefined ? { to: q.to } : {}),
            ...(q.play !== undefined ? { play: q.play } : {}),
            ...(q.points !== undefined ? { historyPoints: q.points } : {}),
            displayTz: q.tz,
          },
          send,
        ),
      );
    } catch (err) {
      send(openError(err));
      send({ type: 'end', cursor: -1, reason: 'stopped' });
      return null;
    }
  }

  /** Ends every open replay (server shutdown). */
  closeAll(): void {
    for (const r of [...this.live]) r.close();
    this.live.clear();
  }
}

function openError(err: unknown): ErrMsg {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RunDataError) return { type: 'err', code: err.code === 'not_found' ? 'not_found' : 'bad_value', message };
  if (err instanceof RangeError) return { type: 'err', code: 'bad_value', message };
  return { type: 'err', code: 'internal', message };
}

const hubs = new WeakMap<ServerContext, ReplayHub>();

/** The server's hub (created on first use). */
export function replayHub(ctx: ServerContext): ReplayHub {
  let h = hubs.get(ctx);
  if (!h) hubs.set(ctx, (h = new ReplayHub(ctx)));
  return h;
}

/**
 * @fastify/websocket's `preClose` for buildServer: ends every replay — WebSocket and SSE — with
 * `end` (`stopped`) before the sockets close, then closes the remaining sockets and the server.
 */
export function replayPreClose(ctx: ServerContext) {
  return function (this: FastifyInstance, done: () => void): void {
    hubs.get(ctx)?.closeAll();
    const wss = this.websocketServer;
    for (const client of wss.clients) client.close(1001, 'server shutting down');
    wss.close();
    done();
  };
}
