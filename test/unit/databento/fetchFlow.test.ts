import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  downloadAndImport,
  FetchFailedError,
  HistoricalClient,
  quoteFetch,
  type FetchRequest,
} from '../../../src/engine/databento/index.ts';
import { startFakeDatabento, type FakeDatabento } from '../../support/fakeDatabento.ts';

// The flow as a job would use it (no CLI): quote → (own confirmation) → downloadAndImport.
const KEY = 'db-FLOWflowFLOWflowFLOWflowFLOWfl';
const REQ: FetchRequest = { dataset: 'GLBX.MDP3', symbols: ['ESH1'], schemas: ['trades', 'tbbo'], start: '2020-12-28', end: '2020-12-29' };

describe('databento fetchFlow (programmatic)', () => {
  let fake: FakeDatabento;
  let dataDir: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'btnb-flow-'));
  });
  afterEach(async () => {
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('quotes every schema with totals, downloads in order, imports one dataset and removes the temp dir', async () => {
    fake = await startFakeDatabento({
      key: KEY,
      files: { trades: 'test/fixtures/dbn/test_data.trades.v3.dbn.zst', tbbo: 'test/fixtures/dbn/test_data.tbbo.v3.dbn.zst' },
      usdPerGb: 1e7,
    });
    const client = new HistoricalClient({ key: KEY, baseUrl: fake.url, env: {} });
    const quote = await quoteFetch(client, REQ);
    assert.deepEqual(
      quote.schemas.map((q) => [q.schema, q.records, q.billableBytes]),
      [
        ['trades', 2, 96],
        ['tbbo', 2, 160],
      ],
    );
    assert.equal(quote.totalRecords, 4);
    assert.equal(quote.totalBillableBytes, 256);
    assert.ok(Math.abs(quote.totalUsd - 2.56) < 1e-12);
    const events: string[] = [];
    const out = await downloadAndImport(client, quote, {
      dataDir,
      onDownloadStart: (q) => events.push(`start ${q.schema}`),
      onDownloaded: (f) => events.push(`done ${f.schema} v${f.dbnVersion} ${f.bytes}`),
    });
    assert.deepEqual(events, ['start trades', 'done trades v3 175', 'start tbbo', 'done tbbo v3 200']);
    assert.equal(out.datasets.length, 1);
    assert.equal(out.datasets[0]!.symbol, 'ESH1');
    assert.deepEqual(readdirSync(join(dataDir, 'tmp')), []);
  });

  it('a failure after a paid download is a FetchFailedError carrying the kept directory and files', async () => {
    fake = await startFakeDatabento({
      key: KEY,
      files: { trades: 'test/fixtures/dbn/test_data.trades.v3.dbn.zst', tbbo: 'test/fixtures/dbn/test_data.tbbo.v3.dbn.zst' },
      faults: [{ endpoint: 'timeseries.get_range', schema: 'tbbo', kind: 'status', status: 403, body: { detail: 'No tbbo license' } }],
    });
    const client = new HistoricalClient({ key: KEY, baseUrl: fake.url, env: {} });
    const quote = await quoteFetch(client, REQ);
    await assert.rejects(downloadAndImport(client, quote, { dataDir }), (e: Error) => {
      assert.ok(e instanceof FetchFailedError);
      assert.equal(e.stage, 'download');
      assert.match(e.message, /HTTP 403 \(the API key lacks permission for this dataset or schema\): No tbbo license/);
      assert.deepEqual(
        e.completed.map((f) => f.schema),
        ['trades'],
      );
      assert.ok(e.keptDir && existsSync(join(e.keptDir, 'GLBX.MDP3.trades.ESH1.2020-12-28.2020-12-29.dbn.zst')));
      return true;
    });
  });
});
