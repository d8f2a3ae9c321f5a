import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { bucketSize, m4Indices, ohlcBuckets } from '../../../src/engine/replay/decimate.ts';
import { randomSeries } from './support/randomSeries.ts';

describe('replay decimators', () => {
  it('bucket OHLC equals the raw OHLC of the bars it covers; buckets tile the range (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 400 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, seed, points, aligned, f0) => {
          const s = randomSeries(seed, n);
          const from = Math.floor(f0 * (n - 1));
          const size = bucketSize(from, n, points);
          const b = ohlcBuckets(s, from, n, size, aligned, s.spread);
          assert.ok(b.i.length <= points + 1, `${b.i.length} buckets for ${points} points`);
          let at = from;
          for (let k = 0; k < b.i.length; k++) {
            assert.equal(b.i[k], at);
            const end = at + b.n[k]!;
            if (aligned && k < b.i.length - 1) assert.equal(end % size, 0, 'aligned bucket edge');
            let h = -Infinity,
              l = Infinity,
              v = 0,
              sp = 0,
              spn = 0;
            for (let j = at; j < end; j++) {
              h = Math.max(h, s.high[j]!);
              l = Math.min(l, s.low[j]!);
              v += s.volume[j]!;
              if (!Number.isNaN(s.spread[j]!)) {
                sp += s.spread[j]!;
                spn++;
              }
            }
            assert.equal(b.open[k], s.open[at]);
            assert.equal(b.close[k], s.close[end - 1]);
            assert.equal(b.high[k], h);
            assert.equal(b.low[k], l);
            assert.equal(b.volume[k], v);
            if (spn === 0) assert.equal(b.spread[k], null);
            else assert.ok(Math.abs(b.spread[k]! - sp / spn) < 1e-12);
            at = end;
          }
          assert.equal(at, n);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });

  it('aligned buckets do not shift when the range pans', () => {
    const s = randomSeries(3, 1000);
    const a = ohlcBuckets(s, 100, 600, 10);
    const b = ohlcBuckets(s, 150, 650, 10);
    const common = a.i.filter((i) => b.i.includes(i));
    assert.ok(common.length >= 40);
    for (const i of common) assert.equal(a.high[a.i.indexOf(i)], b.high[b.i.indexOf(i)]);
  });

  it("M4 keeps every bucket's first, last, min and max of each line (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 300 }),
        (n, seed, points) => {
          const s = randomSeries(seed, n, 0.3);
          const size = bucketSize(0, n, points);
          const idx = m4Indices([s.equity, s.drawdown], 0, n, size);
          for (let k = 1; k < idx.length; k++) assert.ok(idx[k]! > idx[k - 1]!, 'ascending, no duplicates');
          assert.ok(idx.length <= 6 * Math.ceil(n / size));
          for (let a = 0; a < n; a += size) {
            const end = Math.min(n, a + size);
            const inB = idx.filter((i) => i >= a && i < end);
            assert.ok(inB.includes(a) && inB.includes(end - 1));
            for (const col of [s.equity, s.drawdown]) {
              const vals = Array.from(col.subarray(a, end));
              assert.equal(Math.max(...inB.map((i) => col[i]!)), Math.max(...vals));
              assert.equal(Math.min(...inB.map((i) => col[i]!)), Math.min(...vals));
            }
          }
        },
      ),
      { numRuns: 100, seed: 11 },
    );
  });
});
