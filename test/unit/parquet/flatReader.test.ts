import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pq from 'parquet-wasm';
import { allocBarSeries, type BarSeries } from '../../../src/engine/bars/barSeries.ts';
import {
  BARS_PARQUET_KIND,
  barColumnSpecs,
  readBarsFlat,
  readBarsParquet,
  readBarsParquetWasm,
  writeBarsParquet,
} from '../../../src/engine/parquet/barsParquet.ts';
import { decodeHybrid } from '../../../src/engine/parquet/rleHybrid.ts';
import { encodeIpcStream } from '../../../src/engine/parquet/ipcStream.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';

const T0 = 1709562600e9;
const MIN = 60e9;

/** n bars with runs and random patterns of nulls, repeated and distinct prices, big int64s. */
function bars(n: number, seed: number, symbol = 'ESH4'): BarSeries {
  const b = allocBarSeries(symbol, n);
  const rng = new Sfc32(seed);
  let cents = 480_000;
  for (let i = 0; i < n; i++) {
    b.ts[i] = T0 + (i + Math.floor(i / 390) * 1050) * MIN;
    cents += Math.floor(rng.next() * 9) - 4;
    b.open[i] = cents / 100;
    b.high[i] = (cents + 25) / 100;
    b.low[i] = (cents - 25) / 100;
    b.close[i] = (cents + Math.floor(rng.next() * 5)) / 100;
    b.vwap[i] = cents / 100 + rng.next() / 7;
    b.volume[i] = i % 97 === 0 ? 9_007_199_254_740_991 : Math.floor(rng.next() * 5000);
    b.tradeCount[i] = i % 13;
    b.buyVolume[i] = i % 3;
    b.sellVolume[i] = i < n / 2 ? 7 : 2 ** 40 + i;
    // quotes: a long null run, then random nulls, then none
    const q = i < n / 5 ? -1 : i < (3 * n) / 5 ? (rng.next() < 0.3 ? -1 : Math.floor(rng.next() * 9)) : 1 + (i % 4);
    b.quoteCount[i] = q;
    const has = q > 0;
    b.bidClose[i] = has ? b.close[i]! - 0.25 : NaN;
    b.askClose[i] = has ? b.close[i]! + 0.25 : NaN;
    b.spreadMean[i] = has ? 0.25 + rng.next() / 100 : NaN;
    b.spreadMax[i] = has ? 0.5 : NaN;
    b.bidSizeMean[i] = has ? rng.next() * 40 : NaN;
    b.askSizeMean[i] = has && i % 2 === 0 ? rng.next() * 40 : NaN;
    b.imbalanceMean[i] = has && rng.next() < 0.5 ? rng.next() * 2 - 1 : NaN;
  }
  return b;
}

/** Every column's bytes (NaN payloads included) equal. */
function assertSameBits(a: BarSeries, b: BarSeries): void {
  assert.equal(a.symbol, b.symbol);
  assert.equal(a.length, b.length);
  for (const k of Object.keys(a) as (keyof BarSeries)[]) {
    const x = a[k];
    const y = b[k];
    if (ArrayBuffer.isView(x) && ArrayBuffer.isView(y)) {
      assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `column ${k}`);
    }
  }
}

/** A bars file with writer settings of our choosing (what writeBarsParquet would not write). */
function writeWith(
  path: string,
  b: BarSeries,
  props: (w: pq.WriterPropertiesBuilder) => pq.WriterPropertiesBuilder,
  kind = BARS_PARQUET_KIND,
): void {
  const meta = JSON.stringify({ 'btnb.kind': kind, 'btnb.layout_version': '1', 'btnb.symbol': b.symbol });
  const base = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setMaxRowGroupSize(5000)
    .setKeyValueMetadata(new Map([['btnb.metadata', meta]]));
  const table = pq.Table.fromIPCStream(encodeIpcStream(barColumnSpecs(b), b.length, 5000));
  writeFileSync(path, pq.writeParquet(table, props(base).build()));
}

