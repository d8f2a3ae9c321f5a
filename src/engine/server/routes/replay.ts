/**
 * The contracts' replay (docs/replay.md) over HTTP: GET /backtests/{id}/ws (a WebSocket: server →
 * meta/ctrl/frame/hb/end/err, client → ctrl) and GET /backtests/{id}/events, the SSE fallback
 * (the same messages as `event: <type>` + `data: <json>`, commands by POST
 * /backtests/{id}/events/{session}/ctrl). Both are sessions of the server's one LocalStreamer
 * (replayHub.ts); the open options are query parameters. POST /tickets gives the one-time
 * `?ticket=` with which browsers (no headers on WebSocket/EventSource) open them.
 */
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { ReplaySession } from '../../ports/streamer.ts';
import { CtrlCommand, type ServerMsg } from '../../replay/protocol.ts';
import { Problem, ReplayCtrlAccepted, ReplayQuery, ReplaySessionParams, RunId, SseStream, Ticket } from '../api.ts';
import type { ServerContext, TypedApp } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { HIGH_WATER_BYTES, replayHub, withGate, type Gate, type LiveReplay } from '../replayHub.ts';
import { ticketsFor } from '../tickets.ts';

/** Commands a client may send before its session has opened (the run is loading). */
const MAX_EARLY_COMMANDS = 64;
/** How often a blocked session looks at its transport again. */
const DRAIN_POLL_MS = 5;

/** What the handler uses of the `ws` WebSocket (the package ships no types here). */
interface WsSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes queued and not yet written to the network. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', fn: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close', fn: () => void): void;
}

const poll = () => new Promise<void>((r) => setTimeout(r, DRAIN_POLL_MS));

/**
 * A session being opened for a transport: commands that arrive before it is open wait in order;
 * every command runs inside the transport's gate (its timers then wait on the transport).
 */
class Pending {
  session: ReplaySession | null = null;
  gone = false;
  readonly #early: unknown[] = [];
  readonly #gate: Gate;
  readonly #send: (m: ServerMsg) => void;

  constructor(gate: Gate, send: (m: ServerMsg) => void) {
    this.#gate = gate;
    this.#send = send;
  }

  control(msg: unknown): void {
    const s = this.session;
    if (s) withGate(this.#gate, () => s.control(msg));
    else if (this.#early.length < MAX_EARLY_COMMANDS) this.#early.push(msg);
    else this.#send({ type: 'err', code: 'bad_message', message: `more than ${MAX_EARLY_COMMANDS} commands before the replay opened` });
  }

  opened(s: ReplaySession): void {
    if (this.gone) return s.close();
    this.session = s;
    for (const m of this.#early.splice(0)) this.control(m);
  }

  /** Ends the session (`end` `stopped` goes out if the transport still takes it). */
  close(): void {
    this.gone = true;
    this.session?.close();
    this.session = null;
  }
}

export function registerReplay(app: TypedApp, ctx: ServerContext): void {
  app.post('/tickets', { schema: { response: { 200: Ticket, 401: Problem } } }, async (_req, reply) =>
    reply.header('Cache-Control', 'no-store').send(ticketsFor(ctx).issue()),
  );

  app.get(
    '/backtests/:id/ws',
    { websocket: true, schema: { params: RunId, querystring: ReplayQuery, response: { 400: Problem, 401: Problem } } },
    (ws, req) => {
      const socket = ws as WsSocket;
      const hub = replayHub(ctx);
      const gate: Gate = {
        blocked: () => socket.readyState === socket.OPEN && socket.bufferedAmount > HIGH_WATER_BYTES,
        drained: poll,
      };
      const send = (m: ServerMsg) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
      };
      const p = new Pending(gate, send);
      const live: LiveReplay = {
        close: () => {
          p.close();
          socket.close(1001, 'server shutting down');
        },
      };
      hub.live.add(live);
      socket.on('message', (data, isBinary) => {
        if (isBinary) return send({ type: 'err', code: 'bad_message', message: 'binary message: expected a JSON ctrl message' });
        let msg: unknown;
        try {
          msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
        } catch (err) {
          return send({ type: 'err', code: 'bad_message', message: `not JSON: ${(err as Error).message}` });
        }
        p.control(msg);
      });
      socket.on('close', () => {
        hub.live.delete(live);
        p.close();
      });
      void hub.open(req.params.id, req.query, gate, send).then((s) => {
        if (s) return p.opened(s);
        hub.live.delete(live); // err and end were sent
        socket.close(1000, 'replay not opened');
      });
    },
  );

  app.get(
    '/backtests/:id/events',
    {
      schema: {
        params: RunId,
        querystring: ReplayQuery,
        response: {
          200: SseStream.describe(
            'text/event-stream: `event: <type>` + `data: <replay message JSON>` (docs/replay.md); first a `session` event',
          ),
          400: Problem,
          401: Problem,
        },
      },
    },
    async (req, reply) => {
      const hub = replayHub(ctx);
      const runId = req.params.id;
      const sessionId = randomUUID();
      const out = new PassThrough();
      const res = reply.raw;
      let open = true;
      const write = (m: { type: string }) => {
        if (open) out.write(`event: ${m.type}\ndata: ${JSON.stringify(m)}\n\n`);
      };
      const gate: Gate = { blocked: () => open && out.writableLength + res.writableLength > HIGH_WATER_BYTES, drained: poll };
      const p = new Pending(gate, write);
      const forget = () => {
        hub.sse.delete(sessionId);
        hub.live.delete(live);
      };
      const live: LiveReplay = {
        close: () => {
          forget();
          p.close(); // `end` (`stopped`) is the stream's last event
          open = false;
          out.end();
        },
      };
      hub.live.add(live);
      hub.sse.set(sessionId, { runId, control: (m) => p.control(m) });
      res.on('close', () => {
        open = false;
        forget();
        p.close();
      });
      write({ type: 'session', session_id: sessionId, ctrl: `/backtests/${runId}/events/${sessionId}/ctrl` } as { type: string });
      void hub.open(runId, req.query, gate, write).then((s) => {
        if (s) return p.opened(s);
        // err and end were sent: the stream is over (a client closes its EventSource at `end`)
        forget();
        open = false;
        out.end();
      });
      return (
        reply
          .header('Content-Type', 'text/event-stream; charset=utf-8')
          .header('Cache-Control', 'no-cache, no-transform')
          .header('X-Accel-Buffering', 'no')
          // the stream holds its connection to the end; then it closes (a shutdown must not wait for a keep-alive)
          .header('Connection', 'close')
          .send(out as never)
      ); // a stream: the response schemas above are the errors'
    },
  );

  app.post(
    '/backtests/:id/events/:session/ctrl',
    {
      schema: {
        params: ReplaySessionParams,
        body: CtrlCommand,
        response: { 202: ReplayCtrlAccepted, 400: Problem, 401: Problem, 404: Problem },
      },
    },
    async (req, reply) => {
      const s = replayHub(ctx).sse.get(req.params.session);
      if (!s || s.runId !== req.params.id)
        throw new HttpProblem(404, `no replay session ${req.params.session} for run ${req.params.id} (closed, or never opened)`, {
          field: 'params.session',
        });
      s.control(req.body);
      return reply.code(202).send({ session_id: req.params.session });
    },
  );
}
