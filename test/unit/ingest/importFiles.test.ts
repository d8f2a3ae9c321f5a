import { strict as assert } from 'node:assert';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { importFiles } from '../../../src/engine/ingest/importFiles.ts';
import { synthesize } from '../../../src/engine/ingest/synth.ts';
import { withTempDir } from '../../../src/engine/io/files.ts';
import { dbnBytes, MIN, S, T0, type TradeSpec } from '../bars/dbnBuild.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** dataset_id computed independently from the contract text (§2). */
function expectedId(symbol: string, shas: string[]): string {
  const json = `{"derive_version":1,"sources":[${[...shas]
    .sort()
    .map((s) => `"${s}"`)
    .join(',')}],"symbol":"${symbol}"}`;
  return `ds_${sha(Buffer.from(json)).slice(0, 16)}`;
}
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
function datasets(dataDir: string) {
  if (!existsSync(join(dataDir, 'catalog.sqlite'))) return [];
  const c = openCatalog(join(dataDir, 'catalog.sqlite'));
  try {
    return c.listDatasets();
  } finally {
    c.close();
  }
}
const trades = (n: number, t0: bigint, id = 42): TradeSpec[] =>
  Array.from({ length: n }, (_, i) => ({ ts: t0 + BigInt(i) * S, px: 10 + i / 100, sz: 1 + i, side: 'B' as const, id }));

