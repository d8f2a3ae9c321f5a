// The merge hands on maximal runs: across the trades and tbbo lanes a run ends only at the end
// of the minute holding the other lane's head (one tbbo per trade at equal ts_recv would
// otherwise give one-record runs), within a lane at the next head of the same lane. Run ends
// are found by binary search over the sorted batch; this pins their boundaries.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeSources, type MergeSource } from '../../../src/engine/bars/sourceMerge.ts';
import { withTempDir } from '../../../src/engine/io/files.ts';
import { dbnBytes, MIN, S, T0, type QuoteSpec } from './dbnBuild.ts';

function source(d: string, name: string, schema: 'trades' | 'tbbo', recs: QuoteSpec[]): MergeSource {
  const bytes = dbnBytes({ schema }, recs);
  writeFileSync(join(d, name), bytes);
  return { path: join(d, name), name, sha256: createHash('sha256').update(bytes).digest('hex'), schema, recordsOffset: 0 };
}

/** `perMinute` records in each of `minutes` minutes, one per second; price = running index. */
function recs(minutes: number, perMinute: number, offsetNs = 0n): QuoteSpec[] {
  const out: QuoteSpec[] = [];
  for (let m = 0; m < minutes; m++) {
    for (let k = 0; k < perMinute; k++)
      out.push({
        ts: T0 + BigInt(m) * MIN + BigInt(k) * S + offsetNs,
        px: out.length + 1,
        sz: 1,
        side: 'B',
        bid: 1,
        ask: 2,
        bsz: 1,
        asz: 1,
      });
  }
  return out;
}

describe('merge runs', () => {
  it("trades + tbbo at equal ts_recv: runs reach the end of the other lane's head minute, at any batch size", async () => {
    await withTempDir(async (d) => {
      const srcs = [source(d, 't', 'trades', recs(6, 40)), source(d, 'q', 'tbbo', recs(6, 40))];
      // (lane, first record's minute, length) per run. The tbbo source sorts first (equal first
      // ts_recv: by SHA-256). Pinned from the linear-scan version of the merge (identical).
      const expected: Record<number, string> = {
        16384: '1:0:40 0:0:80 1:1:80 0:2:80 1:3:80 0:4:80 1:5:40',
        25: '1:0:25 0:0:25 1:0:15 0:0:25 1:1:10 1:1:25 0:1:25 1:1:5 0:1:25 1:2:20 1:2:20 0:2:25 1:3:5 1:3:25 0:3:25 1:3:10 0:3:25 1:4:15 1:4:25 0:4:25 1:5:25 0:5:25 1:5:15 0:5:15',
      };
      assert.ok(srcs[1]!.sha256 < srcs[0]!.sha256, 'fixture: tbbo sorts first');
      for (const batchSize of [16384, 25]) {
        const runs: string[] = [];
        const order: [number, number][] = []; // (lane, minute) per record, in merge order
        await mergeSources(
          srcs,
          (i, b, from, to) => {
            runs.push(`${i}:${(b.tsRecv[from]! - T0) / MIN}:${to - from}`);
            for (let k = from; k < to; k++) order.push([i, Number((b.tsRecv[k]! - T0) / MIN)]);
          },
          { batchSize },
        );
        assert.equal(runs.join(' '), expected[batchSize], `batch ${batchSize}`);
        // Every record of minute m comes after every record of the other lane from minutes < m.
        order.forEach(([lane, m], p) => {
          for (let q = p + 1; q < order.length; q++) assert.ok(!(order[q]![0] !== lane && order[q]![1] < m), `record ${p}`);
        });
      }
    });
  });

  it('two sources in one lane: a run stops at the other source head; ties go by priority', async () => {
    await withTempDir(async (d) => {
      // a: seconds 0..9; b: seconds 5, 5 (tie with a's 5th), 20. One minute, one lane.
      const a = recs(1, 10);
      const b: QuoteSpec[] = [5n, 5n, 20n].map((s, k) => ({
        ts: T0 + s * S,
        px: 100 + k,
        sz: 1,
        side: 'B',
        bid: 1,
        ask: 2,
        bsz: 1,
        asz: 1,
      }));
      const srcs = [source(d, 'a', 'trades', a), source(d, 'b', 'trades', b)];
      const runs: number[][] = [];
      await mergeSources(srcs, (_i, bt, from, to) => {
        runs.push(Array.from({ length: to - from }, (_, k) => bt.price[from + k]! / 1e9));
      });
      // a starts first (priority 0): its run takes seconds 0..5 (the tie at 5 included), then b's two 5s, then a's 6..9, then b's 20.
      assert.deepEqual(runs, [[1, 2, 3, 4, 5, 6], [100, 101], [7, 8, 9, 10], [102]]);
    });
  });
});