describe('parquet/flatReader (bars without parquet-wasm)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-flat-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads what writeBarsParquet writes, bit for bit as parquet-wasm reads it (several row groups, empty)', async () => {
    for (const [n, name] of [
      [150_000, 'big'],
      [7, 'small'],
      [0, 'empty'],
    ] as const) {
      const b = bars(n, n + 1);
      const p = join(dir, `${name}.parquet`);
      await writeBarsParquet(p, b);
      const flat = readBarsFlat(readFileSync(p));
      assert.ok(flat, `${name}: the flat reader took the file`);
      assertSameBits(flat, await readBarsParquetWasm(p));
      assertSameBits(flat, b);
      assertSameBits(await readBarsParquet(p), b);
    }
  });

  it('handles many small pages, dictionary fallback to plain, v2 pages, no dictionary and no compression', async () => {
    const b = bars(12_345, 9);
    const variants: [string, (w: pq.WriterPropertiesBuilder) => pq.WriterPropertiesBuilder][] = [
      ['small-pages', (w) => w.setDataPageSizeLimit(1024)],
      ['dict-fallback', (w) => w.setDictionaryPageSizeLimit(256).setDataPageSizeLimit(4096)],
      ['v2', (w) => w.setWriterVersion(pq.WriterVersion.V2)],
      ['v2-small-pages', (w) => w.setWriterVersion(pq.WriterVersion.V2).setDataPageSizeLimit(2048)],
      ['plain', (w) => w.setDictionaryEnabled(false)],
      ['uncompressed', (w) => w.setCompression(pq.Compression.UNCOMPRESSED)],
      ['v2-uncompressed', (w) => w.setWriterVersion(pq.WriterVersion.V2).setCompression(pq.Compression.UNCOMPRESSED)],
    ];
    for (const [name, props] of variants) {
      const p = join(dir, `${name}.parquet`);
      writeWith(p, b, props);
      const flat = readBarsFlat(readFileSync(p));
      assert.ok(flat, `${name}: the flat reader took the file`);
      assertSameBits(flat, await readBarsParquetWasm(p));
      assertSameBits(flat, b);
    }
  });

  it('leaves to parquet-wasm what it does not know, and readBarsParquet still reads it', async () => {
    const b = bars(3000, 4);
    const cases: [string, (w: pq.WriterPropertiesBuilder) => pq.WriterPropertiesBuilder, string?][] = [
      ['snappy', (w) => w.setCompression(pq.Compression.SNAPPY)],
      ['delta-ts', (w) => w.setColumnDictionaryEnabled('ts', false).setColumnEncoding('ts', pq.Encoding.DELTA_BINARY_PACKED)],
      ['foreign-kind', (w) => w, 'someone.else'],
    ];
    for (const [name, props, kind] of cases) {
      const p = join(dir, `${name}.parquet`);
      writeWith(p, b, props, kind);
      assert.equal(readBarsFlat(readFileSync(p)), null, name);
      assertSameBits(await readBarsParquet(p), b);
    }
  });

  it('a damaged file is refused (null: parquet-wasm decides) or read to full length, never a stray exception', async () => {
    // (parquet-wasm itself is no oracle here: some damage makes it panic outside any promise)
    const p = join(dir, 'good.parquet');
    const n = 20_000;
    await writeBarsParquet(p, bars(n, 2));
    const good = readFileSync(p);
    const rng = new Sfc32(77);
    let refused = 0;
    for (let k = 0; k < 400; k++) {
      const bad = Buffer.from(good);
      // flip bytes in the pages (headers and data) or in the footer
      const at = k % 2 === 0 ? Math.floor(rng.next() * (bad.length - 8)) : bad.length - 8 - Math.floor(rng.next() * 2000);
      bad[at] = bad[at]! ^ (1 + Math.floor(rng.next() * 255));
      const r = readBarsFlat(bad);
      if (r === null) refused++;
      else assert.equal(r.length, n, `flip at ${at}`);
    }
    assert.ok(refused > 0);
    assert.equal(readBarsFlat(good.subarray(0, good.length - 100)), null);
    const cut = join(dir, 'cut.parquet');
    writeFileSync(cut, good.subarray(0, good.length - 100));
    await assert.rejects(readBarsParquet(cut), (e: Error) => e.message.startsWith(`${cut}: not a readable Parquet file`));
  });

  it('decodeHybrid: RLE runs and bit-packed groups of every width', () => {
    const rng = new Sfc32(5);
    for (const width of [1, 2, 3, 7, 8, 9, 13, 16, 17, 24, 25, 31, 32]) {
      const values: number[] = [];
      const bytes: number[] = [];
      const varint = (x: number) => {
        while (x >= 0x80) {
          bytes.push((x & 0x7f) | 0x80);
          x = Math.floor(x / 128);
        }
        bytes.push(x);
      };
      const max = width === 32 ? 2 ** 32 : 2 ** width;
      for (let run = 0; run < 40; run++) {
        if (rng.next() < 0.5) {
          const len = 1 + Math.floor(rng.next() * 300);
          const v = Math.floor(rng.next() * max);
          varint(len * 2);
          for (let b = 0; b < (width + 7) >> 3; b++) bytes.push(Math.floor(v / 2 ** (8 * b)) & 0xff);
          for (let i = 0; i < len; i++) values.push(v | 0);
        } else {
          const groups = 1 + Math.floor(rng.next() * 20);
          varint(groups * 2 + 1);
          const packed = new Uint8Array(groups * width);
          for (let i = 0; i < groups * 8; i++) {
            const v = Math.floor(rng.next() * max);
            values.push(v | 0);
            for (let b = 0; b < width; b++)
              if (Math.floor(v / 2 ** b) % 2 === 1) packed[(i * width + b) >> 3]! |= 1 << ((i * width + b) & 7);
          }
          bytes.push(...packed);
        }
      }
      const buf = Uint8Array.from(bytes);
      // all values, then a count that ends inside a bit-packed group
      for (const count of [values.length, values.length - 3]) {
        const out = new Int32Array(count);
        decodeHybrid(buf, 0, buf.length, width, out, count);
        assert.deepEqual(Array.from(out), values.slice(0, count), `width ${width}`);
      }
    }
  });
});