describe('importFiles (btnb data import)', function () {
  this.timeout(60_000);
  let synth: string[];
  let root: string;
  before(async () => {
    root = execFileSync('mktemp', ['-d', '/tmp/btnb-import-XXXXXX']).toString().trim();
    synth = (await synthesize({ symbol: 'DEMO', start: '2024-03-04', days: 2, seed: 7, outDir: join(root, 'synth'), tradesPerDay: 2000 }))
      .files;
  });
  after(() => execFileSync('rm', ['-rf', root]));

  it('copies trades + tbbo verbatim into the content-addressed raw cache as one dataset with the contract id', async () => {
    await withTempDir(async (dataDir) => {
      const res = await importFiles(synth, { dataDir });
      assert.equal(res.datasets.length, 1);
      const d = res.datasets[0]!;
      const shas = synth.map((f) => sha(readFileSync(f)));
      assert.equal(d.dataset_id, expectedId('DEMO', shas));
      assert.deepEqual(d.schemas, ['trades', 'tbbo']);
      assert.equal(d.symbol, 'DEMO');
      assert.equal(d.start, '2024-03-04T00:00:00Z');
      // 20:00 New York (EST) on 03-05 is 01:00 UTC on 03-06: the span ends at the next UTC midnight.
      assert.equal(d.end, '2024-03-07T00:00:00Z');
      assert.equal(d.created, true);
      for (const [i, schema] of ['trades', 'tbbo'].entries()) {
        const raw = join(dataDir, 'raw/databento/SYNTH', schema, `${shas[i]}.dbn.zst`);
        assert.ok(readFileSync(raw).equals(readFileSync(synth[i]!)), `${raw} holds the source bytes`);
        assert.equal(d.sources[i]!.file, `raw/databento/SYNTH/${schema}/${shas[i]}.dbn.zst`);
      }
      const rows = datasets(dataDir);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.status, 'imported');
      assert.deepEqual(rows[0]!.sources.map((s) => s.sha256).sort(), [...shas].sort());
      // No temp files left anywhere.
      assert.deepEqual(
        listFiles(join(dataDir, 'raw')).filter((f) => f.endsWith('.tmp')),
        [],
      );
    });
  });

  it('importing the same bytes again (or twice in one call) is a no-op returning the same dataset', async () => {
    await withTempDir(async (dataDir) => {
      const a = await importFiles(synth, { dataDir });
      const before = datasets(dataDir);
      const filesBefore = listFiles(dataDir).filter((f) => !f.includes('catalog.sqlite'));
      const b = await importFiles([...synth, synth[0]!], { dataDir });
      assert.equal(b.datasets[0]!.dataset_id, a.datasets[0]!.dataset_id);
      assert.equal(b.datasets[0]!.created, false);
      assert.equal(b.datasets[0]!.sources.length, 2);
      assert.deepEqual(datasets(dataDir), before, 'catalog rows unchanged (updated_at included)');
      assert.deepEqual(
        listFiles(dataDir).filter((f) => !f.includes('catalog.sqlite')),
        filesBefore,
      );
    });
  });

  it('a file with several symbols is stored once and gives one dataset per symbol; --symbol selects one; an unknown symbol is refused naming the file', async () => {
    await withTempDir(async (dir) => {
      const mappings = [
        { rawSymbol: 'AAA', intervals: [{ startDate: 20240304, endDate: 20240305, symbol: '11' }] },
        { rawSymbol: 'BBB', intervals: [{ startDate: 20240304, endDate: 20240305, symbol: '12' }] },
      ];
      const file = join(dir, 'multi.trades.dbn');
      writeFileSync(
        file,
        dbnBytes(
          { schema: 'trades', mappings },
          [...trades(3, T0, 11), ...trades(2, T0 + MIN, 12)].sort((a, b) => (a.ts < b.ts ? -1 : 1)),
        ),
      );
      const dataDir = join(dir, 'data');
      const res = await importFiles([file], { dataDir });
      assert.deepEqual(
        res.datasets.map((d) => d.symbol),
        ['AAA', 'BBB'],
      );
      const h = sha(readFileSync(file));
      assert.deepEqual(
        res.datasets.map((d) => d.dataset_id),
        [expectedId('AAA', [h]), expectedId('BBB', [h])],
      );
      assert.deepEqual(listFiles(join(dataDir, 'raw')), [join(dataDir, 'raw/databento/XNAS.ITCH/trades', `${h}.dbn`)]);
      const only = await importFiles([file], { dataDir, symbol: 'BBB' });
      assert.deepEqual(
        only.datasets.map((d) => [d.symbol, d.created]),
        [['BBB', false]],
      );
      await assert.rejects(
        importFiles([file], { dataDir: join(dir, 'other'), symbol: 'ZZZ' }),
        (e: Error) => e.message.includes(file) && e.message.includes("symbol 'ZZZ' is not in the file") && e.message.includes('AAA, BBB'),
      );
      assert.ok(!existsSync(join(dir, 'other')), 'nothing written for a refused import');
    });
  });

  it('refuses a symbol mapped to two instruments on one date (parent symbology would mix contracts)', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'parent.trades.dbn');
      writeFileSync(
        file,
        dbnBytes(
          {
            schema: 'trades',
            mappings: [
              {
                rawSymbol: 'ES.FUT',
                intervals: [
                  { startDate: 20240304, endDate: 20240306, symbol: '11' },
                  { startDate: 20240305, endDate: 20240306, symbol: '12' },
                ],
              },
            ],
          },
          trades(2, T0, 11),
        ),
      );
      await assert.rejects(
        importFiles([file], { dataDir: join(dir, 'data') }),
        (e: Error) => e.message.includes(file) && e.message.includes("'ES.FUT' to instruments 11 and 12 on 20240305"),
      );
      assert.ok(!existsSync(join(dir, 'data')));
    });
  });

  it('refuses other schemas with the supported list, and overlapping sources naming both, leaving catalog and cache unchanged', async () => {
    await withTempDir(async (dir) => {
      const dataDir = join(dir, 'data');
      await importFiles([synth[0]!], { dataDir });
      const before = datasets(dataDir);
      const filesBefore = listFiles(dataDir).filter((f) => !f.includes('catalog.sqlite'));
      const mbo = 'test/fixtures/dbn/test_data.mbo.v3.dbn.zst';
      await assert.rejects(
        importFiles([synth[1]!, mbo], { dataDir }),
        (e: Error) => e.message.includes(mbo) && /schema 'mbo'/.test(e.message) && e.message.includes('supported schemas: trades, tbbo'),
      );
      const ohlcv = 'test/fixtures/dbn/test_data.ohlcv-1m.v3.dbn.zst';
      await assert.rejects(importFiles([ohlcv], { dataDir }), /schema 'ohlcv-1m'.*supported schemas: trades, tbbo/);
      // Two different trades files of one symbol whose spans overlap.
      const a = join(dir, 'a.trades.dbn');
      const b = join(dir, 'b.trades.dbn');
      writeFileSync(a, dbnBytes({ schema: 'trades', start: T0, end: T0 + 10n * MIN }, trades(3, T0)));
      writeFileSync(b, dbnBytes({ schema: 'trades', start: T0 + 5n * MIN, end: T0 + 20n * MIN }, trades(3, T0 + 6n * MIN)));
      await assert.rejects(
        importFiles([a, b], { dataDir }),
        (e: Error) => e.message.includes(a) && e.message.includes(b) && /overlap/.test(e.message),
      );
      assert.deepEqual(datasets(dataDir), before);
      assert.deepEqual(
        listFiles(dataDir).filter((f) => !f.includes('catalog.sqlite')),
        filesBefore,
      );
      // Adjacent spans [start, end) do not overlap: one dataset with both.
      const c = join(dir, 'c.trades.dbn');
      writeFileSync(c, dbnBytes({ schema: 'trades', start: T0 + 10n * MIN, end: T0 + 20n * MIN }, trades(3, T0 + 11n * MIN)));
      const ok = await importFiles([a, c], { dataDir });
      assert.equal(ok.datasets[0]!.sources.length, 2);
      assert.deepEqual(ok.datasets[0]!.schemas, ['trades']);
    });
  });

  it('tbbo without trades is accepted (OHLCV will come from its trade fields)', async () => {
    await withTempDir(async (dataDir) => {
      const res = await importFiles([synth[1]!], { dataDir });
      assert.deepEqual(res.datasets[0]!.schemas, ['tbbo']);
    });
  });

  it('an unwritable data dir and a missing file give clear errors and write nothing', async () => {
    await withTempDir(async (dir) => {
      const blocker = join(dir, 'file');
      writeFileSync(blocker, 'not a directory');
      await assert.rejects(
        importFiles(synth, { dataDir: join(blocker, 'data') }),
        (e: Error) => e.message.includes(join(blocker, 'data')) && /ENOTDIR/.test(e.message),
      );
      await assert.rejects(importFiles([join(dir, 'missing.dbn')], { dataDir: join(dir, 'd') }), /missing\.dbn: cannot read \(ENOENT\)/);
      assert.ok(!existsSync(join(dir, 'd')));
    });
  });

  it('a full disk during the copy (real 256 KiB tmpfs) leaves no file under a final name and the catalog unchanged', async function () {
    const mnt = join(root, 'tiny');
    mkdirSync(mnt, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    try {
      const dataDir = join(mnt, 'data');
      const small = join(root, 'small.trades.dbn');
      writeFileSync(small, dbnBytes({ schema: 'trades' }, trades(5, T0)));
      await importFiles([small], { dataDir });
      const before = datasets(dataDir);
      const big = join(root, 'big.trades.dbn');
      writeFileSync(big, dbnBytes({ schema: 'trades', start: T0 + 3600n * S * 48n, end: null }, trades(20000, T0 + 3600n * S * 48n)));
      await assert.rejects(
        importFiles([big], { dataDir }),
        (e: NodeJS.ErrnoException) => /ENOSPC/.test(e.message) && e.message.includes(big),
      );
      assert.deepEqual(datasets(dataDir), before);
      const raw = listFiles(join(dataDir, 'raw'));
      assert.deepEqual(
        raw,
        [join(dataDir, 'raw/databento/XNAS.ITCH/trades', `${sha(readFileSync(small))}.dbn`)],
        'only the first import, no partial or temp file',
      );
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('two processes importing the same files into one data dir at once both succeed with one dataset', async () => {
    await withTempDir(async (dataDir) => {
      const startAt = Date.now() + 1500;
      const run = () =>
        new Promise<{ code: number; out: string; err: string }>((res) => {
          const p = spawn(process.execPath, ['test/unit/ingest/support/importWorker.ts', dataDir, String(startAt), ...synth], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '',
            err = '';
          p.stdout.on('data', (d) => {
            out += d;
          });
          p.stderr.on('data', (d) => {
            err += d;
          });
          p.on('close', (code) => res({ code: code ?? -1, out, err }));
        });
      const [a, b] = await Promise.all([run(), run()]);
      assert.equal(a.code, 0, a.err);
      assert.equal(b.code, 0, b.err);
      const ia = JSON.parse(a.out).datasets[0].dataset_id;
      assert.equal(JSON.parse(b.out).datasets[0].dataset_id, ia);
      const rows = datasets(dataDir);
      assert.deepEqual(
        rows.map((r) => r.dataset_id),
        [ia],
      );
      assert.equal(rows[0]!.sources.length, 2);
      for (const f of listFiles(join(dataDir, 'raw'))) assert.equal(sha(readFileSync(f)), f.split('/').pop()!.split('.')[0], `${f} intact`);
      assert.equal(listFiles(join(dataDir, 'raw')).length, 2);
    });
  });
});
