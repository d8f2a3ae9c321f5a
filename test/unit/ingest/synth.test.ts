import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { zstdDecompressSync } from 'node:zlib';
import { decodeFile, readMetadata } from '../../../src/engine/dbn/decoder.ts';
import type { Mbp1Columns, TradeColumns } from '../../../src/engine/dbn/columns.ts';
import { synthesize } from '../../../src/engine/ingest/synth.ts';
import { withTempDir } from '../../../src/engine/io/files.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';

/** Copies the columns we check out of the reused decoder batches. */
async function readAll(path: string) {
  const ts: bigint[] = [],
    px: number[] = [],
    sz: number[] = [],
    side: number[] = [],
    seq: number[] = [],
    ids: number[] = [];
  const bid: number[] = [],
    ask: number[] = [];
  await decodeFile(path, {
    onTrades: (b: TradeColumns) => {
      for (let i = 0; i < b.length; i++) {
        ts.push(b.tsRecv[i]!);
        px.push(b.price[i]!);
        sz.push(b.size[i]!);
        side.push(b.side[i]!);
        seq.push(b.sequence[i]!);
        ids.push(b.instrumentId[i]!);
      }
    },
    onMbp1: (b: Mbp1Columns) => {
      for (let i = 0; i < b.length; i++) {
        ts.push(b.tsRecv[i]!);
        px.push(b.price[i]!);
        sz.push(b.size[i]!);
        side.push(b.side[i]!);
        seq.push(b.sequence[i]!);
        ids.push(b.instrumentId[i]!);
        bid.push(b.bidPx[i]!);
        ask.push(b.askPx[i]!);
      }
    },
  });
  return { ts, px, sz, side, seq, ids, bid, ask };
}

