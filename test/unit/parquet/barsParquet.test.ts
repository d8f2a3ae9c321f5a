import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocBarSeries, BAR_COLUMNS, type BarSeries } from '../../../src/engine/bars/barSeries.ts';
import { nodeAtomicFs, type AtomicFs } from '../../../src/engine/io/atomicWrite.ts';
import { readBarsParquet, writeBarsParquet } from '../../../src/engine/parquet/barsParquet.ts';
import { CREATED_BY, parquetFileInfo, writeParquetTable } from '../../../src/engine/parquet/table.ts';
import { lit, q } from './duck.ts';

const T0 = 1709562600e9; // 2024-03-04T14:30:00Z in ns (a multiple of 60 s)
const MIN = 60e9;

/** Five hand-made bars covering every null pattern of the quote columns. */
function smallBars(): BarSeries {
  const b = allocBarSeries('ESH4', 5);
  const rows: [number, number, number, number, number, number, number, number, number, number, number][] = [
    // minute, open, high, low, close, volume, trades, vwap, buy, sell, quote_count (-1 = null)
    [0, 4770.25, 4771.5, 4769.75, 4771.0, 120, 14, 4770.6, 70, 40, -1],
    [1, 4771.0, 4771.0, 4771.0, 4771.0, 1, 1, 4771.0, 0, 0, 0],
    [3, 4771.25, 4772.0, 4770.5, 4770.5, 9_007_199_254_740_991, 2_000_000_000, 4771.1, 5, 4, 3],
    [4, 0.01, 0.02, 0.01, 0.02, 3, 2, 0.015, 3, 0, 2],
    [1440, -1.5, -1.25, -1.75, -1.5, 10, 3, -1.5, 0, 10, 1],
  ];
  rows.forEach((r, i) => {
    b.ts[i] = T0 + r[0] * MIN;
    b.open[i] = r[1];
    b.high[i] = r[2];
    b.low[i] = r[3];
    b.close[i] = r[4];
    b.volume[i] = r[5];
    b.tradeCount[i] = r[6];
    b.vwap[i] = r[7];
    b.buyVolume[i] = r[8];
    b.sellVolume[i] = r[9];
    b.quoteCount[i] = r[10];
  });
  // quote doubles: null (NaN) when quote_count is null or 0; imbalance also null in row 3
  const q2 = (i: number, bid: number, ask: number, sm: number, sx: number, bs: number, as: number, im: number) => {
    b.bidClose[i] = bid;
    b.askClose[i] = ask;
    b.spreadMean[i] = sm;
    b.spreadMax[i] = sx;
    b.bidSizeMean[i] = bs;
    b.askSizeMean[i] = as;
    b.imbalanceMean[i] = im;
  };
  q2(0, NaN, NaN, NaN, NaN, NaN, NaN, NaN);
  q2(1, NaN, NaN, NaN, NaN, NaN, NaN, NaN);
  q2(2, 4770.25, 4770.5, 0.25, 0.5, 12.5, 3, (12.5 - 3) / 15.5);
  q2(3, 0.01, 0.02, 0.01, 0.01, 0, 0, NaN);
  q2(4, -1.75, -1.5, 0.25, 0.25, 1, 2, -1 / 3);
  return b;
}

function failingFs(failOnWrite: number): AtomicFs {
  let n = 0;
  return {
    ...nodeAtomicFs,
    async write(fd, buf, off, len) {
      if (++n === failOnWrite) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      return nodeAtomicFs.write(fd, buf, off, len);
    },
  };
}

