import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DatabentoAbortError,
  DatabentoApiError,
  DatabentoRetriesExhaustedError,
  DatabentoTransportError,
  DownloadWriteError,
  HistoricalClient,
  type HistoricalClientOptions,
  type RangeParams,
} from '../../../src/engine/databento/index.ts';
import { startFakeDatabento, type FakeDatabento, type FakeDatabentoOptions } from '../../support/fakeDatabento.ts';

const KEY = 'db-TESTKEYabcdefghijklmnopqrstuv';
const TRADES = 'test/fixtures/dbn/test_data.trades.v3.dbn.zst';
const TBBO = 'test/fixtures/dbn/test_data.tbbo.v3.dbn.zst';
const PARAMS: RangeParams = { dataset: 'GLBX.MDP3', symbols: ['ESH1'], schema: 'trades', start: '2020-12-28', end: '2020-12-29' };
// DBN brief §11 A: decompressed 456 bytes, first record at byte 360, two 48-byte trades.
const TRADES_RECORDS = 2;
const TRADES_BILLABLE = 456 - 360;

describe('databento HistoricalClient (against the fake server)', function () {
  let fake: FakeDatabento | null = null;
  let dir: string;
  const sleeps: number[] = [];
  const fastSleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
  };

  async function setup(
    extra: Partial<FakeDatabentoOptions> = {},
    clientOpts: Partial<HistoricalClientOptions> = {},
  ): Promise<HistoricalClient> {
    fake = await startFakeDatabento({ key: KEY, files: { trades: TRADES, tbbo: TBBO }, ...extra });
    return new HistoricalClient({ key: KEY, env: {}, baseUrl: fake.url, sleep: fastSleep, timeoutMs: 2000, ...clientOpts });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-dbhist-'));
    sleeps.length = 0;
  });
  afterEach(async () => {
    await fake?.close();
    fake = null;
    rmSync(dir, { recursive: true, force: true });
  });

  const dest = (): string => join(dir, 'out.trades.dbn.zst');
  const fixtureBytes = readFileSync(TRADES);
  const ranges = (): number => fake!.requests.filter((r) => r.endpoint === 'timeseries.get_range').length;

  it('downloads the exact bytes, with the Basic auth header and the get_range form fields', async () => {
    const client = await setup();
    const progress: number[] = [];
    const r = await client.getRange(PARAMS, dest(), { onProgress: (p) => progress.push(p.bytes) });
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
    assert.equal(r.bytes, fixtureBytes.length);
    assert.equal(r.sha256, createHash('sha256').update(fixtureBytes).digest('hex'));
    assert.equal(r.status, 200);
    assert.equal(r.partial, false);
    assert.equal(r.attempts, 1);
    assert.equal(r.zstdFrames, 1);
    assert.equal(progress.at(-1), fixtureBytes.length);
    assert.ok(progress.length >= 3, 'progress reported while streaming (64-byte chunks)');
    assert.deepEqual(readdirSync(dir), ['out.trades.dbn.zst']);
    const req = fake!.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v0/timeseries.get_range');
    assert.equal(req.authorization, `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`);
    assert.deepEqual(req.form, {
      dataset: 'GLBX.MDP3',
      symbols: 'ESH1',
      schema: 'trades',
      start: '2020-12-28',
      end: '2020-12-29',
      stype_in: 'raw_symbol',
      stype_out: 'instrument_id',
      encoding: 'dbn',
      compression: 'zstd',
    });
  });

  it('answers cost, record count and billable size from the metadata endpoints', async () => {
    const client = await setup();
    assert.equal(await client.getRecordCount(PARAMS), TRADES_RECORDS);
    assert.equal(await client.getBillableSize(PARAMS), TRADES_BILLABLE);
    assert.equal(await client.getCost(PARAMS), (TRADES_BILLABLE / 1e9) * 10);
    assert.equal(await client.getRecordCount({ ...PARAMS, schema: 'tbbo' }), 2);
    assert.equal(await client.getBillableSize({ ...PARAMS, schema: 'tbbo' }), 2 * 80);
    assert.deepEqual(fake!.requests.map((r) => r.endpoint).slice(0, 3), [
      'metadata.get_record_count',
      'metadata.get_billable_size',
      'metadata.get_cost',
    ]);
    assert.deepEqual(fake!.requests[0]!.form, {
      dataset: 'GLBX.MDP3',
      symbols: 'ESH1',
      schema: 'trades',
      start: '2020-12-28',
      end: '2020-12-29',
      stype_in: 'raw_symbol',
    });
  });

  it('honours Retry-After seconds on 429, then succeeds', async () => {
    const client = await setup({ faults: [{ kind: 'status', status: 429, retryAfter: '1', body: { detail: 'Too many requests' } }] });
    const retries: string[] = [];
    const c2 = new HistoricalClient({
      key: KEY,
      env: {},
      baseUrl: fake!.url,
      sleep: fastSleep,
      onRetry: (e) => retries.push(`${e.attempt}/${e.maxAttempts} ${e.delayMs}`),
    });
    void client;
    const r = await c2.getRange(PARAMS, dest());
    assert.deepEqual(sleeps, [1000]);
    assert.deepEqual(retries, ['1/5 1000']);
    assert.equal(r.attempts, 2);
    assert.deepEqual(
      fake!.requests.map((q) => q.status),
      [429, 200],
    );
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
  });

  it('honours a Retry-After HTTP-date on metadata calls too', async () => {
    const when = new Date(Date.now() + 30_000).toUTCString();
    const client = await setup({ faults: [{ kind: 'status', status: 429, retryAfter: when }] });
    assert.equal(await client.getRecordCount(PARAMS), TRADES_RECORDS);
    assert.equal(sleeps.length, 1);
    // HTTP-dates have 1 s resolution: the wait is 29–30 s
    assert.ok(sleeps[0]! > 28_000 && sleeps[0]! <= 30_000, `slept ${sleeps[0]}`);
  });

  it('gives up instead of waiting when Retry-After exceeds maxRetryAfterMs', async () => {
    const client = await setup({ faults: [{ kind: 'status', status: 429, retryAfter: '3600' }] }, { maxRetryAfterMs: 60_000 });
    await assert.rejects(
      client.getRange(PARAMS, dest()),
      (e: Error) => e instanceof DatabentoRetriesExhaustedError && /Retry-After 3600 s exceeds the 60 s limit/.test(e.message),
    );
    assert.deepEqual(sleeps, []);
    assert.ok(!existsSync(dest()));
  });

  it('retries 500 and 503 with seeded exponential backoff + jitter, then succeeds', async () => {
    const faults = [
      { kind: 'status' as const, status: 500 },
      { kind: 'status' as const, status: 503, body: 'upstream unavailable' },
    ];
    const client = await setup({ faults }, { random: () => 0.5, baseDelayMs: 100 });
    await client.getRange(PARAMS, dest());
    // equal jitter: full/2 + r·full/2 with full = 100·2^(n−1) → 75, 150
    assert.deepEqual(sleeps, [75, 150]);
    assert.deepEqual(
      fake!.requests.map((q) => q.status),
      [500, 503, 200],
    );
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
  });

  it('uses the same jitter sequence for the same seed', async () => {
    const client = await setup({ faults: [{ kind: 'status', status: 500, times: 3 }] }, { seed: 42, baseDelayMs: 1000 });
    await client.getRecordCount(PARAMS);
    const first = [...sleeps];
    sleeps.length = 0;
    fake!.addFault({ kind: 'status', status: 500, times: 3 });
    const again = new HistoricalClient({ key: KEY, env: {}, baseUrl: fake!.url, sleep: fastSleep, seed: 42, baseDelayMs: 1000 });
    await again.getRecordCount(PARAMS);
    assert.deepEqual(sleeps, first);
    assert.equal(first.length, 3);
    first.forEach((ms, i) => {
      const full = 1000 * 2 ** i;
      assert.ok(ms >= full / 2 && ms <= full, `retry ${i + 1}: ${ms} in [${full / 2}, ${full}]`);
    });
  });

  it('a connection dropped mid-body is retried from scratch: complete file, no .part', async () => {
    const client = await setup({ faults: [{ kind: 'drop', afterBytes: 100 }] });
    const attempts: number[] = [];
    const r = await client.getRange(PARAMS, dest(), { onProgress: (p) => attempts.push(p.attempt) });
    assert.equal(r.attempts, 2);
    assert.equal(fake!.requests[0]!.bytesSent, 100);
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
    assert.deepEqual(readdirSync(dir), ['out.trades.dbn.zst']);
    assert.ok(attempts.includes(1) && attempts.includes(2));
  });

  it('a drop with Content-Length is caught and retried too', async () => {
    const client = await setup({ contentLength: true, faults: [{ kind: 'drop', afterBytes: 64 }] });
    const r = await client.getRange(PARAMS, dest());
    assert.equal(r.attempts, 2);
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
  });

  it('a body ended cleanly but mid-frame (chunked, no Content-Length) is detected by the zstd framing and retried', async () => {
    const client = await setup({ faults: [{ kind: 'truncate', afterBytes: 128 }] });
    const r = await client.getRange(PARAMS, dest());
    assert.equal(fake!.requests[0]!.status, 200);
    assert.equal(fake!.requests[0]!.bytesSent, 128);
    assert.equal(r.attempts, 2);
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
  });

  it('a stalled body times out (idle timeout) and is retried', async () => {
    const client = await setup({ faults: [{ kind: 'stall', afterBytes: 64, ms: 3000 }] }, { timeoutMs: 150 });
    const retries: string[] = [];
    const c = new HistoricalClient({
      key: KEY,
      env: {},
      baseUrl: fake!.url,
      sleep: fastSleep,
      timeoutMs: 150,
      onRetry: (e) => retries.push(e.reason),
    });
    void client;
    await c.getRange(PARAMS, dest());
    assert.match(retries[0]!, /no data from the server for 0\.15 s/);
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
  });

  it('slow headers time out; with maxAttempts 1 the timeout error is thrown as is', async () => {
    const client = await setup({ faults: [{ kind: 'delay', ms: 3000 }] }, { timeoutMs: 150, maxAttempts: 1 });
    await assert.rejects(
      client.getCost(PARAMS),
      (e: Error) => e instanceof DatabentoTransportError && e.kind === 'timeout' && /metadata\.get_cost/.test(e.message),
    );
  });

  it('gives up after maxAttempts drops, leaving neither the file nor a .part', async () => {
    const client = await setup({ faults: [{ kind: 'drop', afterBytes: 50, times: 10 }] }, { maxAttempts: 3 });
    await assert.rejects(
      client.getRange(PARAMS, dest()),
      (e: Error) =>
        e instanceof DatabentoRetriesExhaustedError &&
        e.attempts === 3 &&
        /connection dropped after 50 bytes|aborted|socket hang up|ECONNRESET/.test(e.message),
    );
    assert.equal(ranges(), 3);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a bad key gives a clear 401 error, without retrying and without the key', async () => {
    const client = await setup();
    const bad = new HistoricalClient({ key: 'db-WRONGKEYxxxxxxxxxxxxxxxxxxxxxx', env: {}, baseUrl: fake!.url, sleep: fastSleep });
    void client;
    await assert.rejects(bad.getRange(PARAMS, dest()), (e: Error) => {
      assert.ok(e instanceof DatabentoApiError);
      assert.equal(e.status, 401);
      assert.equal(
        e.message,
        'Databento timeseries.get_range: HTTP 401 (authentication failed: check the API key (env DATABENTO_API_KEY)): Authentication failed. (request-id fake-1)',
      );
      assert.ok(!e.message.includes('WRONGKEY'));
      return true;
    });
    assert.equal(fake!.requests.length, 1);
    assert.equal(fake!.requests[0]!.authOk, false);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('422: the message, case and docs come from the nested JSON error shape', async () => {
    const client = await setup();
    await assert.rejects(client.getCost({ ...PARAMS, start: '2000-01-01' }), (e: Error) => {
      assert.ok(e instanceof DatabentoApiError);
      assert.equal(e.status, 422);
      assert.equal(e.case, 'data_start_before_available_start');
      assert.equal(e.detail, 'The dataset GLBX.MDP3 has data available from 2010-06-06. Try a later `start`.');
      assert.match(
        e.message,
        /HTTP 422 \(request refused\): The dataset GLBX\.MDP3 has data available from 2010-06-06\. Try a later `start`\. \[data_start_before_available_start\] \(see https:/,
      );
      return true;
    });
    assert.equal(fake!.requests.length, 1, '4xx is not retried');
  });

  it('400/402/403/404/409: flat {"detail"} and raw bodies both give the message; a body echoing the key is redacted', async () => {
    const client = await setup({
      faults: [
        { kind: 'status', status: 400, body: { detail: 'Invalid value for `stype_in`.' } },
        { kind: 'status', status: 402, body: { detail: 'Insufficient credits.' } },
        { kind: 'status', status: 403, body: '<html>Forbidden\n by   proxy</html>' },
        { kind: 'status', status: 404, body: { detail: { case: 'symbol_not_found', message: 'Unknown symbol ZZZ' } } },
        { kind: 'status', status: 409, body: { detail: `key ${KEY} is busy` } },
      ],
    });
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) {
      await client.getRecordCount(PARAMS).then(
        () => assert.fail('expected an error'),
        (e: DatabentoApiError) => messages.push(`${e.status} ${e.detail}`),
      );
    }
    assert.deepEqual(messages, [
      '400 Invalid value for `stype_in`.',
      '402 Insufficient credits.',
      '403 <html>Forbidden by proxy</html>',
      '404 Unknown symbol ZZZ',
      '409 key <redacted> is busy',
    ]);
  });

  it('a 200 whose body is not zstd (a JSON error, a proxy page) is refused, not retried, and shows the body start', async () => {
    const client = await setup({
      faults: [{ endpoint: 'timeseries.get_range', kind: 'status', status: 200, body: { detail: 'maintenance window' } }],
    });
    await assert.rejects(client.getRange(PARAMS, dest()), (e: Error) => {
      assert.ok(e instanceof DatabentoTransportError && e.kind === 'corrupt', String(e));
      assert.equal(
        e.message,
        'Databento timeseries.get_range: response body (HTTP 200, application/json) is not a zstd DBN stream: zstd stream: at byte 0 expected a zstd frame magic (28 b5 2f fd), got 7b 22 64 65; body starts: {"detail":"maintenance window"}',
      );
      return true;
    });
    assert.equal(ranges(), 1);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('surfaces X-Warning warnings and accepts 206 (partial symbols)', async () => {
    const warned: string[] = [];
    const client = await setup(
      { warnings: ['Reduced quality data on 2020-12-28'], faults: [{ kind: 'partial', warning: 'ESH1 partially resolved' }] },
      { onWarning: (w, ep) => warned.push(`${ep}: ${w}`) },
    );
    const r = await client.getRange(PARAMS, dest());
    assert.equal(r.status, 206);
    assert.equal(r.partial, true);
    assert.deepEqual(r.warnings, ['Reduced quality data on 2020-12-28', 'ESH1 partially resolved']);
    assert.deepEqual(warned, ['timeseries.get_range: Reduced quality data on 2020-12-28', 'timeseries.get_range: ESH1 partially resolved']);
    assert.deepEqual(readFileSync(dest()), fixtureBytes);
  });

  it('an abort mid-body rejects with AbortError and removes the .part', async () => {
    const client = await setup({ faults: [{ kind: 'stall', afterBytes: 64, ms: 3000 }] });
    const ac = new AbortController();
    const p = client.getRange(PARAMS, dest(), { signal: ac.signal, onProgress: (pr) => pr.bytes >= 64 && ac.abort() });
    await assert.rejects(p, (e: Error) => e instanceof DatabentoAbortError);
    assert.equal(ranges(), 1);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a full disk (ENOSPC via /dev/full) fails at once, names the file, is not retried and leaves no .part', async function () {
    if (!existsSync('/dev/full')) this.skip();
    const client = await setup({ chunkSize: 64 * 1024 });
    // writes to /dev/full fail with ENOSPC: the 175 body bytes reach the final flush and hit it
    symlinkSync('/dev/full', `${dest()}.part`);
    await assert.rejects(client.getRange(PARAMS, dest()), (e: Error) => {
      assert.ok(e instanceof DownloadWriteError, String(e));
      assert.equal(e.code, 'ENOSPC');
      assert.match(e.message, new RegExp(`cannot write the download to ${dest().replace(/[.]/g, '\\.')}\\.part: ENOSPC`));
      return true;
    });
    assert.equal(ranges(), 1);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('an unwritable destination fails before the request is sent (nothing requested, nothing paid)', async () => {
    const client = await setup();
    const target = join(dir, 'missing-dir', 'out.dbn.zst');
    await assert.rejects(
      client.getRange(PARAMS, target),
      (e: Error) =>
        e instanceof DownloadWriteError &&
        e.code === 'ENOENT' &&
        e.message.startsWith(`cannot write the download to ${target}.part: ENOENT`),
    );
    assert.equal(fake!.requests.length, 0);
  });

  it('refuses bad parameters before any request, naming the field', async () => {
    const client = await setup();
    await assert.rejects(client.getCost({ ...PARAMS, dataset: 'glbx' }), /dataset: expected a Databento dataset code/);
    await assert.rejects(client.getCost({ ...PARAMS, symbols: [] }), /symbols: expected at least one symbol/);
    await assert.rejects(client.getCost({ ...PARAMS, end: '2020-12-27' }), /end: must be after start/);
    await assert.rejects(client.getCost({ ...PARAMS, start: '28/12/2020' }), /start: expected YYYY-MM-DD/);
    await assert.rejects(client.getCost({ ...PARAMS, stypeIn: 'ticker' }), /stype_in: expected one of/);
    assert.equal(fake!.requests.length, 0);
  });

  it('base URL: env DATABENTO_BASE_URL, /v0 appended once, credentials refused; the key never shows in inspect/JSON', async () => {
    assert.equal(new HistoricalClient({ key: KEY, env: {} }).baseUrl, 'https://hist.databento.com/v0');
    assert.equal(new HistoricalClient({ key: KEY, env: { DATABENTO_BASE_URL: 'http://127.0.0.1:9/' } }).baseUrl, 'http://127.0.0.1:9/v0');
    assert.equal(
      new HistoricalClient({ key: KEY, baseUrl: 'http://h/x/v0/', env: { DATABENTO_BASE_URL: 'http://other' } }).baseUrl,
      'http://h/x/v0',
    );
    assert.throws(() => new HistoricalClient({ key: KEY, env: {}, baseUrl: 'http://u:p@h' }), /must not contain credentials/);
    assert.throws(() => new HistoricalClient({ key: '', env: {} }), /expected a non-empty key/);
    const c = new HistoricalClient({ key: KEY, env: {} });
    assert.ok(!inspect(c, { showHidden: true, depth: 5 }).includes(KEY));
    assert.ok(!JSON.stringify(c).includes(KEY));
  });

  it('goes through HTTP_PROXY when the env names one (and around it for NO_PROXY hosts)', async () => {
    await setup();
    const seen: string[] = [];
    // a minimal forward proxy: absolute-form requests are replayed to their target
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const up = http.request(req.url!, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const via = new HistoricalClient({ key: KEY, baseUrl: fake!.url, env: { HTTP_PROXY: proxyUrl } });
      await via.getRange(PARAMS, dest());
      assert.deepEqual(readFileSync(dest()), fixtureBytes);
      assert.deepEqual(seen, [`POST ${fake!.url}/v0/timeseries.get_range`]);
      const around = new HistoricalClient({ key: KEY, baseUrl: fake!.url, env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } });
      assert.equal(await around.getRecordCount(PARAMS), TRADES_RECORDS);
      assert.equal(seen.length, 1);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('a refused connection is a retryable transport error', async () => {
    await setup();
    const url = fake!.url;
    await fake!.close();
    fake = null;
    const c = new HistoricalClient({ key: KEY, env: {}, baseUrl: url, sleep: fastSleep, maxAttempts: 2 });
    await assert.rejects(
      c.getCost(PARAMS),
      (e: Error) => e instanceof DatabentoRetriesExhaustedError && /ECONNREFUSED/.test(e.message) && !e.message.includes(KEY),
    );
    assert.equal(sleeps.length, 1);
  });
});
