/**
 * Deterministic synthetic trades (DBN v3, one instrument) for benchmarks: a random-walk price on
 * a 0.25 tick, increasing ts_recv, realistic sizes/sides, written with the project's encoder in
 * blocks so memory stays flat. Compresses like real trades (not a run of zeros).
 */
import { uniformSource } from '../../src/engine/util/prng.ts';
import { open } from 'node:fs/promises';
import { encodeMetadata, writeTradeRecord, type TradeRecordInput } from '../../src/engine/dbn/encoder.ts';
import { SCHEMA, STYPE } from '../../src/engine/dbn/enums.ts';

export async function writeSyntheticTrades(path: string, count: number, seed = 42): Promise<void> {
  const start = 1704205800000000000n; // 2024-01-02T14:30:00Z
  const meta = encodeMetadata({
    version: 3,
    dataset: 'GLBX.MDP3',
    schema: SCHEMA.trades,
    start,
    end: start + 86400000000000n,
    limit: 0n,
    stypeIn: STYPE.raw_symbol,
    stypeOut: STYPE.instrument_id,
    symbols: ['ESH4'],
    mappings: [{ rawSymbol: 'ESH4', intervals: [{ startDate: 20240102, endDate: 20240103, symbol: '5002' }] }],
  });
  const fh = await open(path, 'w');
  try {
    await fh.write(meta);
    const block = 65536;
    const buf = new Uint8Array(block * 48);
    const view = new DataView(buf.buffer);
    const rnd = uniformSource(seed);
    let priceTicks = 4_800 * 4; // 4800.00 in 0.25 ticks
    let ts = start;
    const r: TradeRecordInput = {
      publisherId: 1,
      instrumentId: 5002,
      tsEvent: 0n,
      price: 0n,
      size: 1,
      action: 84,
      side: 65,
      flags: 0,
      depth: 0,
      tsRecv: 0n,
      tsInDelta: 0,
      sequence: 0,
    };
    for (let done = 0; done < count;) {
      const n = Math.min(block, count - done);
      let o = 0;
      for (let i = 0; i < n; i++) {
        const u = rnd();
        priceTicks += u < 0.3 ? -1 : u > 0.7 ? 1 : 0;
        ts += BigInt(1000 + Math.floor(rnd() * 2_000_000));
        r.tsRecv = ts;
        r.tsEvent = ts - BigInt(10_000 + Math.floor(rnd() * 5000));
        r.price = BigInt(priceTicks) * 250_000_000n;
        r.size = 1 + Math.floor(-Math.log(1 - rnd()) * 3);
        r.side = rnd() < 0.5 ? 65 : 66;
        r.flags = 129;
        r.tsInDelta = 15_000 + Math.floor(rnd() * 10_000);
        r.sequence = done + i + 1;
        o = writeTradeRecord(view, o, r);
      }
      await fh.write(buf.subarray(0, o));
      done += n;
    }
  } finally {
    await fh.close();
  }
}
