/**
 * `btnb serve`'s replay routes against a real server on 127.0.0.1 with a real catalog and run:
 * the WebSocket replay at `max` delivers every fill of fills.parquet exactly once; a malformed
 * ctrl gets `err` and the socket stays usable; the SSE fallback sends the same frames (commands
 * by POST); one-time tickets open them when a token is required; the gated clock holds a
 * session's timers while its transport is backed up.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { buildServer } from '../../../src/engine/server/app.ts';
import { jobsDirFor } from '../../../src/engine/jobs/jobEntries.ts';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { readArtifactColumns } from '../../../src/engine/backtest/artifactReader.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { ManualClock } from '../../../src/engine/replay/clock.ts';
import { ServerMsg, type FrameMsg } from '../../../src/engine/replay/protocol.ts';
import { gatedClock, withGate } from '../../../src/engine/server/replayHub.ts';
import { TicketStore } from '../../../src/engine/server/tickets.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;
const UNKNOWN_RUN = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

type Server = Awaited<ReturnType<typeof buildServer>>;
type Msg = ServerMsg | { type: 'session'; session_id: string; ctrl: string };

async function start(dataDir: string, token: string | null = null): Promise<{ s: Server; url: string; ws: string }> {
  const s = await buildServer({ dataDir, jobsDir: jobsDirFor(MAIN), token, maxJobs: 1, maxQueued: 8 });
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  return { s, url, ws: url.replace(/^http/, 'ws') };
}

/** Opens a WebSocket, collects messages (each validated) until `until` says stop; `onMsg` may answer. */
function wsCollect(
  url: string,
  until: (m: Msg, all: Msg[]) => boolean,
  onMsg: (m: Msg, ws: WebSocket, all: Msg[]) => void = () => undefined,
): Promise<{ msgs: Msg[]; closed: Promise<CloseEvent> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const msgs: Msg[] = [];
    const closed = new Promise<CloseEvent>((r) => ws.addEventListener('close', r));
    const timer = setTimeout(() => reject(new Error(`timed out; got ${msgs.map((m) => m.type).join(',')}`)), 60_000);
    ws.addEventListener('error', () => reject(new Error(`WebSocket error on ${url}`)));
    ws.addEventListener('message', (ev) => {
      const m = ServerMsg.parse(JSON.parse(String(ev.data)));
      msgs.push(m);
      onMsg(m, ws, msgs);
      if (until(m, msgs)) {
        clearTimeout(timer);
        ws.close();
        resolve({ msgs, closed });
      }
    });
  });
}

/** Reads an SSE response until `until`; every event's type is its data's `type`. */
async function sseCollect(
  res: Response,
  until: (m: Msg, all: Msg[]) => boolean,
  onMsg: (m: Msg) => void = () => undefined,
): Promise<Msg[]> {
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const msgs: Msg[] = [];
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return msgs;
    buf += value;
    let k: number;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, k);
      buf = buf.slice(k + 2);
      const event = /^event: (.+)$/m.exec(block)![1];
      const data = JSON.parse(/^data: (.+)$/m.exec(block)![1]!) as Msg;
      assert.equal(data.type, event);
      const m = data.type === 'session' ? data : ServerMsg.parse(data);
      msgs.push(m);
      onMsg(m);
      if (until(m, msgs)) {
        await reader.cancel();
        return msgs;
      }
    }
  }
}

const frames = (msgs: Msg[]) => msgs.filter((m): m is FrameMsg => m.type === 'frame');
const fillIds = (msgs: Msg[]) => frames(msgs).flatMap((f) => f.fills.fill_id);

