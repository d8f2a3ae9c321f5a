import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runDataFetch } from '../../../src/engine/cli/dataFetch.ts';
import { startFakeDatabento, type FakeDatabento, type FakeDatabentoOptions } from '../../support/fakeDatabento.ts';

const KEY = 'db-CLIKEYzyxwvutsrqponmlkjihgfedcb';
const TRADES = 'test/fixtures/dbn/test_data.trades.v3.dbn.zst';
const TBBO = 'test/fixtures/dbn/test_data.tbbo.v3.dbn.zst';
const ARGS = ['--dataset', 'GLBX.MDP3', '--symbols', 'ESH1', '--schema', 'trades,tbbo', '--start', '2020-12-28', '--end', '2020-12-29'];

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

class Capture {
  text = '';
  isTTY: boolean;
  constructor(tty = false) {
    this.isTTY = tty;
  }
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('btnb data fetch (runDataFetch against the fake server)', function () {
  let fake: FakeDatabento | null = null;
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'btnb-fetch-'));
  });
  afterEach(async () => {
    await fake?.close();
    fake = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function run(
    argv: string[],
    o: {
      fake?: Partial<FakeDatabentoOptions>;
      key?: string | null;
      stdinTTY?: boolean;
      answer?: string;
      stderrTTY?: boolean;
      signal?: AbortSignal;
    } = {},
  ): Promise<{ code: number; stdout: string; stderr: string; ranges: number }> {
    fake ??= await startFakeDatabento({ key: KEY, files: { trades: TRADES, tbbo: TBBO }, ...o.fake });
    const stdout = new Capture();
    const stderr = new Capture(o.stderrTTY);
    const stdin = Object.assign(new PassThrough(), { isTTY: o.stdinTTY ?? false });
    if (o.answer !== undefined) stdin.end(o.answer);
    const env: Record<string, string | undefined> = { DATABENTO_BASE_URL: fake.url, BTNB_DATA_DIR: dataDir };
    if (o.key !== null) env.DATABENTO_API_KEY = o.key ?? KEY;
    const code = await runDataFetch(argv, {
      stdout,
      stderr,
      stdin,
      env,
      client: { sleep: async () => {}, timeoutMs: 5000 },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const ranges = fake.requests.filter((r) => r.endpoint === 'timeseries.get_range').length;
    return { code, stdout: stdout.text, stderr: stderr.text, ranges };
  }

  it('shows cost and record counts before any download, then refuses without a terminal and without --yes (exit 2)', async () => {
    const r = await run(ARGS);
    assert.equal(r.code, 2);
    assert.equal(r.ranges, 0);
    assert.match(r.stderr, /no terminal to confirm the download \(<\$0\.01\): pass --yes/);
    // trades: 2 records × 48 B; tbbo: 2 × 80 B (DBN brief §11 A/B)
    assert.match(r.stdout, /trades\s+2\s+96 B\s+<\$0\.01/);
    assert.match(r.stdout, /tbbo\s+2\s+160 B\s+<\$0\.01/);
    assert.match(r.stdout, /total\s+4\s+256 B\s+<\$0\.01/);
    assert.deepEqual(
      fake!.requests.map((q) => `${q.endpoint} ${q.form.schema}`),
      [
        'metadata.get_cost trades',
        'metadata.get_record_count trades',
        'metadata.get_billable_size trades',
        'metadata.get_cost tbbo',
        'metadata.get_record_count tbbo',
        'metadata.get_billable_size tbbo',
      ],
    );
    assert.deepEqual(filesUnder(dataDir), []);
  });

  it('on a terminal, answering N downloads nothing (exit 1); answering y downloads', async () => {
    const no = await run(ARGS, { stdinTTY: true, answer: 'n\n' });
    assert.equal(no.code, 1);
    assert.equal(no.ranges, 0);
    assert.match(no.stderr, /Download 4 records \(256 B billable\) for <\$0\.01\? \[y\/N\] Canceled: nothing downloaded\./);
    const empty = await run(ARGS, { stdinTTY: true, answer: '' });
    assert.equal(empty.code, 1, 'EOF is a no');
    assert.equal(empty.ranges, 0);
    const yes = await run(ARGS, { stdinTTY: true, answer: 'y\n' });
    assert.equal(yes.ranges, 2);
    assert.equal(yes.code, 0, yes.stderr);
  });

  it('--yes --json: downloads each schema (exact bytes), reports cost and downloads; no key anywhere, no temp files left', async () => {
    const faults = [
      { endpoint: 'metadata.get_cost' as const, kind: 'status' as const, status: 500 },
      { endpoint: 'timeseries.get_range' as const, kind: 'drop' as const, afterBytes: 100 },
    ];
    const r = await run([...ARGS, '--yes', '--json'], { fake: { faults } });
    assert.equal(r.ranges, 3, 'trades dropped once and retried, then tbbo');
    assert.deepEqual(
      fake!.requests.filter((q) => q.endpoint === 'timeseries.get_range').map((q) => `${q.form.schema} ${q.fault}`),
      ['trades drop', 'trades null', 'tbbo null'],
    );
    assert.deepEqual(
      fake!.requests.slice(0, 2).map((q) => q.status),
      [500, 200],
    );
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(KEY), 'key printed');
      assert.ok(!text.includes(Buffer.from(`${KEY}:`).toString('base64')), 'auth header printed');
    }
    for (const f of filesUnder(dataDir)) {
      const bytes = readFileSync(f);
      assert.ok(!bytes.includes(KEY) && !bytes.includes(Buffer.from(`${KEY}:`).toString('base64')), `key found in ${f}`);
      assert.ok(!f.endsWith('.part'), `left ${f}`);
    }
    assert.match(
      r.stderr,
      /(^|\n)metadata\.get_cost: attempt 1\/5 failed \(HTTP 500 \(server error\): Internal Server Error \(request-id fake-1\)\); retrying in 0\.\d s\n/,
    );
    assert.match(r.stderr, /timeseries\.get_range: attempt 1\/5 failed \(.*connection dropped|aborted/);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      datasets: { symbol: string; schemas: string[] }[];
      cost: { usd: number; schemas: { schema: string; usd: number; records: number; billable_bytes: number }[] };
      downloads: { schema: string; bytes: number; sha256: string; attempts: number; status: number }[];
    };
    assert.deepEqual(
      out.cost.schemas.map((s) => [s.schema, s.records, s.billable_bytes]),
      [
        ['trades', 2, 96],
        ['tbbo', 2, 160],
      ],
    );
    assert.equal(out.cost.usd, fake!.costOf('trades') + fake!.costOf('tbbo'));
    assert.deepEqual(
      out.downloads.map((d) => [d.schema, d.bytes, d.sha256]),
      [
        ['trades', statSync(TRADES).size, sha(TRADES)],
        ['tbbo', statSync(TBBO).size, sha(TBBO)],
      ],
    );
    assert.equal(out.datasets.length, 1);
    assert.equal(out.datasets[0]!.symbol, 'ESH1');
    assert.deepEqual([...out.datasets[0]!.schemas].sort(), ['tbbo', 'trades']);
    assert.deepEqual(readdirSync(join(dataDir, 'tmp')), [], 'temp download dir removed');
  });

  it('imports into the raw cache (bytes = the served bytes), prints like `data import`; a second fetch is a no-op', async () => {
    const r = await run([...ARGS, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const raw = filesUnder(join(dataDir, 'raw'))
      .map((f) => f.slice(dataDir.length + 1))
      .sort();
    assert.deepEqual(raw, [`raw/databento/GLBX.MDP3/tbbo/${sha(TBBO)}.dbn.zst`, `raw/databento/GLBX.MDP3/trades/${sha(TRADES)}.dbn.zst`]);
    assert.match(r.stdout, /(^|\n)ds_[0-9a-f]{16}  ESH1  (trades\+tbbo|tbbo\+trades)  2020-12-28T\S+ → \S+  2 sources\n$/);
    const again = await run([...ARGS, '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /ESH1 .* 2 sources \(already imported\)/);
    assert.equal(filesUnder(join(dataDir, 'raw')).length, 2);
  });

  it('--derive: builds the bars and prints their path', async function () {
    // deriveDataset writes Parquet through src/engine/parquet/barsParquet.ts (catalog/parquet engineer)
    if (!existsSync('src/engine/parquet/barsParquet.ts')) this.skip();
    const r = await run([...ARGS, '--yes', '--derive']);
    assert.equal(r.code, 0, r.stderr);
    // both trades are at 2020-12-28 13:00:00.09/.10 UTC (DBN brief §11 A): one bar
    const m = /\n  bars: (\S+) \(1 rows\)\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(m[1]!.startsWith(join(dataDir, 'derived', 'bars', 'ds_')) && m[1]!.endsWith('bars-1m.parquet'));
    assert.ok(statSync(m[1]!).size > 0);
  });

  it('non-TTY progress is plain lines; TTY progress redraws one line with \\r', async () => {
    const one = [
      '--dataset',
      'GLBX.MDP3',
      '--symbols',
      'ESH1',
      '--schema',
      'trades',
      '--start',
      '2020-12-28',
      '--end',
      '2020-12-29',
      '--yes',
    ];
    const plain = await run(one);
    assert.equal(plain.ranges, 1);
    assert.ok(!plain.stderr.includes('\r'));
    assert.match(plain.stderr, /trades: downloading 2 records\ntrades: 175 B in \d+\.\d s \(/);
    await fake!.close();
    fake = null;
    const tty = await run(one, { stderrTTY: true, fake: { contentLength: true } });
    assert.match(tty.stderr, /\rtrades: 175 B in \d+\.\d s \([^)]*\)\x1b\[K\n/);
  });

  it('X-Warning warnings are shown once each, and a 206 is reported as partial', async () => {
    const one = [
      '--dataset',
      'GLBX.MDP3',
      '--symbols',
      'ESH1',
      '--schema',
      'trades',
      '--start',
      '2020-12-28',
      '--end',
      '2020-12-29',
      '--yes',
    ];
    const r = await run(one, {
      fake: {
        warnings: ['Reduced quality data on 2020-12-28'],
        faults: [{ endpoint: 'timeseries.get_range', kind: 'partial', warning: 'ESH1 partly resolved' }],
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/Databento warning \(metadata\.get_cost\): Reduced quality data on 2020-12-28\n/g)?.length, 1);
    assert.equal(r.stderr.match(/Reduced quality/g)?.length, 1);
    assert.match(r.stderr, /Databento warning \(timeseries\.get_range\): ESH1 partly resolved\n/);
    assert.match(r.stderr, /trades: 175 B in \d+\.\d s \([^)]*\) \(HTTP 206: some symbols only partly resolved\)\n/);
  });

  it('--max-cost caps the quote even with --yes (exit 1, nothing downloaded); a quote within it downloads', async () => {
    // usdPerGb 1e7 makes the fixture cost real money: trades 96 B → $0.96, tbbo 160 B → $1.60
    const over = await run([...ARGS, '--yes', '--max-cost', '2.50'], { fake: { usdPerGb: 1e7 } });
    assert.equal(over.code, 1);
    assert.equal(over.ranges, 0);
    assert.match(over.stdout, /total\s+4\s+256 B\s+\$2\.56/);
    assert.match(over.stderr, /the quote \(\$2\.56, \$2\.56\) exceeds --max-cost \$2\.5: nothing downloaded/);
    const within = await run([...ARGS, '--yes', '--max-cost', '2.56']);
    assert.equal(within.code, 0, within.stderr);
    assert.equal(within.ranges, 2);
  });

  it('a bad key: clear 401 message, exit 1, key not printed', async () => {
    const wrong = 'db-WRONGwrongWRONGwrongWRONGwrong';
    const r = await run([...ARGS, '--yes'], { key: wrong });
    assert.equal(r.code, 1);
    assert.equal(r.ranges, 0);
    assert.match(r.stderr, /HTTP 401 \(authentication failed: check the API key \(env DATABENTO_API_KEY\)\): Authentication failed\./);
    assert.ok(!r.stderr.includes(wrong) && !r.stdout.includes(wrong));
  });

  it("a refused request (422, nested shape) shows Databento's message, exit 1", async () => {
    const r = await run([
      '--dataset',
      'GLBX.MDP3',
      '--symbols',
      'ESH1',
      '--schema',
      'trades',
      '--start',
      '2000-01-03',
      '--end',
      '2000-01-04',
      '--yes',
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /btnb data fetch: Databento metadata\.get_cost: HTTP 422 \(request refused\): The dataset GLBX\.MDP3 has data available from 2010-06-06\. Try a later `start`\. \[data_start_before_available_start\]/,
    );
  });

  it('no DATABENTO_API_KEY: exit 1 before any request', async () => {
    const r = await run([...ARGS, '--yes'], { key: null });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /env DATABENTO_API_KEY is not set/);
    assert.equal(fake!.requests.length, 0);
  });

  it('usage errors exit 2 naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--symbols', 'ESH1', '--schema', 'trades', '--start', '2020-12-28', '--end', '2020-12-29'], /--dataset is required/],
      [[...ARGS.slice(0, 4), '--schema', 'mbo', ...ARGS.slice(6)], /--schema: 'mbo' is not supported; expected trades and\/or tbbo/],
      [[...ARGS.slice(0, 6), '--start', '28/12/2020', '--end', '2020-12-29'], /--start: expected YYYY-MM-DD/],
      [[...ARGS.slice(0, 6), '--start', '2020-12-29', '--end', '2020-12-28'], /--end: must be after start/],
      [[...ARGS, '--api-key', 'x'], /unknown option --api-key/],
      [[...ARGS, '--base-url', 'http://user:pw@127.0.0.1:1'], /must not contain credentials/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, re);
    }
    assert.equal(fake!.requests.length, 0);
  });

  it('a download that fails for good exits 1 and leaves nothing half-written', async () => {
    const r = await run([...ARGS, '--yes', '--max-attempts', '2'], {
      fake: { faults: [{ endpoint: 'timeseries.get_range', kind: 'drop', afterBytes: 40, times: 2 }] },
    });
    assert.equal(r.code, 1);
    assert.equal(r.ranges, 2);
    assert.match(r.stderr, /timeseries\.get_range: gave up after 2 attempts/);
    assert.deepEqual(filesUnder(dataDir), []);
  });

  it('tbbo failing for good after trades arrived: exit 1, the paid-for trades file is kept and named', async () => {
    const r = await run([...ARGS, '--yes', '--max-attempts', '2'], {
      fake: { faults: [{ endpoint: 'timeseries.get_range', schema: 'tbbo', kind: 'status', status: 503, times: 2 }] },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /btnb data fetch: Databento timeseries\.get_range: gave up after 2 attempts; last error: HTTP 503 \(server error\): Service Unavailable \(request-id fake-\d+\)\n/,
    );
    const m = /Completed downloads are kept in (\S+): trades\n/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.deepEqual(readdirSync(m[1]!), ['GLBX.MDP3.trades.ESH1.2020-12-28.2020-12-29.dbn.zst']);
    assert.deepEqual(readFileSync(join(m[1]!, 'GLBX.MDP3.trades.ESH1.2020-12-28.2020-12-29.dbn.zst')), readFileSync(TRADES));
  });

  it('a body of the wrong schema (tbbo served for trades) is refused by its DBN metadata, naming the file', async () => {
    const one = [
      '--dataset',
      'GLBX.MDP3',
      '--symbols',
      'ESH1',
      '--schema',
      'trades',
      '--start',
      '2020-12-28',
      '--end',
      '2020-12-29',
      '--yes',
    ];
    const r = await run(one, { fake: { files: { trades: TBBO } } });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /btnb data fetch: \S+GLBX\.MDP3\.trades\.ESH1\.2020-12-28\.2020-12-29\.dbn\.zst: Databento sent dataset GLBX\.MDP3 schema tbbo \(DBN metadata\), but GLBX\.MDP3 trades was requested\n/,
    );
    assert.deepEqual(filesUnder(dataDir), []);
  });

  it('an import failure keeps the downloads and says how to import them (here: <data>/raw is a file)', async () => {
    writeFileSync(join(dataDir, 'raw'), 'not a directory');
    const r = await run([...ARGS, '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /btnb data fetch: import failed: .*(ENOTDIR|EEXIST|not a directory)/i);
    const m = /The downloaded files are kept in (\S+); import them with `btnb data import (\S+) (\S+)`\n/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.deepEqual(readFileSync(m[2]!), readFileSync(TRADES));
    assert.deepEqual(readFileSync(m[3]!), readFileSync(TBBO));
  });

  it('cancel (the caller\'s signal) mid-download: exit 1, "canceled", nothing left in the data dir', async () => {
    const ac = new AbortController();
    fake = await startFakeDatabento({
      key: KEY,
      files: { trades: TRADES, tbbo: TBBO },
      faults: [{ endpoint: 'timeseries.get_range', kind: 'stall', afterBytes: 64, ms: 4000 }],
    });
    const poll = setInterval(() => {
      if (fake!.requests.some((q) => q.endpoint === 'timeseries.get_range' && q.bytesSent >= 64)) ac.abort();
    }, 5);
    const r = await run([...ARGS, '--yes'], { signal: ac.signal }).finally(() => clearInterval(poll));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /btnb data fetch: canceled\n$/);
    assert.deepEqual(filesUnder(dataDir), []);
  });

  it('Ctrl-C (SIGINT) on the real process mid-download: exit 1, no .part, no temp dir', async () => {
    fake = await startFakeDatabento({
      key: KEY,
      files: { trades: TRADES, tbbo: TBBO },
      faults: [{ endpoint: 'timeseries.get_range', kind: 'stall', afterBytes: 64, ms: 8000 }],
    });
    const child = spawn(process.execPath, ['src/engine/cli/main.ts', 'data', 'fetch', ...ARGS, '--yes'], {
      env: {
        ...process.env,
        DATABENTO_API_KEY: KEY,
        DATABENTO_BASE_URL: fake.url,
        BTNB_DATA_DIR: dataDir,
        NO_PROXY: '127.0.0.1',
        no_proxy: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const poll = setInterval(() => {
      if (fake!.requests.some((q) => q.endpoint === 'timeseries.get_range' && q.bytesSent >= 64)) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 5);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(poll);
    assert.equal(status, 1, stderr);
    assert.match(stderr, /btnb data fetch: canceled\n/);
    assert.deepEqual(filesUnder(dataDir), []);
  });

  it('exit codes from the real `btnb data fetch` process: 2 without --yes and no terminal, 1 for a bad key', async () => {
    fake = await startFakeDatabento({ key: KEY, files: { trades: TRADES, tbbo: TBBO } });
    // async spawn: the fake server lives in this process, so the event loop must keep running
    const exec = (key: string, extra: string[]): Promise<{ status: number | null; stderr: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['src/engine/cli/main.ts', 'data', 'fetch', ...ARGS, ...extra], {
          env: {
            ...process.env,
            DATABENTO_API_KEY: key,
            DATABENTO_BASE_URL: fake!.url,
            BTNB_DATA_DIR: dataDir,
            NO_PROXY: '127.0.0.1',
            no_proxy: '127.0.0.1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stderr }));
      });
    const noTty = await exec(KEY, []);
    assert.equal(noTty.status, 2, noTty.stderr);
    assert.match(noTty.stderr, /pass --yes/);
    const bad = await exec('db-BADBADBADBADBADBADBADBADBADBADB', ['--yes']);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /HTTP 401/);
    assert.ok(!bad.stderr.includes('BADBADBAD'));
  });
});
