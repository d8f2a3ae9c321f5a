import { strict as assert } from 'node:assert';
import { startFakeDatabento, type FakeDatabento } from '../../support/fakeDatabento.ts';

// The fake is reused by the extension's tests: its own answers are pinned here with raw HTTP.
const KEY = 'db-FAKEfakeFAKEfakeFAKEfakeFAKEfa';
const auth = (user: string, pass = ''): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const FORM = {
  dataset: 'GLBX.MDP3',
  symbols: 'ESH1',
  schema: 'trades',
  start: '2020-12-28',
  end: '2020-12-29',
  encoding: 'dbn',
  compression: 'zstd',
};

describe('fakeDatabento (test support)', () => {
  let fake: FakeDatabento;
  before(async () => {
    fake = await startFakeDatabento({
      key: KEY,
      files: { trades: 'test/fixtures/dbn/test_data.trades.v3.dbn.zst', tbbo: 'test/fixtures/dbn/test_data.tbbo.dbn' },
    });
  });
  after(() => fake.close());

  const post = async (
    endpoint: string,
    form: Record<string, string>,
    authorization = auth(KEY),
    method = 'POST',
  ): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${fake.url}/v0/${endpoint}`, {
      method,
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      ...(method === 'POST' ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // binary
    }
    return { status: res.status, body };
  };

  it("401 for a wrong key, a non-empty password or no auth, with Databento's flat body", async () => {
    for (const a of [auth('db-other'), auth(KEY, 'x'), '']) {
      assert.deepEqual(await post('metadata.get_record_count', FORM, a), { status: 401, body: { detail: 'Authentication failed.' } });
    }
  });

  it('400 for a missing parameter, 404 for an unknown endpoint, 405 for GET', async () => {
    const { start: _s, ...noStart } = FORM;
    assert.deepEqual(await post('metadata.get_cost', noStart), { status: 400, body: { detail: 'Missing required parameter `start`.' } });
    assert.equal((await post('metadata.list_everything', FORM)).status, 404);
    assert.equal((await post('metadata.get_cost', FORM, auth(KEY), 'GET')).status, 405);
  });

  it('422 (nested shape) for end <= start, an unknown symbol, an unserved schema, a non-dbn encoding', async () => {
    const cases: [Record<string, string>, string, string][] = [
      [{ ...FORM, end: '2020-12-27' }, 'metadata.get_cost', 'end_before_start'],
      [{ ...FORM, symbols: 'NQH1' }, 'metadata.get_cost', 'symbology_invalid_request'],
      [{ ...FORM, schema: 'mbo' }, 'metadata.get_cost', 'schema_unavailable'],
      [{ ...FORM, encoding: 'csv' }, 'timeseries.get_range', 'encoding_unsupported'],
      [{ ...FORM, dataset: 'XNAS.ITCH' }, 'metadata.get_cost', 'dataset_invalid'],
    ];
    for (const [form, endpoint, kase] of cases) {
      const r = await post(endpoint, form);
      assert.equal(r.status, 422, kase);
      const d = (r.body as { detail: { case: string; status_code: number; message: string } }).detail;
      assert.equal(d.case, kase);
      assert.equal(d.status_code, 422);
      assert.ok(d.message.length > 10);
    }
  });

  it('answers from the served files: records and billable bytes per DBN brief §11; a raw .dbn is served zstd-compressed', async () => {
    assert.deepEqual(await post('metadata.get_record_count', FORM), { status: 200, body: 2 });
    assert.deepEqual(await post('metadata.get_billable_size', FORM), { status: 200, body: 96 });
    assert.deepEqual(await post('metadata.get_record_count', { ...FORM, limit: '1' }), { status: 200, body: 1 });
    assert.deepEqual(await post('metadata.get_billable_size', { ...FORM, schema: 'tbbo' }), { status: 200, body: 160 });
    assert.equal(fake.served.tbbo!.bytes.readUInt32LE(0), 0xfd2fb528);
    assert.deepEqual(fake.served.trades!.symbols, ['ESH1']);
    const res = await fetch(`${fake.url}/v0/timeseries.get_range`, {
      method: 'POST',
      headers: { authorization: auth(KEY) },
      body: new URLSearchParams(FORM),
    });
    assert.equal(res.headers.get('content-length'), null, 'chunked, like Databento');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), fake.served.trades!.bytes);
  });
});
