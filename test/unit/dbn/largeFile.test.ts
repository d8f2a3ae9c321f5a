// decodeFile over files larger than several read chunks (4 MiB): raw and native-zstd input both
// reuse two alternating read buffers, so a buffer refilled too early would corrupt records.
// Every record's fields are checked against the values the generator wrote.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import type { Mbp1Columns } from '../../../src/engine/dbn/columns.ts';
import { decodeFile } from '../../../src/engine/dbn/decoder.ts';
import { encodeMetadata, writeMbp1Record, type Mbp1RecordInput } from '../../../src/engine/dbn/encoder.ts';
import { SCHEMA, STYPE } from '../../../src/engine/dbn/enums.ts';
import { prng } from './helpers.ts';

const N = 520_000; // 80-byte records: ~41.6 MB raw, ~18 MB zstd (random fields)
/** A 64 KiB first read, then two 4 MiB buffers alternate: the 5th read is the first to refill a used buffer. */
const MIN_INPUT = 64 * 1024 + 4 * 4 * 2 ** 20;

function build(): { bytes: Uint8Array; size: Uint32Array; seq: Uint32Array; ask: Float64Array } {
  const meta = encodeMetadata({
    version: 3,
    dataset: 'GLBX.MDP3',
    schema: SCHEMA.tbbo,
    start: 1704205800000000000n,
    end: 1704292200000000000n,
    limit: 0n,
    stypeIn: STYPE.raw_symbol,
    stypeOut: STYPE.instrument_id,
    symbols: ['ESH4'],
    mappings: [{ rawSymbol: 'ESH4', intervals: [{ startDate: 20240102, endDate: 20240103, symbol: '5002' }] }],
  });
  const out = new Uint8Array(meta.length + N * 80);
  out.set(meta);
  const view = new DataView(out.buffer);
  const rnd = prng(7);
  const size = new Uint32Array(N);
  const seq = new Uint32Array(N);
  const ask = new Float64Array(N);
  const r: Mbp1RecordInput = {
    publisherId: 1,
    instrumentId: 5002,
    tsEvent: 0n,
    price: 0n,
    size: 0,
    action: 84,
    side: 65,
    flags: 0,
    depth: 0,
    tsRecv: 0n,
    tsInDelta: 0,
    sequence: 0,
    bidPx: 0n,
    askPx: 0n,
    bidSz: 1,
    askSz: 1,
    bidCt: 1,
    askCt: 1,
  };
  let o = meta.length;
  let ts = 1704205800000000000n;
  for (let i = 0; i < N; i++) {
    ts += 1000n;
    size[i] = 1 + Math.floor(rnd() * 1e9);
    seq[i] = Math.floor(rnd() * 4294967296);
    ask[i] = Math.floor(rnd() * 2 ** 40);
    r.tsEvent = ts;
    r.tsRecv = ts;
    r.size = size[i]!;
    r.sequence = seq[i]!;
    r.bidSz = Math.floor(rnd() * 4294967296);
    r.askSz = Math.floor(rnd() * 4294967296);
    r.tsInDelta = Math.floor(rnd() * 2 ** 31);
    r.price = BigInt(ask[i]!) - 1000n;
    r.bidPx = BigInt(ask[i]!) - 250n;
    r.askPx = BigInt(ask[i]!);
    o = writeMbp1Record(view, o, r);
  }
  return { bytes: out, size, seq, ask };
}

describe('dbn decodeFile: files spanning many read chunks', function () {
  this.timeout(60_000);
  let dir = '';
  const data = build();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-dbn-large-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['raw', 'zstd native', 'zstd native-stream'] as const) {
    it(`${kind}: every record's size, sequence and prices equal what was written`, async () => {
      const path = join(dir, kind === 'raw' ? 'big.dbn' : `big-${kind.split(' ')[1]}.dbn.zst`);
      const bytes = kind === 'raw' ? data.bytes : new Uint8Array(zstdCompressSync(data.bytes));
      assert.ok(bytes.length > MIN_INPUT, `input of ${bytes.length} bytes needs more than ${MIN_INPUT} to refill a read buffer`);
      writeFileSync(path, bytes);
      let n = 0;
      let bad = -1;
      const s = await decodeFile(
        path,
        {
          onMbp1(b: Mbp1Columns) {
            for (let i = 0; i < b.length; i++, n++) {
              if (
                bad < 0 &&
                (b.size[i] !== data.size[n] ||
                  b.sequence[i] !== data.seq[n] ||
                  b.askPx[i] !== data.ask[n] ||
                  b.bidPx[i] !== data.ask[n]! - 250 ||
                  b.price[i] !== data.ask[n]! - 1000)
              )
                bad = n;
            }
          },
        },
        { zstd: kind === 'raw' ? undefined : (kind.split(' ')[1] as 'native' | 'native-stream') },
      );
      assert.equal(bad, -1, `first wrong record: ${bad}`);
      assert.equal(n, N);
      assert.equal(s.records, N);
      assert.equal(s.bytes, data.bytes.length);
    });
  }
});