describe('parquet/barsParquet', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-pq-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips every column and null pattern exactly through our reader', async () => {
    const b = smallBars();
    const p = join(dir, 'small.parquet');
    await writeBarsParquet(p, b);
    const r = await readBarsParquet(p);
    assert.deepEqual(r, b); // typed arrays compared element-wise; NaN equals NaN
  });

  it('has the contract types, zstd, REQUIRED/OPTIONAL, values and null counts as DuckDB reads them', async () => {
    const p = join(dir, 'duck.parquet');
    await writeBarsParquet(p, smallBars());
    const desc = await q(`DESCRIBE SELECT * FROM read_parquet(${lit(p)})`);
    const expected: Record<string, string> = {
      ts: 'TIMESTAMP WITH TIME ZONE',
      symbol: 'VARCHAR',
      open: 'DOUBLE',
      high: 'DOUBLE',
      low: 'DOUBLE',
      close: 'DOUBLE',
      volume: 'BIGINT',
      trade_count: 'INTEGER',
      vwap: 'DOUBLE',
      buy_volume: 'BIGINT',
      sell_volume: 'BIGINT',
      quote_count: 'INTEGER',
      bid_close: 'DOUBLE',
      ask_close: 'DOUBLE',
      spread_mean: 'DOUBLE',
      spread_max: 'DOUBLE',
      bid_size_mean: 'DOUBLE',
      ask_size_mean: 'DOUBLE',
      imbalance_mean: 'DOUBLE',
    };
    assert.deepEqual(
      desc.map((d) => d.column_name),
      [...BAR_COLUMNS],
    );
    assert.deepEqual(Object.fromEntries(desc.map((d) => [d.column_name, d.column_type])), expected);
    const schema = await q(`SELECT name, type, repetition_type, logical_type FROM parquet_schema(${lit(p)}) WHERE name <> 'arrow_schema'`);
    const ts = schema.find((s) => s.name === 'ts')!;
    assert.equal(ts.type, 'INT64');
    assert.match(String(ts.logical_type), /TimestampType\(isAdjustedToUTC=1, unit=.*NANOS=NanoSeconds\(\)/);
    const optional = schema.filter((s) => s.repetition_type === 'OPTIONAL').map((s) => s.name);
    assert.deepEqual(optional, [
      'quote_count',
      'bid_close',
      'ask_close',
      'spread_mean',
      'spread_max',
      'bid_size_mean',
      'ask_size_mean',
      'imbalance_mean',
    ]);
    const comp = await q(`SELECT DISTINCT compression FROM parquet_metadata(${lit(p)})`);
    assert.deepEqual(comp, [{ compression: 'ZSTD' }]);
    const fm = await q(`SELECT created_by, num_rows FROM parquet_file_metadata(${lit(p)})`);
    assert.deepEqual(fm, [{ created_by: CREATED_BY, num_rows: '5' }]);
    const rows = await q(`SELECT epoch_ns(ts) AS ts, symbol, open, close, volume, trade_count, quote_count, bid_close, imbalance_mean
      FROM read_parquet(${lit(p)}) ORDER BY ts`);
    assert.deepEqual(
      rows.map((r) => r.ts),
      ['1709562600000000000', '1709562660000000000', '1709562780000000000', '1709562840000000000', '1709649000000000000'],
    );
    assert.deepEqual(
      rows.map((r) => r.symbol),
      ['ESH4', 'ESH4', 'ESH4', 'ESH4', 'ESH4'],
    );
    assert.deepEqual(
      rows.map((r) => r.volume),
      ['120', '1', '9007199254740991', '3', '10'],
    );
    assert.deepEqual(
      rows.map((r) => r.trade_count),
      [14, 1, 2_000_000_000, 2, 3],
    );
    assert.deepEqual(
      rows.map((r) => r.quote_count),
      [null, 0, 3, 2, 1],
    );
    assert.deepEqual(
      rows.map((r) => r.bid_close),
      [null, null, 4770.25, 0.01, -1.75],
    );
    assert.deepEqual(
      rows.map((r) => r.imbalance_mean),
      [null, null, (12.5 - 3) / 15.5, null, -1 / 3],
    );
    assert.deepEqual(
      rows.map((r) => r.open),
      [4770.25, 4771, 4771.25, 0.01, -1.5],
    );
    const nulls =
      await q(`SELECT count(*) - count(quote_count) AS qc, count(*) - count(spread_mean) AS sm, count(*) - count(imbalance_mean) AS im,
      count(*) - count(open) AS o, sum(buy_volume) AS bv FROM read_parquet(${lit(p)})`);
    assert.deepEqual(nulls, [{ qc: '1', sm: '2', im: '3', o: '0', bv: '78' }]);
  });

  it('is deterministic, splits 64Ki-row groups, and matches DuckDB on a 150k-bar series', async () => {
    const n = 150_000;
    const b = allocBarSeries('AAPL', n);
    let px = 18_000; // cents
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < n; i++) {
      b.ts[i] = T0 + (i + Math.floor(i / 390) * 1050) * MIN;
      px += Math.round((rnd() - 0.5) * 6);
      b.open[i] = px / 100;
      b.high[i] = (px + 3) / 100;
      b.low[i] = (px - 2) / 100;
      b.close[i] = (px + 1) / 100;
      b.vwap[i] = (px + 0.5) / 100;
      b.volume[i] = 100 + (i % 977);
      b.tradeCount[i] = 1 + (i % 13);
      b.buyVolume[i] = 50;
      b.sellVolume[i] = 40;
      b.quoteCount[i] = i % 11 === 0 ? -1 : i % 5;
      const hasQ = b.quoteCount[i]! > 0;
      b.bidClose[i] = hasQ ? b.close[i]! - 0.01 : NaN;
      b.askClose[i] = hasQ ? b.close[i]! + 0.01 : NaN;
      b.spreadMean[i] = hasQ ? 0.02 : NaN;
      b.spreadMax[i] = hasQ ? 0.03 : NaN;
      b.bidSizeMean[i] = hasQ ? 3 : NaN;
      b.askSizeMean[i] = hasQ ? 4 : NaN;
      b.imbalanceMean[i] = hasQ && i % 3 ? -1 / 7 : NaN;
    }
    const p1 = join(dir, 'big1.parquet');
    const p2 = join(dir, 'big2.parquet');
    await writeBarsParquet(p1, b);
    await writeBarsParquet(p2, b);
    assert.ok(readFileSync(p1).equals(readFileSync(p2)), 'byte-identical on a second write');
    const info = await parquetFileInfo(p1);
    assert.deepEqual(info.rowGroupRows, [65_536, 65_536, 18_928]);
    assert.deepEqual(info.metadata, { 'btnb.kind': 'btnb.bars-1m', 'btnb.layout_version': '1', 'btnb.symbol': 'AAPL' });
    assert.deepEqual(await readBarsParquet(p1), b);
    // Independent aggregates: JS over the arrays vs DuckDB over the file.
    let vol = 0,
      qNull = 0,
      imNull = 0,
      closeSum = 0;
    for (let i = 0; i < n; i++) {
      vol += b.volume[i]!;
      if (b.quoteCount[i]! < 0) qNull++;
      if (Number.isNaN(b.imbalanceMean[i]!)) imNull++;
      closeSum += Math.round(b.close[i]! * 100);
    }
    const [agg] =
      await q(`SELECT count(*) AS n, sum(volume) AS vol, count(*) - count(quote_count) AS qn, count(*) - count(imbalance_mean) AS imn,
      sum(CAST(round(close * 100) AS BIGINT)) AS cs, min(epoch_ns(ts)) AS t0, max(epoch_ns(ts)) AS t1 FROM read_parquet(${lit(p1)})`);
    assert.deepEqual(agg, {
      n: String(n),
      vol: String(vol),
      qn: String(qNull),
      imn: String(imNull),
      cs: String(closeSum),
      t0: String(b.ts[0]),
      t1: BigInt(b.ts[n - 1]!).toString(),
    });
  });

  it('writes and reads an empty series', async () => {
    const p = join(dir, 'empty.parquet');
    await writeBarsParquet(p, allocBarSeries('ZZZ', 0));
    const r = await readBarsParquet(p);
    assert.equal(r.length, 0);
    assert.equal(r.symbol, 'ZZZ');
    assert.deepEqual(await q(`SELECT count(*) AS n FROM read_parquet(${lit(p)})`), [{ n: '0' }]);
  });

  it('refuses bad series with the row and reason, writing nothing', async () => {
    const p = join(dir, 'bad.parquet');
    const b = smallBars();
    b.ts[2] = b.ts[1]!;
    await assert.rejects(writeBarsParquet(p, b), /bad\.parquet: bars row 2: ts .* is not after row 1/);
    const c = smallBars();
    c.ts[3]! += 30e9;
    await assert.rejects(writeBarsParquet(p, c), /bars row 3: ts .* is not a whole minute/);
    const d = smallBars();
    d.close[4] = NaN;
    await assert.rejects(writeBarsParquet(p, d), /bars row 4: open\/high\/low\/close\/vwap must not be NaN/);
    assert.equal(existsSync(p), false);
  });

  it('a write failure mid-file leaves the previous file intact and no temp file', async () => {
    const sub = mkdtempSync(join(dir, 'fail-'));
    const p = join(sub, 'bars-1m.parquet');
    writeFileSync(p, 'previous');
    await assert.rejects(
      writeBarsParquet(p, smallBars(), { fs: failingFs(1) }),
      (e: NodeJS.ErrnoException) => e.code === 'ENOSPC' && e.message.includes(p),
    );
    assert.equal(readFileSync(p, 'utf8'), 'previous');
    assert.deepEqual(readdirSync(sub), ['bars-1m.parquet']);
  });

  it('reader errors name the file and the column/row', async () => {
    const notPq = join(dir, 'not.parquet');
    writeFileSync(notPq, 'definitely not parquet');
    await assert.rejects(readBarsParquet(notPq), (e: Error) => e.message.startsWith(`${notPq}: not a readable Parquet file`));
    await assert.rejects(readBarsParquet(join(dir, 'missing.parquet')), /missing\.parquet: cannot open/);
    const noVwap = join(dir, 'novwap.parquet');
    await writeParquetTable(noVwap, [{ name: 'ts', type: 'timestamp_ns_utc', values: [T0] }]);
    await assert.rejects(readBarsParquet(noVwap), /novwap\.parquet: missing column 'symbol'/);
    // volume as DOUBLE instead of INT64
    const b = smallBars();
    const { barColumnSpecs } = await import('../../../src/engine/parquet/barsParquet.ts');
    const specs = barColumnSpecs(b).map((s) => (s.name === 'volume' ? { ...s, type: 'float64' as const } : s));
    const wrong = join(dir, 'wrongtype.parquet');
    await writeParquetTable(wrong, specs);
    await assert.rejects(readBarsParquet(wrong), /wrongtype\.parquet: column 'volume' has type Float64, expected INT64/);
    const mixed = join(dir, 'mixed.parquet');
    await writeParquetTable(
      mixed,
      barColumnSpecs(b).map((s) =>
        s.name === 'symbol' ? { name: 'symbol', type: 'utf8' as const, values: ['A', 'A', 'A', 'B', 'A'] } : s,
      ),
    );
    await assert.rejects(readBarsParquet(mixed), /mixed\.parquet: row 3: symbol 'B' differs from 'A'/);
  });
});
