// Large requests through Databento's batch API (databento/batch.ts) against the local fake server:
// submit → poll (a job that takes several polls) → list files (non-DBN files skipped) →
// download with resume (HTTP Range from the .part), verified by size and SHA-256. An interrupted
// fetch run again reuses its job and its partial file; a corrupted body is discarded and
// fetched again; the key never goes to another origin.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runDataFetch } from '../../../src/engine/cli/dataFetch.ts';
import { HistoricalClient } from '../../../src/engine/databento/historicalClient.ts';
import { startFakeDatabento, type FakeDatabento, type FakeFault } from '../../support/fakeDatabento.ts';

const KEY = 'db-BATCHKEYzyxwvutsrqponmlkjihgfedc';
const TRADES = 'test/fixtures/dbn/test_data.trades.v3.dbn.zst';
const TBBO = 'test/fixtures/dbn/test_data.tbbo.v3.dbn.zst';
const ARGS = [
  '--dataset',
  'GLBX.MDP3',
  '--symbols',
  'ESH1',
  '--schema',
  'trades,tbbo',
  '--start',
  '2020-12-28',
  '--end',
  '2020-12-29',
  '--yes',
  '--json',
];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

class Capture {
  text = '';
  isTTY = false;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
}

describe('Databento batch API: large requests, resumable downloads', function () {
  this.timeout(30_000);
  let fake: FakeDatabento | null = null;
  let dataDir = '';
  const sleeps: number[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'btnb-batch-'));
    sleeps.length = 0;
  });
  afterEach(async () => {
    await fake?.close();
    fake = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function fetch(extra: string[] = [], o: { faults?: FakeFault[]; maxAttempts?: number } = {}) {
    fake ??= await startFakeDatabento({
      key: KEY,
      files: { trades: TRADES, tbbo: TBBO },
      batchPolls: 3,
      ...(o.faults ? { faults: o.faults } : {}),
    });
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runDataFetch([...ARGS, '--batch-above', '0', ...extra], {
      stdout,
      stderr,
      stdin: Object.assign(new PassThrough(), { isTTY: false }),
      env: { DATABENTO_BASE_URL: fake.url, BTNB_DATA_DIR: dataDir, DATABENTO_API_KEY: KEY },
      client: {
        sleep: async (ms: number) => {
          sleeps.push(ms);
        },
        timeoutMs: 2000,
        ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
      },
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }
  const calls = () => fake!.requests.map((r) => `${r.endpoint}${r.range ? ` ${r.range}` : ''} ${r.status}`);

  it('submit → poll until done → download the DBN files (not the manifest) → import: the same sources as get_range', async () => {
    const r = await fetch();
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      downloads: { schema: string; sha256: string; bytes: number }[];
      datasets: { dataset_id: string }[];
    };
    assert.deepEqual(
      out.downloads.map((d) => [d.schema, d.sha256, d.bytes]),
      [
        ['trades', sha(readFileSync(TRADES)), readFileSync(TRADES).length],
        ['tbbo', sha(readFileSync(TBBO)), readFileSync(TBBO).length],
      ],
    );
    const seq = calls().filter((c) => !c.startsWith('metadata'));
    assert.deepEqual(seq.filter((c) => c.startsWith('batch.submit_job')).length, 2, 'one job per schema');
    assert.ok(seq.filter((c) => c.startsWith('batch.list_jobs')).length >= 3, 'polled until done');
    assert.deepEqual(
      seq.filter((c) => c.startsWith('batch.download')),
      ['batch.download 200', 'batch.download 200'],
      'manifest.json is not downloaded',
    );
    assert.match(r.stderr, /trades: batch job received\ntrades: batch job queued \(poll 2\)\n/);
    assert.equal(out.datasets.length, 1);
    // nothing left behind: the batch dirs go once the import succeeded
    assert.deepEqual(filesUnder(join(dataDir, 'tmp')), []);
  });

  it('a connection dropped mid-file resumes with Range from the bytes already on disk (206), verified by SHA-256', async () => {
    const r = await fetch([], { faults: [{ endpoint: 'batch.download', kind: 'drop', afterBytes: 150 }] });
    assert.equal(r.code, 0, r.stderr);
    const downloads = calls().filter((c) => c.startsWith('batch.download'));
    assert.equal(downloads.length, 3, downloads.join('\n'));
    const m = /^batch\.download bytes=(\d+)- 206$/.exec(downloads[1]!);
    assert.ok(m && Number(m[1]) > 0 && Number(m[1]) <= 150, `resumed from the bytes on disk: ${downloads[1]}`);
    const out = JSON.parse(r.stdout) as { downloads: { sha256: string }[] };
    assert.equal(out.downloads[0]!.sha256, sha(readFileSync(TRADES)));
  });

  it('a corrupted body fails its SHA-256 check: the part is discarded and the file fetched again whole', async () => {
    const r = await fetch([], { faults: [{ endpoint: 'batch.download', kind: 'corrupt', atByte: 40 }] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      calls().filter((c) => c.startsWith('batch.download')),
      ['batch.download 200', 'batch.download 200', 'batch.download 200'],
    );
  });

  it('429 with Retry-After while polling is honoured; a 5xx burst on list_files is retried', async () => {
    const r = await fetch([], {
      faults: [
        { endpoint: 'batch.list_jobs', kind: 'status', status: 429, retryAfter: '7' },
        { endpoint: 'batch.list_files', kind: 'status', status: 503, times: 2 },
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(sleeps.includes(7000), `slept ${sleeps.join(', ')}`);
    assert.equal(calls().filter((c) => c.startsWith('batch.list_files 503')).length, 2);
  });

  it('a fetch interrupted mid-download, run again, reuses its job and resumes its partial file', async () => {
    // the body stalls after 100 bytes: the idle timeout ends the attempt with those bytes on disk
    const first = await fetch([], { faults: [{ endpoint: 'batch.download', kind: 'stall', afterBytes: 100, ms: 3000 }], maxAttempts: 1 });
    assert.equal(first.code, 1);
    const parts = filesUnder(join(dataDir, 'tmp')).filter((f) => f.endsWith('.part'));
    assert.equal(parts.length, 1);
    const have = statSync(parts[0]!).size;
    assert.equal(have, 100);
    const submits = calls().filter((c) => c.startsWith('batch.submit_job')).length;
    const again = await fetch();
    assert.equal(again.code, 0, again.stderr);
    assert.equal(calls().filter((c) => c.startsWith('batch.submit_job')).length, submits + 1, 'trades reused its job; only tbbo submitted');
    assert.ok(calls().includes(`batch.download bytes=${have}- 206`), calls().join('\n'));
    assert.deepEqual(filesUnder(join(dataDir, 'tmp')), []);
  });

  it('never sends the key to another origin than the API', async () => {
    fake = await startFakeDatabento({ key: KEY, files: { trades: TRADES } });
    const client = new HistoricalClient({ key: KEY, baseUrl: fake.url, sleep: async () => {} });
    await assert.rejects(
      client.batch.download(
        { filename: 'x.dbn.zst', size: 10, sha256: 'a'.repeat(64), url: 'http://127.0.0.2:9/x.dbn.zst' },
        join(dataDir, 'x.dbn.zst'),
      ),
      /refusing to send the API key to http:\/\/127\.0\.0\.2:9/,
    );
  });
});
