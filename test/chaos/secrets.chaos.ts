/**
 * Promise 7 (docs/reliability.md): the Databento key stays secret. A full `btnb data fetch
 * --derive` (real process, key in the environment, against the local fake Databento server),
 * then a backtest and a 2-worker sweep in the same data dir: the key (and its Basic-auth form)
 * appears in no file the commands wrote (catalog and WAL, raw cache, bars, manifests, run
 * artifacts), in no output or log line, and on no process's command line while they ran.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeDatabento } from '../support/fakeDatabento.ts';
import { type Exit, start } from './support/processes.ts';
import { Probe } from './support/report.ts';
import { buildWorld, caseDir, disposeWorld, type World } from './support/scenarios.ts';

const KEY = 'db-SECRETchaosKEY0123456789abcdefXYZ';
const NEEDLES = [KEY, Buffer.from(`${KEY}:`).toString('base64'), KEY.slice(3)];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('chaos: secrets, promise 7', function () {
  this.timeout(0);
  let world: World | undefined;
  before(async () => {
    world = await buildWorld();
  });
  after(() => disposeWorld(world));

  it('fetch + import + derive + backtest + sweep: the key is in no file, output or command line', async () => {
    const probe = new Probe('secrets (Databento key)');
    const fake = await startFakeDatabento({
      key: KEY,
      files: { trades: 'test/fixtures/dbn/test_data.trades.v3.dbn.zst', tbbo: 'test/fixtures/dbn/test_data.tbbo.v3.dbn.zst' },
    });
    const dir = caseDir(
      world!,
      world!.scenarios.find((s) => s.name === 'backtest')!,
      'secrets',
    );
    const env = { DATABENTO_API_KEY: KEY, DATABENTO_BASE_URL: fake.url };
    const cmdlines: string[] = [];
    const scan = setInterval(() => {
      for (const d of readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        try {
          const c = readFileSync(`/proc/${d}/cmdline`, 'utf8');
          if (NEEDLES.some((n) => c.includes(n))) cmdlines.push(c.replace(/\0/g, ' '));
        } catch {
          /* gone */
        }
      }
    }, 10);
    const outputs: Exit[] = [];
    try {
      const steps = [
        [
          'data',
          'fetch',
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
          '--derive',
          '--data-dir',
          dir,
        ],
        [
          'backtest',
          '--dataset',
          world!.datasetId,
          '--strategy',
          'sma-cross',
          '--param',
          'fast=4',
          '--param',
          'slow=12',
          '--data-dir',
          dir,
        ],
        [
          'sweep',
          '--dataset',
          world!.datasetId,
          '--strategy',
          'sma-cross',
          '--grid',
          'fast=3,6',
          '--grid',
          'slow=15',
          '--workers',
          '2',
          '--data-dir',
          dir,
        ],
        ['runs', 'list', '--data-dir', dir, '--json'],
      ];
      for (const args of steps) {
        const e = await start(args, env).exit;
        outputs.push(e);
        probe.cases++;
        if (e.code !== 0) probe.fail(`btnb ${args.slice(0, 2).join(' ')} failed: ${e.stderr.slice(0, 300)}`);
      }
      // a failing fetch (bad key answer) must not echo the key either
      fake.addFault({ kind: 'status', status: 401, body: { detail: 'Authentication failed.' }, times: 10 });
      const bad = await start(
        [
          'data',
          'fetch',
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
          '--data-dir',
          dir,
        ],
        env,
      ).exit;
      outputs.push(bad);
      probe.cases++;
    } finally {
      clearInterval(scan);
      await fake.close();
    }
    for (const c of new Set(cmdlines)) probe.fail(`key on a command line: ${c.slice(0, 120)}`);
    for (const [i, o] of outputs.entries())
      if (NEEDLES.some((n) => o.stdout.includes(n) || o.stderr.includes(n))) probe.fail(`step ${i}: key in the output`);
    const files = filesUnder(dir);
    for (const f of files) {
      probe.cases++;
      const bytes = readFileSync(f);
      if (NEEDLES.some((n) => bytes.includes(n))) probe.fail(`key in ${f.slice(dir.length + 1)}`);
    }
    if (!fake.requests.some((r) => r.authOk)) probe.fail('the fake server never saw the key (the probe proves nothing)');
    probe.notes.push(
      `${files.length} files written, ${outputs.length} commands' output and every process's command line (sampled every 10 ms) searched`,
    );
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });
});