/** The status a WebSocket upgrade request gets (101, or the HTTP error answered before it). */
function upgradeStatus(url: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const c = connect(Number(u.port), u.hostname);
    let got = '';
    c.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(got);
      if (m) {
        c.destroy();
        resolve(Number(m[1]));
      }
    });
    c.on('error', reject);
    c.on('close', () => reject(new Error(`no status line from ${url}: '${got}'`)));
    c.write(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

/** A response's status, its body read (an unread body keeps the client's connection busy). */
const statusOf = async (r: Promise<Response>) => {
  const res = await r;
  await res.arrayBuffer();
  return res.status;
};

describe('btnb serve: replay over WebSocket and SSE (real server, real run)', function () {
  this.timeout(120_000);
  let dataDir = '';
  let runId = '';
  let expected: number[] = [];
  let srv: Awaited<ReturnType<typeof start>>;

  before(async () => {
    const made = await makeDataDir(30_000, 7);
    dataDir = made.dataDir;
    runId = (await runBacktestToCatalog({ dataDir, datasetId: made.datasetId, strategy: 'sma-cross', params: { fast: 3, slow: 8 } })).run
      .run_id;
    const fills = await readArtifactColumns(dataPaths(dataDir).runFills(runId), { fill_id: { kind: 'i32', nullInt: 0 } });
    expected = Array.from(fills.columns.fill_id as Int32Array);
    assert.ok(expected.length > 1000, `a busy run (${expected.length} fills)`);
    srv = await start(dataDir);
  });
  after(async () => {
    await srv?.s.close();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('WebSocket at speed max: meta, frames in order, every fill exactly once, end complete', async () => {
    const { msgs } = await wsCollect(`${srv.ws}/backtests/${runId}/ws?speed=max&play=true&tz=Europe/Berlin`, (m) => m.type === 'end');
    assert.equal(msgs[0]!.type, 'meta');
    const meta = msgs[0] as Extract<Msg, { type: 'meta' }>;
    assert.equal(meta.run_id, runId);
    assert.equal(meta.bar_count, 30_000);
    assert.equal(meta.display_tz, 'Europe/Berlin');
    assert.equal(meta.fill_count, expected.length);
    const fs = frames(msgs);
    assert.ok(fs.length >= 4, `${fs.length} frames`);
    assert.deepEqual(
      fs.map((f) => f.seq),
      fs.map((_, k) => k),
    );
    assert.deepEqual(fillIds(msgs), expected, 'every fill of fills.parquet once, in order');
    const end = msgs.at(-1) as Extract<Msg, { type: 'end' }>;
    assert.deepEqual(end, { type: 'end', cursor: 29_999, reason: 'complete' });
    assert.equal(srv.s.app.websocketServer.clients.size <= 1, true);
  });

  it('WebSocket: a malformed ctrl gets err and the socket stays usable; from/to/points open options', async () => {
    const sent: string[] = [];
    const { msgs } = await wsCollect(
      `${srv.ws}/backtests/${runId}/ws?from=100&to=5000&points=50`,
      (m) => m.type === 'frame' && m.cursor === 110,
      (m, ws, all) => {
        if (m.type === 'ctrl' && sent.length === 0) {
          // paused at `from` after meta, the reset frame and the state
          for (const bad of ['not json', '{"type":"ctrl","cmd":"jump"}', '{"type":"ctrl","cmd":"step","value":0}', '{"type":"nope"}']) {
            ws.send(bad);
            sent.push(bad);
          }
        }
        if (m.type === 'err' && all.filter((x) => x.type === 'err').length === 4) ws.send('{"type":"ctrl","cmd":"step","value":10}');
      },
    );
    const meta = msgs[0] as Extract<Msg, { type: 'meta' }>;
    assert.deepEqual([meta.from, meta.to], [100, 5000]);
    const first = frames(msgs)[0]!;
    assert.equal(first.reset, true);
    assert.equal(first.cursor, 100);
    assert.ok(first.bars.i.length <= 50 + 600 + 1);
    const errs = msgs.filter((m) => m.type === 'err');
    assert.deepEqual(
      errs.map((e) => e.code),
      ['bad_message', 'bad_value', 'bad_value', 'bad_message'],
    );
    assert.match(errs[1]!.message, /cmd/);
    const last = frames(msgs).at(-1)!;
    assert.equal(last.cursor, 110);
    assert.equal(last.reset, undefined);
  });

  it('WebSocket: an unknown run or a bad from gets err then end and the socket closes; a bad query is a 400 before the upgrade', async () => {
    const unknown = await wsCollect(`${srv.ws}/backtests/${UNKNOWN_RUN}/ws`, (m) => m.type === 'end');
    assert.deepEqual(
      unknown.msgs.map((m) => m.type),
      ['err', 'end'],
    );
    assert.equal((unknown.msgs[0] as Extract<Msg, { type: 'err' }>).code, 'not_found');
    const late = await wsCollect(`${srv.ws}/backtests/${runId}/ws?from=99999`, (m) => m.type === 'end');
    assert.equal((late.msgs[0] as Extract<Msg, { type: 'err' }>).code, 'bad_value');
    assert.match((late.msgs[0] as Extract<Msg, { type: 'err' }>).message, /from/);
    assert.equal(await upgradeStatus(`${srv.url}/backtests/${runId}/ws?speed=fast`), 400);
    assert.equal(await upgradeStatus(`${srv.url}/backtests/${runId}/ws?tz=Mars/Olympus`), 400);
    assert.equal(await upgradeStatus(`${srv.url}/backtests/not-a-run/ws`), 400);
  });

  it('SSE: the same frames and fills as the WebSocket, a session id first', async () => {
    const q = 'speed=max&play=true';
    const sse = await sseCollect(await fetch(`${srv.url}/backtests/${runId}/events?${q}`), (m) => m.type === 'end');
    assert.equal(sse[0]!.type, 'session');
    assert.equal(sse[1]!.type, 'meta');
    assert.deepEqual(fillIds(sse), expected);
    assert.deepEqual(sse.at(-1), { type: 'end', cursor: 29_999, reason: 'complete' });
    const { msgs: ws } = await wsCollect(`${srv.ws}/backtests/${runId}/ws?${q}`, (m) => m.type === 'end');
    // frame boundaries depend on timing at max; what the view ends up holding does not
    assert.deepEqual(fillIds(sse), fillIds(ws));
    assert.equal(frames(sse)[0]!.cursor, frames(ws)[0]!.cursor);
    assert.deepEqual(frames(sse)[0], frames(ws)[0], 'the same first (reset) frame');
  });

  it('SSE: commands by POST …/events/{session}/ctrl (202), 400 for an invalid one, 404 for an unknown session', async () => {
    const res = await fetch(`${srv.url}/backtests/${runId}/events?from=20`);
    let session = '';
    const posts: Promise<Response>[] = [];
    const msgs = await sseCollect(
      res,
      (m) => m.type === 'frame' && m.cursor === 27,
      (m) => {
        if (m.type === 'session') session = m.session_id;
        if (m.type === 'ctrl' && posts.length === 0) {
          const post = (body: unknown, id = session) =>
            fetch(`${srv.url}/backtests/${runId}/events/${id}/ctrl`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
          posts.push(
            post({ type: 'ctrl', cmd: 'jump' }),
            post({ type: 'ctrl', cmd: 'step', value: 7 }),
            post({ type: 'ctrl', cmd: 'pause' }, '00000000-0000-4000-8000-000000000000'),
          );
        }
      },
    );
    const [bad, ok, unknown] = await Promise.all(posts);
    assert.equal(bad!.status, 400);
    assert.equal(((await bad!.json()) as { status: number }).status, 400);
    assert.equal(ok!.status, 202);
    assert.deepEqual(await ok!.json(), { session_id: session });
    assert.equal(unknown!.status, 404);
    assert.equal(frames(msgs).at(-1)!.cursor, 27);
    // once the stream is gone, its session is too
    await new Promise((r) => setTimeout(r, 100));
    const after = await fetch(`${srv.url}/backtests/${runId}/events/${session}/ctrl`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"ctrl","cmd":"play"}',
    });
    assert.equal(after.status, 404);
  });

  it('with a token: no ticket → 401; POST /tickets (auth) → a ticket that opens one WebSocket or SSE stream, once', async () => {
    const token = 'secret-token-for-tests';
    const t = await start(dataDir, token);
    try {
      const auth = { authorization: `Bearer ${token}` };
      assert.equal(await upgradeStatus(`${t.url}/backtests/${runId}/ws`), 401);
      assert.equal(await upgradeStatus(`${t.url}/backtests/${runId}/ws?ticket=guess`), 401);
      assert.equal(await upgradeStatus(`${t.url}/backtests/${runId}/ws?token=${token}`), 401, 'never the token in a URL');
      assert.equal(await statusOf(fetch(`${t.url}/tickets`, { method: 'POST' })), 401);
      const issue = async () => {
        const r = await fetch(`${t.url}/tickets`, { method: 'POST', headers: auth });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('cache-control'), 'no-store');
        const b = (await r.json()) as { ticket: string; expires_in: number };
        assert.equal(b.expires_in, 30);
        return b.ticket;
      };
      const ticket = await issue();
      const { msgs } = await wsCollect(`${t.ws}/backtests/${runId}/ws?ticket=${ticket}`, (m) => m.type === 'ctrl');
      assert.equal(msgs[0]!.type, 'meta');
      assert.equal(await upgradeStatus(`${t.url}/backtests/${runId}/ws?ticket=${ticket}`), 401, 'a ticket works once');
      // a ticket opens only the replay routes
      const other = await issue();
      assert.equal(await statusOf(fetch(`${t.url}/backtests/${runId}?ticket=${other}`)), 401);
      // …where it was not used up: it still opens an SSE stream, once
      const sse = await sseCollect(await fetch(`${t.url}/backtests/${runId}/events?ticket=${other}`), (m) => m.type === 'ctrl');
      assert.deepEqual(
        sse.map((m) => m.type),
        ['session', 'meta', 'frame', 'ctrl'],
      );
      assert.equal(await statusOf(fetch(`${t.url}/backtests/${runId}/events?ticket=${other}`)), 401);
    } finally {
      await t.s.close(); // hangs if a refused upgrade left its socket open
    }
  });

  it('shutdown ends open replays with end (stopped)', async () => {
    const t = await start(dataDir);
    const got = wsCollect(`${t.ws}/backtests/${runId}/ws`, (m) => m.type === 'end');
    const sse = fetch(`${t.url}/backtests/${runId}/events`).then((r) => sseCollect(r, (m) => m.type === 'end'));
    await new Promise((r) => setTimeout(r, 300));
    await t.s.close();
    const { msgs } = await got;
    assert.deepEqual(msgs.at(-1), { type: 'end', cursor: 0, reason: 'stopped' });
    assert.deepEqual((await sse).at(-1), { type: 'end', cursor: 0, reason: 'stopped' });
  });
});

describe('replay backpressure: the gated clock and tickets', () => {
  it("a session's due timers wait while its transport is blocked, then fire in order; others do not wait", async () => {
    const base = new ManualClock();
    const clock = gatedClock(base);
    let blocked = true;
    let release: () => void = () => undefined;
    const gate = { blocked: () => blocked, drained: () => new Promise<void>((r) => (release = r)) };
    const fired: string[] = [];
    withGate(gate, () => {
      clock.setTimeout(() => {
        fired.push('a');
        clock.setTimeout(() => fired.push('a2'), 10); // set inside the callback: the same gate
      }, 10);
    });
    clock.setTimeout(() => fired.push('free'), 20);
    base.advance(50);
    assert.deepEqual(fired, ['free']);
    blocked = false;
    release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fired, ['free', 'a']);
    blocked = true;
    base.advance(10);
    assert.deepEqual(fired, ['free', 'a']);
    blocked = false;
    release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fired, ['free', 'a', 'a2']);
    const h = withGate(gate, () => clock.setTimeout(() => fired.push('never'), 5));
    clock.clearTimeout(h);
    base.advance(10);
    assert.equal(fired.includes('never'), false);
  });

  it('tickets: one use, expire after 30 s', () => {
    let now = 1000;
    const t = new TicketStore(() => now);
    const a = t.issue();
    const b = t.issue();
    assert.notEqual(a.ticket, b.ticket);
    assert.ok(a.ticket.length >= 32);
    assert.equal(t.redeem(a.ticket), true);
    assert.equal(t.redeem(a.ticket), false);
    now += 30_001;
    assert.equal(t.redeem(b.ticket), false);
    assert.equal(t.size, 0);
  });
});