describe('synthetic data (btnb data synth)', () => {
  it('sfc32 reproduces its stream from a seed and differs across seeds', () => {
    const a = new Sfc32(7),
      b = new Sfc32(7),
      c = new Sfc32(8);
    const xa = Array.from({ length: 5 }, () => a.u32());
    assert.deepEqual(
      xa,
      Array.from({ length: 5 }, () => b.u32()),
    );
    assert.notDeepEqual(
      xa,
      Array.from({ length: 5 }, () => c.u32()),
    );
  });

  it('same seed → byte-identical files; another seed → different bytes; .zst decompresses to the raw file', async () => {
    await withTempDir(async (dir) => {
      const opts = { symbol: 'DEMO', start: '2024-03-04', days: 2, seed: 7, tradesPerDay: 3000 };
      const a = await synthesize({ ...opts, outDir: `${dir}/a` });
      const b = await synthesize({ ...opts, outDir: `${dir}/b` });
      const c = await synthesize({ ...opts, seed: 8, outDir: `${dir}/c` });
      const raw = await synthesize({ ...opts, outDir: `${dir}/raw`, compress: false });
      for (let i = 0; i < 2; i++) {
        assert.ok(readFileSync(a.files[i]!).equals(readFileSync(b.files[i]!)), `${a.files[i]} differs between runs`);
        assert.ok(!readFileSync(a.files[i]!).equals(readFileSync(c.files[i]!)));
        assert.ok(zstdDecompressSync(readFileSync(a.files[i]!)).equals(readFileSync(raw.files[i]!)));
      }
      assert.match(a.files[0]!, /DEMO\.2024-03-04\.2d\.seed7\.trades\.dbn\.zst$/);
      assert.match(a.files[1]!, /DEMO\.2024-03-04\.2d\.seed7\.tbbo\.dbn\.zst$/);
    });
  });

  it('realistic session: XNYS days only, RTH U-shape plus a few off-hours prints, ticks, spreads 1–5, aggressors consistent with the BBO, tbbo one-for-one with trades', async () => {
    await withTempDir(async (dir) => {
      // Friday 2024-03-08, then the weekend is skipped: Monday 03-11 (DST from 03-10: RTH 13:30 UTC).
      const r = await synthesize({ symbol: 'ABC', start: '2024-03-08', days: 2, seed: 3, outDir: dir, tradesPerDay: 20000 });
      assert.deepEqual(r.tradingDays, ['2024-03-08', '2024-03-11']);
      const meta = await readMetadata(r.files[0]!);
      assert.equal(meta.dataset, 'SYNTH');
      assert.equal(meta.version, 3);
      assert.equal(meta.schema, 4);
      assert.equal((await readMetadata(r.files[1]!)).schema, 3);
      assert.equal(meta.mappings[0]!.rawSymbol, 'ABC');
      const t = await readAll(r.files[0]!);
      const q = await readAll(r.files[1]!);
      assert.equal(t.ts.length, r.trades);
      assert.ok(r.trades > 36000 && r.trades < 44000, `about 2 × 20000 trades, got ${r.trades}`);
      // Every record is mapped: its instrument id is the one of its UTC date's interval.
      const byDate = new Map(meta.mappings[0]!.intervals.map((iv) => [iv.startDate, Number(iv.symbol)]));
      let rth = 0,
        first30 = 0,
        mid30 = 0,
        last30 = 0;
      for (let i = 0; i < t.ts.length; i++) {
        if (i > 0) assert.ok(t.ts[i]! >= t.ts[i - 1]!, 'sorted by ts_recv');
        const d = new Date(Number(t.ts[i]! / 1_000_000n));
        const ymd = d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
        assert.equal(t.ids[i], byDate.get(ymd));
        assert.equal(t.px[i]! % 10_000_000, 0, 'price on the 0.01 tick');
        // New York minutes after midnight: EST on 03-08 (UTC−5), EDT on 03-11 (UTC−4).
        const off = ymd <= 20240309 ? 5 : 4;
        const m = ((d.getUTCHours() - off + 24) % 24) * 60 + d.getUTCMinutes();
        assert.ok(m >= 240 && m < 1200, `04:00–20:00 New York, got minute ${m}`);
        if (m >= 570 && m < 960) rth++;
        if (m >= 570 && m < 600) first30++;
        if (m >= 750 && m < 780) mid30++;
        if (m >= 930 && m < 960) last30++;
        // tbbo one-for-one.
        assert.equal(q.ts[i], t.ts[i]);
        assert.equal(q.px[i], t.px[i]);
        assert.equal(q.sz[i], t.sz[i]);
        assert.equal(q.side[i], t.side[i]);
        assert.equal(q.seq[i], t.seq[i]);
        const bid = q.bid[i]!,
          ask = q.ask[i]!;
        if (bid === bid && ask === ask) {
          const ticks = (ask - bid) / 10_000_000;
          assert.ok(Number.isInteger(ticks) && ticks >= 1 && ticks <= 5, `spread ${ticks} ticks`);
          if (t.side[i] === 0x42) assert.equal(t.px[i], ask, 'a buy aggressor trades at the ask');
          else if (t.side[i] === 0x41) assert.equal(t.px[i], bid, 'a sell aggressor trades at the bid');
          else assert.ok(t.px[i]! >= bid && t.px[i]! <= ask, 'N trades inside the spread');
        } else {
          assert.ok(m < 570 || m >= 960, 'empty book sides only off-hours');
          assert.equal(t.side[i], bid === bid ? 0x41 : 0x42, 'the trade hits the side that exists');
        }
      }
      assert.ok(rth / t.ts.length > 0.98 && rth < t.ts.length, `mostly RTH with some off-hours prints: ${rth}/${t.ts.length}`);
      assert.ok(first30 > 1.5 * mid30 && last30 > 1.5 * mid30, `U shape: open ${first30}, midday ${mid30}, close ${last30}`);
      const sides = new Set(t.side);
      assert.deepEqual([...sides].sort(), [0x41, 0x42, 0x4e]);
    });
  });

  it('refuses bad options with the option named', async () => {
    await assert.rejects(synthesize({ symbol: 'X', start: '2024-3-4', days: 1, seed: 1, outDir: '/nonexistent' }), /--start '2024-3-4'/);
    await assert.rejects(synthesize({ symbol: 'X', start: '2024-03-04', days: 0, seed: 1, outDir: '/nonexistent' }), /--days/);
    await assert.rejects(synthesize({ symbol: 'A B', start: '2024-03-04', days: 1, seed: 1, outDir: '/nonexistent' }), /--symbol 'A B'/);
  });
});
