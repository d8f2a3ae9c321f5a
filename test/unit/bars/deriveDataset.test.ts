import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { deriveDataset, DERIVE_CODE_HASH } from '../../../src/engine/bars/deriveDataset.ts';
import { mergeSources } from '../../../src/engine/bars/sourceMerge.ts';
import { importFiles } from '../../../src/engine/ingest/importFiles.ts';
import { synthesize } from '../../../src/engine/ingest/synth.ts';
import { withTempDir } from '../../../src/engine/io/files.ts';
import { readBarsParquet } from '../../../src/engine/parquet/barsParquet.ts';
import { assertBars, dbnBytes, MIN, NO_QUOTES, S, T0, type TradeSpec } from './dbnBuild.ts';
import { referenceBars } from './referenceBars.ts';

function catalogRow(dataDir: string, id: string) {
  const c = openCatalog(join(dataDir, 'catalog.sqlite'));
  try {
    return c.getDataset(id)!;
  } finally {
    c.close();
  }
}

describe('deriveDataset (btnb data derive)', function () {
  this.timeout(60_000);
  let dir: string;
  let synth: string[];
  let synthTrades: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-derive-'));
    // 2024-03-07/08: EST, so post-market prints fall on the next UTC date (mapping by UTC date).
    const r = await synthesize({ symbol: 'DEMO', start: '2024-03-07', days: 2, seed: 11, outDir: dir, tradesPerDay: 4000 });
    synth = r.files;
    synthTrades = r.trades;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bars equal an independent BigInt reference over the same DBN files (trades + tbbo), and DuckDB reads them with the contract types', async () => {
    await withTempDir(async (dataDir) => {
      const imp = await importFiles(synth, { dataDir, derive: true });
      const d = imp.datasets[0]!;
      const bars = await readBarsParquet(join(dataDir, d.bars_path!));
      const expected = await referenceBars(synth, 'DEMO');
      assert.ok(expected.length > 500);
      assertBars(bars, expected);
      assert.equal(d.bar_count, expected.length);
      const inst = await DuckDBInstance.create(':memory:');
      const con = await inst.connect();
      const r = (
        await con.runAndReadAll(`select count(*)::INTEGER n, sum(volume)::BIGINT v, min(ts)::VARCHAR t0,
        any_value(typeof(ts)) tt, any_value(typeof(volume)) tv, any_value(typeof(trade_count)) tc, any_value(typeof(open)) tp
        from read_parquet('${join(dataDir, d.bars_path!)}')`)
      ).getRowObjectsJson()[0]!;
      con.closeSync();
      assert.equal(r.n, expected.length);
      assert.equal(r.v, String(expected.reduce((s, b) => s + b.volume, 0)));
      assert.equal(r.t0, new Date(Number(expected[0]!.ts / 1_000_000n)).toISOString().replace('T', ' ').replace('.000Z', '+00'));
      assert.deepEqual([r.tt, r.tv, r.tc, r.tp], ['TIMESTAMP WITH TIME ZONE', 'BIGINT', 'INTEGER', 'DOUBLE']);
    });
  });

  it('real Databento fixtures (GLBX.MDP3 ESH1 trades + tbbo, brief §11 A/B): one bar computed by hand; v1 and v3 of the same trades overlap', async () => {
    await withTempDir(async (dataDir) => {
      const fx = (n: string) => `test/fixtures/dbn/test_data.${n}`;
      const res = await importFiles([fx('trades.v3.dbn.zst'), fx('tbbo.v3.dbn.zst')], { dataDir, derive: true });
      const d = res.datasets[0]!;
      assert.equal(d.symbol, 'ESH1');
      assert.equal(d.sources[0]!.file.startsWith('raw/databento/GLBX.MDP3/trades/'), true);
      const bars = await readBarsParquet(join(dataDir, d.bars_path!));
      // Two sell-aggressor trades of 5 and 21 at 3720.25 at 13:00:00.099 / .108; tbbo levels
      // 3720.25/3720.50 with sizes 26/7 then 21/22.
      assertBars(bars, [
        {
          ts: 1_609_160_400_000_000_000n,
          open: 3720.25,
          high: 3720.25,
          low: 3720.25,
          close: 3720.25,
          volume: 26,
          trade_count: 2,
          vwap: 3720.25,
          buy_volume: 0,
          sell_volume: 26,
          quote_count: 2,
          bid_close: 3720.25,
          ask_close: 3720.5,
          spread_mean: 0.25,
          spread_max: 0.25,
          bid_size_mean: 23.5,
          ask_size_mean: 14.5,
          imbalance_mean: ((26 - 7) / 33 + (21 - 22) / 43) / 2,
        },
      ]);
      const man = JSON.parse(readFileSync(join(dataDir, 'derived/bars', d.dataset_id, 'manifest.json'), 'utf8'));
      assert.deepEqual(man.instrument_ids, [5482]);
      assert.equal(man.databento_dataset, 'GLBX.MDP3');
      assert.deepEqual(
        man.sources.map((s: { records: number }) => s.records),
        [2, 2],
      );
      await assert.rejects(
        importFiles([fx('trades.v1.dbn.zst'), fx('trades.v3.dbn.zst')], { dataDir }),
        /test_data\.trades\.v1\.dbn\.zst and .*test_data\.trades\.v3\.dbn\.zst: both hold trades for 'ESH1' and their time spans overlap/,
      );
    });
  });

  it('deriving twice gives byte-identical Parquet and the manifest of docs/bars.md; the catalog row records count and range', async () => {
    await withTempDir(async (dataDir) => {
      const id = (await importFiles(synth, { dataDir })).datasets[0]!.dataset_id;
      const a = await deriveDataset(dataDir, id);
      const bytesA = readFileSync(join(dataDir, a.bars_path));
      const manA = JSON.parse(readFileSync(join(dataDir, a.manifest_path), 'utf8'));
      const b = await deriveDataset(dataDir, id);
      assert.ok(readFileSync(join(dataDir, b.bars_path)).equals(bytesA), 'byte-identical bars-1m.parquet');
      const manB = JSON.parse(readFileSync(join(dataDir, b.manifest_path), 'utf8'));
      delete manA.created_at;
      assert.ok(typeof manB.created_at === 'string');
      delete manB.created_at;
      assert.deepEqual(manB, manA);
      assert.deepEqual(
        Object.keys(manA).sort(),
        [
          'calendar_version',
          'code_hash',
          'databento_dataset',
          'dataset_id',
          'derive_version',
          'end',
          'instrument_ids',
          'rows',
          'schemas',
          'sources',
          'start',
          'symbol',
          'tz',
        ].sort(),
      );
      assert.equal(manA.code_hash, DERIVE_CODE_HASH);
      assert.equal(manA.tz, 'UTC');
      assert.equal(manA.rows, a.bar_count);
      const bars = await readBarsParquet(join(dataDir, a.bars_path));
      assert.equal(manA.start, new Date(bars.ts[0]! / 1e6).toISOString().replace('.000Z', 'Z'));
      assert.equal(manA.end, new Date((bars.ts[bars.length - 1]! + 60e9) / 1e6).toISOString().replace('.000Z', 'Z'));
      assert.equal(manA.sources[0].records, synthTrades);
      assert.equal(manA.sources[0].records, manA.sources[1].records);
      assert.equal(manA.sources[0].dbn_version, 3);
      const row = catalogRow(dataDir, id);
      assert.equal(row.status, 'ready');
      assert.equal(row.bar_count, a.bar_count);
      assert.equal(row.start, manA.start);
      assert.equal(row.end, manA.end);
      assert.equal(row.sources.find((s) => s.schema === 'trades')!.records, manA.sources[0].records);
    });
  });

  it('import --derive (decodes the original files while copying them) gives the Parquet bytes, manifest and catalog row of import then derive', async () => {
    await withTempDir(async (dataDir) => {
      const seqDir = join(dataDir, 'seq'),
        ovDir = join(dataDir, 'overlapped');
      const id = (await importFiles(synth, { dataDir: seqDir })).datasets[0]!.dataset_id;
      const a = await deriveDataset(seqDir, id);
      // Reversed file order: the early decode's per-source arrays must be put in the catalog's order.
      const seen: string[] = [];
      const b = (
        await importFiles([...synth].reverse(), {
          dataDir: ovDir,
          derive: true,
          onDerived: (info, r) => seen.push(`${info.dataset_id} ${r.bar_count}`),
        })
      ).datasets[0]!;
      assert.equal(b.dataset_id, id);
      assert.deepEqual(seen, [`${id} ${a.bar_count}`]);
      assert.ok(readFileSync(join(ovDir, b.bars_path!)).equals(readFileSync(join(seqDir, a.bars_path))), 'byte-identical bars-1m.parquet');
      const man = (dir: string) => {
        const m = JSON.parse(readFileSync(join(dir, a.manifest_path), 'utf8'));
        delete m.created_at;
        return m;
      };
      assert.deepEqual(man(ovDir), man(seqDir));
      assert.equal(man(ovDir).sources[0].records, synthTrades);
      const strip = (r: ReturnType<typeof catalogRow>) => ({ ...r, created_at: null, updated_at: null, manifest: null });
      assert.deepEqual(strip(catalogRow(ovDir, id)), strip(catalogRow(seqDir, id)));
    });
  });

  it('import --derive: a file that fails to decode is still imported, and its dataset is marked failed naming the original file', async () => {
    await withTempDir(async (dataDir) => {
      const f = join(dataDir, 'ooo.trades.dbn');
      writeFileSync(
        f,
        dbnBytes({ schema: 'trades' }, [
          { ts: T0 + 5n * S, px: 1, sz: 1, side: 'B' },
          { ts: T0 + 4n * S, px: 1, sz: 1, side: 'B' },
        ]),
      );
      await assert.rejects(
        importFiles([f], { dataDir: join(dataDir, 'd'), derive: true }),
        (e: Error) => e.message.includes(f) && /earlier than the previous record/.test(e.message),
      );
      const c = openCatalog(join(dataDir, 'd', 'catalog.sqlite'));
      try {
        const rows = c.listDatasets();
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.status, 'failed');
        assert.equal(rows[0]!.bar_count, null);
        assert.ok(!existsSync(join(dataDir, 'd', 'derived/bars', rows[0]!.dataset_id, 'bars-1m.parquet')));
      } finally {
        c.close();
      }
    });
  });

  it('import --derive: a copy that fails (unwritable data dir) registers nothing and leaves no decode running', async () => {
    await withTempDir(async (dir) => {
      const blocker = join(dir, 'file');
      writeFileSync(blocker, 'not a directory');
      const seen: string[] = [];
      await assert.rejects(
        importFiles(synth, { dataDir: join(blocker, 'data'), derive: true, onProgress: (p) => seen.push(p.phase) }),
        (e: Error) => e.message.includes(join(blocker, 'data')) && /ENOTDIR/.test(e.message),
      );
      const after = seen.length;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(seen.length, after, 'no progress after the rejection: the early decode was stopped before it returned');
      assert.ok(!existsSync(join(blocker, 'data')));
    });
  });

  it('tbbo without trades: OHLCV from the tbbo trade fields equals the bars from trades + tbbo', async () => {
    await withTempDir(async (dataDir) => {
      const both = await importFiles(synth, { dataDir, derive: true });
      const only = await importFiles([synth[1]!], { dataDir, derive: true });
      assert.notEqual(only.datasets[0]!.dataset_id, both.datasets[0]!.dataset_id);
      const a = await readBarsParquet(join(dataDir, both.datasets[0]!.bars_path!));
      const b = await readBarsParquet(join(dataDir, only.datasets[0]!.bars_path!));
      assert.deepEqual(b, a);
    });
  });

  it('several symbols in one file: each dataset derives only its own records', async () => {
    await withTempDir(async (dataDir) => {
      const mappings = [
        { rawSymbol: 'AAA', intervals: [{ startDate: 20240304, endDate: 20240305, symbol: '11' }] },
        { rawSymbol: 'BBB', intervals: [{ startDate: 20240304, endDate: 20240305, symbol: '12' }] },
      ];
      const f = join(dataDir, 'multi.dbn');
      writeFileSync(
        f,
        dbnBytes({ schema: 'trades', mappings }, [
          { ts: T0, px: 10, sz: 1, side: 'B', id: 11 },
          { ts: T0 + S, px: 50, sz: 5, side: 'A', id: 12 },
          { ts: T0 + 2n * S, px: 12, sz: 3, side: 'A', id: 11 },
          { ts: T0 + MIN, px: 51, sz: 2, side: 'N', id: 12 },
        ]),
      );
      const res = await importFiles([f], { dataDir, derive: true });
      const [aaa, bbb] = await Promise.all(res.datasets.map((d) => readBarsParquet(join(dataDir, d.bars_path!))));
      assertBars(aaa!, [
        {
          ts: T0,
          open: 10,
          high: 12,
          low: 10,
          close: 12,
          volume: 4,
          trade_count: 2,
          vwap: 46 / 4,
          buy_volume: 1,
          sell_volume: 3,
          ...NO_QUOTES,
        },
      ]);
      assertBars(bbb!, [
        {
          ts: T0,
          open: 50,
          high: 50,
          low: 50,
          close: 50,
          volume: 5,
          trade_count: 1,
          vwap: 50,
          buy_volume: 0,
          sell_volume: 5,
          ...NO_QUOTES,
        },
        {
          ts: T0 + MIN,
          open: 51,
          high: 51,
          low: 51,
          close: 51,
          volume: 2,
          trade_count: 1,
          vwap: 51,
          buy_volume: 0,
          sell_volume: 0,
          ...NO_QUOTES,
        },
      ]);
      assert.equal(aaa!.symbol, 'AAA');
    });
  });

  it('records out of ts_recv order are refused naming file, byte offset and both timestamps; no bars file appears', async () => {
    await withTempDir(async (dataDir) => {
      const f = join(dataDir, 'ooo.trades.dbn');
      const recs: TradeSpec[] = [
        { ts: T0, px: 1, sz: 1, side: 'B' },
        { ts: T0 + 5n * S, px: 1, sz: 1, side: 'B' },
        { ts: T0 + 4n * S, px: 1, sz: 1, side: 'B' },
      ];
      const bytes = dbnBytes({ schema: 'trades' }, recs);
      writeFileSync(f, bytes);
      const { datasets } = await importFiles([f], { dataDir });
      const id = datasets[0]!.dataset_id;
      const recordsOffset = bytes.length - 3 * 48;
      await assert.rejects(
        deriveDataset(dataDir, id, { batchSize: 2 }),
        (e: Error) =>
          e.message.includes(datasets[0]!.sources[0]!.file) &&
          e.message.includes(`byte ${recordsOffset + 2 * 48}`) &&
          e.message.includes(String(T0 + 4n * S)) &&
          e.message.includes(String(T0 + 5n * S)),
      );
      assert.ok(!existsSync(join(dataDir, 'derived/bars', id, 'bars-1m.parquet')));
      const row = catalogRow(dataDir, id);
      assert.equal(row.status, 'failed');
      assert.match(row.error!, /earlier than the previous record/);
      assert.equal(row.bar_count, null);
    });
  });

  it('a full disk while writing the bars (real 8 KiB tmpfs under derived/) fails clearly, leaves no file under a final name, and a later derive succeeds', async function () {
    await withTempDir(async (dataDir) => {
      const id = (await importFiles(synth, { dataDir })).datasets[0]!.dataset_id;
      const mnt = join(dataDir, 'derived');
      mkdirSync(mnt, { recursive: true });
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', mnt], { stdio: 'ignore' });
      } catch {
        this.skip();
      }
      try {
        await assert.rejects(deriveDataset(dataDir, id), (e: Error) => /ENOSPC/.test(e.message) && e.message.includes('bars-1m.parquet'));
        const left = execFileSync('find', [mnt, '-type', 'f']).toString().trim();
        assert.equal(left, '', `no file left: ${left}`);
        const row = catalogRow(dataDir, id);
        assert.equal(row.status, 'failed');
        assert.equal(row.bar_count, null);
        assert.match(row.error!, /ENOSPC/);
      } finally {
        execFileSync('umount', [mnt]);
      }
      const ok = await deriveDataset(dataDir, id);
      assert.equal(catalogRow(dataDir, id).status, 'ready');
      assert.ok(ok.bar_count > 0);
    });
  });

  it('cancelling a derive (AbortSignal) rejects with AbortError, writes nothing and restores the dataset status', async () => {
    await withTempDir(async (dataDir) => {
      const id = (await importFiles(synth, { dataDir })).datasets[0]!.dataset_id;
      const ac = new AbortController();
      let calls = 0;
      await assert.rejects(
        deriveDataset(dataDir, id, {
          signal: ac.signal,
          batchSize: 64,
          onProgress: () => {
            if (++calls === 2) ac.abort();
          },
        }),
        (e: Error) => e.name === 'AbortError',
      );
      assert.ok(calls >= 2);
      assert.ok(!existsSync(join(dataDir, 'derived/bars', id, 'bars-1m.parquet')));
      const row = catalogRow(dataDir, id);
      assert.equal(row.status, 'imported');
      assert.equal(row.error, null);
    });
  });

  it('merge order: equal ts_recv across sources go by (first ts_recv, sha256); records keep file order', async () => {
    await withTempDir(async (d) => {
      // a starts earlier; b and c start at the same ts, so sha256 decides between them.
      const files: Record<string, TradeSpec[]> = {
        a: [
          { ts: T0, px: 1, sz: 1, side: 'B' },
          { ts: T0 + S, px: 2, sz: 1, side: 'B' },
          { ts: T0 + S, px: 3, sz: 1, side: 'B' },
        ],
        b: [
          { ts: T0 + S, px: 4, sz: 1, side: 'B' },
          { ts: T0 + S, px: 5, sz: 1, side: 'B' },
          { ts: T0 + 2n * S, px: 6, sz: 1, side: 'B' },
        ],
        c: [
          { ts: T0 + S, px: 7, sz: 1, side: 'B' },
          { ts: T0 + 2n * S, px: 8, sz: 1, side: 'B' },
        ],
      };
      const srcs = Object.entries(files).map(([k, recs]) => {
        const bytes = dbnBytes({ schema: 'trades' }, recs);
        writeFileSync(join(d, k), bytes);
        return {
          path: join(d, k),
          name: k,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          schema: 'trades' as const,
          recordsOffset: 0,
        };
      });
      const seen: number[] = [];
      await mergeSources(
        srcs,
        (_i, b, from, to) => {
          for (let i = from; i < to; i++) seen.push(b.price[i]! / 1e9);
        },
        { batchSize: 1 },
      );
      const bFirst = srcs[1]!.sha256 < srcs[2]!.sha256;
      const expected = [1, 2, 3, ...(bFirst ? [4, 5, 7] : [7, 4, 5]), ...(bFirst ? [6, 8] : [8, 6])];
      assert.deepEqual(seen, expected);
    });
  });
});
