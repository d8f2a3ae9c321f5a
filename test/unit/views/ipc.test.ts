import { strict as assert } from 'node:assert';
import { z } from 'zod';
import { IpcEndpoint, IpcError, notification, request, type Envelope } from '../../../src/engine/views/ipc.ts';

const Add = request('math/add', z.strictObject({ a: z.number(), b: z.number() }), z.strictObject({ sum: z.number() }));
const Lie = request('math/lie', z.strictObject({}), z.strictObject({ sum: z.number() }));
const Fail = request('math/fail', z.strictObject({}), z.strictObject({}));
const Tick = notification('tick', z.strictObject({ n: z.number().int() }));

/** Two endpoints joined by an async "postMessage" that round-trips through JSON. */
function pair() {
  const faults: string[] = [];
  const wire: Envelope[] = [];
  const send = (to: () => IpcEndpoint) => (m: Envelope) => {
    wire.push(m);
    queueMicrotask(() => to().receive(JSON.parse(JSON.stringify(m))));
  };
  const a: IpcEndpoint = new IpcEndpoint({ post: send(() => b), onFault: (s) => faults.push(`a: ${s}`) });
  const b: IpcEndpoint = new IpcEndpoint({ post: send(() => a), onFault: (s) => faults.push(`b: ${s}`) });
  return { a, b, faults, wire };
}

describe('views IPC (request/response and notifications over a postMessage-like channel)', () => {
  it('pairs requests with their results by id and validates params on arrival', async () => {
    const { a, b, wire } = pair();
    b.onRequest(Add, ({ a: x, b: y }) => ({ sum: x + y }));
    const [r1, r2] = await Promise.all([a.request(Add, { a: 1, b: 2 }), a.request(Add, { a: 10, b: 20 })]);
    assert.deepEqual([r1, r2], [{ sum: 3 }, { sum: 30 }]);
    assert.deepEqual(
      wire.filter((m) => m.kind === 'request').map((m) => (m as { id: number }).id),
      [1, 2],
    );
    await assert.rejects(
      a.request(Add, { a: 1, b: 'two' } as never),
      (e: IpcError) => e.code === 'bad_params' && /math\/add: b: /.test(e.message),
    );
  });

  it('unknown methods, thrown errors and invalid results come back as typed errors', async () => {
    const { a, b } = pair();
    b.onRequest(Lie, () => ({ sum: 'many' }) as never);
    b.onRequest(Fail, () => {
      throw new IpcError('not_found', 'run X is not in the catalog');
    });
    await assert.rejects(a.request(Add, { a: 1, b: 1 }), (e: IpcError) => e.code === 'unknown_method');
    await assert.rejects(a.request(Lie, {}), (e: IpcError) => e.code === 'bad_result' && /sum/.test(e.message));
    await assert.rejects(a.request(Fail, {}), (e: IpcError) => e.code === 'not_found' && /not in the catalog/.test(e.message));
  });

  it('notifications are validated; garbage envelopes are faults, never exceptions', async () => {
    const { a, b, faults } = pair();
    const seen: number[] = [];
    const off = b.onNotification(Tick, (p) => seen.push(p.n));
    a.notify(Tick, { n: 1 });
    a.notify(Tick, { n: 1.5 });
    for (const junk of [null, 'x', { kind: 'request' }, { kind: 'notify', method: '' }, { kind: 'response', id: 99, ok: true, result: 1 }])
      b.receive(junk);
    b.receive({ kind: 'notify', method: 'nope', params: {} });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, [1]);
    assert.equal(faults.length, 7, faults.join('\n'));
    assert.ok(faults.some((f) => /tick: n:/.test(f)));
    assert.ok(faults.some((f) => /unknown notification 'nope'/.test(f)));
    off();
    a.notify(Tick, { n: 2 });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, [1]);
  });

  it('close() rejects pending requests and refuses new ones', async () => {
    const { a, b } = pair();
    b.onRequest(Add, () => new Promise(() => undefined));
    const p = a.request(Add, { a: 1, b: 1 });
    a.close();
    await assert.rejects(p, (e: IpcError) => e.code === 'closed');
    await assert.rejects(a.request(Add, { a: 1, b: 1 }), (e: IpcError) => e.code === 'closed');
  });
});
