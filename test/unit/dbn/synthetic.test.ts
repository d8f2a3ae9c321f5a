// Synthetic byte cases no fixture has: control records in v1 and v2+, ts_out, odd alignment,
// many zstd frames, every chunk boundary, batching order.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import {
  encodeMetadata,
  writeMbp1Record,
  writeTradeRecord,
  type DbnMetadataInput,
  type Mbp1RecordInput,
  type TradeRecordInput,
} from '../../../src/engine/dbn/encoder.ts';
import { decodeFile, decodeStream, readMetadata } from '../../../src/engine/dbn/decoder.ts';
import { chunked, decodeAll, fixtureBytes, prng } from './helpers.ts';

const META: Omit<DbnMetadataInput, 'version'> = {
  dataset: 'XNAS.ITCH',
  schema: null,
  start: 1700000000000000000n,
  end: null,
  stypeIn: 1,
  stypeOut: 0,
  symbols: ['AAPL'],
  mappings: [{ rawSymbol: 'AAPL', intervals: [{ startDate: 20231114, endDate: 20231115, symbol: '38' }] }],
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A record with the common header filled; `fill(view)` writes the body at brief offsets. */
function rec(size: number, rtype: number, instrumentId: number, tsEvent: bigint, fill: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b[0] = size / 4;
  b[1] = rtype;
  v.setUint16(2, 2, true);
  v.setUint32(4, instrumentId, true);
  v.setBigUint64(8, tsEvent, true);
  fill(v, b);
  return b;
}
const ascii = (b: Uint8Array, off: number, s: string) => {
  for (let i = 0; i < s.length; i++) b[off + i] = s.charCodeAt(i);
};

function trade(i: number): TradeRecordInput {
  return {
    publisherId: 1,
    instrumentId: 5482 + (i % 3),
    tsEvent: 1700000000000000000n + BigInt(i) * 1000003n,
    price: (4500n + BigInt(i)) * 250000000n - (i % 2 ? 2n ** 40n : 0n),
    size: 1 + i,
    action: 84,
    side: i % 2 ? 65 : 66,
    flags: 129,
    depth: 0,
    tsRecv: 1700000000000000000n + BigInt(i) * 1000003n + 777n,
    tsInDelta: -5 + i,
    sequence: 0xfffffff0 + i,
  };
}
function quote(i: number): Mbp1RecordInput {
  return {
    ...trade(i),
    bidPx: i === 1 ? 9223372036854775807n : 4499750000000n,
    askPx: 4500250000000n + BigInt(i),
    bidSz: i,
    askSz: 2 * i,
    bidCt: 3,
    askCt: 0xffffffff,
  };
}
function encodeRecords(inputs: ({ t: TradeRecordInput } | { q: Mbp1RecordInput })[], tsOut = false): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const x of inputs) {
    const size = ('t' in x ? 48 : 80) + (tsOut ? 8 : 0);
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    if ('t' in x) writeTradeRecord(v, 0, x.t);
    else writeMbp1Record(v, 0, x.q);
    if (tsOut) {
      b[0] = size / 4;
      v.setBigUint64(size - 8, 1700000000000000999n, true);
    }
    parts.push(b);
  }
  return concat(...parts);
}
const expectRow = (r: TradeRecordInput) => ({
  publisherId: r.publisherId,
  instrumentId: r.instrumentId,
  tsEvent: r.tsEvent,
  tsRecv: r.tsRecv,
  price: Number(r.price),
  size: r.size,
  action: String.fromCharCode(r.action),
  side: String.fromCharCode(r.side),
  flags: r.flags,
  depth: r.depth,
  tsInDelta: r.tsInDelta,
  sequence: r.sequence,
});

describe('dbn synthetic streams', () => {
  for (const version of [1, 2, 3] as const) {
    it(`v${version}: symbol-mapping, error and system records decode with their v${version === 1 ? 1 : 2} layouts`, async () => {
      const v1 = version === 1;
      const sm = v1
        ? rec(80, 0x16, 38, 5n, (v, b) => {
            ascii(b, 16, 'AAPL');
            ascii(b, 38, 'AAPL.XNAS');
            v.setBigUint64(64, 100n, true);
            v.setBigUint64(72, 18446744073709551615n, true);
          })
        : rec(176, 0x16, 38, 5n, (v, b) => {
            b[16] = 1;
            ascii(b, 17, 'AAPL');
            b[88] = 0;
            ascii(b, 89, '38');
            v.setBigUint64(160, 100n, true);
            v.setBigUint64(168, 200n, true);
          });
      const er = v1
        ? rec(80, 0x15, 0, 6n, (_v, b) => {
            ascii(b, 16, 'x'.repeat(63));
          })
        : rec(320, 0x15, 0, 6n, (_v, b) => {
            ascii(b, 16, 'Auth failed');
            b[318] = 1;
            b[319] = 1;
          });
      const sy = v1
        ? rec(80, 0x17, 0, 7n, (_v, b) => {
            ascii(b, 16, 'Heartbeat');
          })
        : rec(320, 0x17, 0, 7n, (_v, b) => {
            ascii(b, 16, 'y'.repeat(302));
            b[319] = 0;
          });
      const d = await decodeAll(concat(encodeMetadata({ ...META, version }), sm, er, sy));
      assert.deepEqual(d.summary.recordCounts, { 0x15: 1, 0x16: 1, 0x17: 1 });
      const [a, b, c] = d.records;
      if (v1) {
        assert.deepEqual(a, {
          hd: { ts_event: '5', rtype: 22, publisher_id: 2, instrument_id: 38 },
          stype_in_symbol: 'AAPL',
          stype_out_symbol: 'AAPL.XNAS',
          start_ts: '100',
          end_ts: '18446744073709551615',
        });
        assert.deepEqual(b, { hd: { ts_event: '6', rtype: 21, publisher_id: 2, instrument_id: 0 }, err: 'x'.repeat(63) });
        assert.deepEqual(c, { hd: { ts_event: '7', rtype: 23, publisher_id: 2, instrument_id: 0 }, msg: 'Heartbeat' });
      } else {
        assert.deepEqual(a, {
          hd: { ts_event: '5', rtype: 22, publisher_id: 2, instrument_id: 38 },
          stype_in: 1,
          stype_in_symbol: 'AAPL',
          stype_out: 0,
          stype_out_symbol: '38',
          start_ts: '100',
          end_ts: '200',
        });
        assert.deepEqual(b, {
          hd: { ts_event: '6', rtype: 21, publisher_id: 2, instrument_id: 0 },
          err: 'Auth failed',
          code: 1,
          is_last: 1,
        });
        assert.deepEqual(c, { hd: { ts_event: '7', rtype: 23, publisher_id: 2, instrument_id: 0 }, msg: 'y'.repeat(302), code: 0 });
      }
    });
  }

  it('ts_out = 1: every record carries ts_out; columns skip it, objects show it', async () => {
    const bytes = concat(
      encodeMetadata({ ...META, version: 3, tsOut: true }),
      encodeRecords([{ t: trade(0) }, { q: quote(1) }, { t: trade(2) }], true),
    );
    const d = await decodeAll(bytes);
    assert.equal(d.summary.metadata!.tsOut, true);
    assert.deepEqual(d.trades, [expectRow(trade(0)), expectRow(trade(2))]);
    assert.deepEqual(
      d.mbp1.map((r) => [r.sequence, r.bidPx, r.askPx]),
      [[quote(1).sequence, NaN, 4500250000001]],
    );
    assert.deepEqual(
      d.records.map((r) => r.ts_out),
      ['1700000000000000999', '1700000000000000999', '1700000000000000999'],
    );
    assert.equal(d.records[1]!.levels instanceof Array, true);
    // Without ts_out in the metadata, a 48-byte trade with ts_out is too short: the size check uses 56.
    const bad = concat(encodeMetadata({ ...META, version: 3, tsOut: true }), encodeRecords([{ t: trade(0) }]));
    await assert.rejects(decodeAll(bad), /at least 56 bytes for a mbp-0 record \(rtype 0\), found 48 bytes/);
  });

  it('v2 metadata of length 345 puts records at odd offsets; values are exact, batches keep stream order', async () => {
    const meta = encodeMetadata({
      ...META,
      version: 2,
      symbols: ['ESH1'],
      mappings: [{ rawSymbol: 'ESH1', intervals: [{ startDate: 20201228, endDate: 20201229, symbol: '5482' }] }],
    });
    assert.equal(meta.length, 353);
    const inputs = [{ t: trade(0) }, { t: trade(1) }, { q: quote(2) }, { q: quote(3) }, { t: trade(4) }];
    const bytes = concat(meta, encodeRecords(inputs));
    for (const misalign of [0, 1, 2, 3]) {
      const d = await decodeAll(chunked(bytes, [bytes.length], misalign));
      assert.deepEqual(d.trades, [expectRow(trade(0)), expectRow(trade(1)), expectRow(trade(4))]);
      assert.deepEqual(
        d.mbp1.map((r) => ({ ...r, bidPx: r.bidPx, askPx: r.askPx })),
        [quote(2), quote(3)].map((q) => ({
          ...expectRow(q),
          bidPx: Number(q.bidPx),
          askPx: Number(q.askPx),
          bidSz: q.bidSz,
          askSz: q.askSz,
          bidCt: q.bidCt,
          askCt: q.askCt,
        })),
      );
      assert.deepEqual(d.batches, ['T', 'M', 'T']);
    }
  });

  it('prices: UNDEF_PRICE becomes NaN; negative prices stay exact', async () => {
    const t = { ...trade(0), price: 9223372036854775807n };
    const n = { ...trade(1), price: -1234567890123n };
    const d = await decodeAll(concat(encodeMetadata({ ...META, version: 3 }), encodeRecords([{ t }, { t: n }])));
    assert.deepEqual(
      d.trades.map((r) => r.price),
      [NaN, -1234567890123],
    );
    assert.deepEqual(
      d.records.map((r) => r.price),
      ['9223372036854775807', '-1234567890123'],
    );
  });

  it('batchSize splits columns into full batches; an async sink is awaited before the batch is reused', async () => {
    const inputs = Array.from({ length: 10 }, (_, i) => ({ t: trade(i) }));
    const bytes = concat(encodeMetadata({ ...META, version: 3 }), encodeRecords(inputs));
    const sizes: number[] = [];
    const seqs: number[] = [];
    await decodeStream(
      chunked(bytes, [7, 100]),
      'mem',
      {
        onTrades: async (b) => {
          await new Promise((r) => setTimeout(r, 1));
          sizes.push(b.length);
          for (let i = 0; i < b.length; i++) seqs.push(b.sequence[i]!);
        },
      },
      { batchSize: 3 },
    );
    assert.deepEqual(sizes, [3, 3, 3, 1]);
    assert.deepEqual(
      seqs,
      inputs.map((x) => x.t.sequence),
    );
  });

  it('an AbortSignal stops decoding at the next chunk', async () => {
    const bytes = concat(encodeMetadata({ ...META, version: 3 }), encodeRecords(Array.from({ length: 50 }, (_, i) => ({ t: trade(i) }))));
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(
      decodeStream(
        chunked(bytes, [500]),
        'mem',
        {
          onTrades: (b) => {
            seen += b.length;
            if (seen >= 4) ac.abort();
          },
        },
        { batchSize: 4, signal: ac.signal },
      ),
      (e: unknown) => e instanceof Error && e.name === 'AbortError',
    );
    assert.ok(seen < 50, `stopped early (${seen})`);
  });

  it('readMetadata decompresses only a prefix: a zstd file truncated after the metadata still yields it', async () => {
    const body = encodeRecords(Array.from({ length: 40000 }, (_, i) => ({ t: trade(i) })));
    const z = new Uint8Array(zstdCompressSync(concat(encodeMetadata({ ...META, version: 3 }), body)));
    const dir = mkdtempSync(join(tmpdir(), 'btnb-dbn-meta-'));
    try {
      const p = join(dir, 'cut.dbn.zst');
      writeFileSync(p, z.subarray(0, Math.floor(z.length / 2)));
      const m = await readMetadata(p);
      assert.deepEqual(m.symbols, ['AAPL']);
      await assert.rejects(decodeFile(p, {}), /the rest of the zstd frame/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unknown rtypes are skipped by their length and counted', async () => {
    const unk = rec(24, 0x7e, 1, 1n, () => {});
    const d = await decodeAll(
      concat(encodeMetadata({ ...META, version: 3 }), encodeRecords([{ t: trade(0) }]), unk, encodeRecords([{ t: trade(1) }])),
    );
    assert.equal(d.summary.skippedUnknown, 1);
    assert.deepEqual(d.summary.recordCounts, { 0: 2, 0x7e: 1 });
    assert.equal(d.trades.length, 2);
    assert.deepEqual(
      d.records.map((r) => r.hd.rtype),
      [0, 0],
      'no object for the unknown record',
    );
  });

  it('fragments: trades without metadata, with and without fragmentVersion', async () => {
    const bytes = encodeRecords([{ t: trade(0) }, { t: trade(1) }]);
    const inferred = await decodeAll(bytes);
    assert.equal(inferred.summary.fragment, true);
    assert.equal(inferred.summary.version, null);
    assert.deepEqual(inferred.trades, [expectRow(trade(0)), expectRow(trade(1))]);
    const given = await decodeAll(bytes, { fragmentVersion: 2 });
    assert.equal(given.summary.version, 2);
    // a v3 statistics fragment (80-byte records) is recognised by its size
    const stats = fixtureBytes('test_data.statistics.v3.dbn.zst').subarray(128);
    const st = await decodeAll(stats);
    assert.deepEqual(
      st.records.map((r) => [r.stat_type, r.quantity]),
      [
        [7, '9223372036854775807'],
        [5, '9223372036854775807'],
      ],
    );
  });

  describe('zstd framing', () => {
    const plain = concat(
      encodeMetadata({ ...META, version: 3 }),
      encodeRecords(Array.from({ length: 300 }, (_, i) => (i % 3 ? { t: trade(i) } : { q: quote(i) }))),
    );
    let expected: Awaited<ReturnType<typeof decodeAll>>;
    before(async () => {
      expected = await decodeAll(plain);
    });

    it('300 concatenated frames (one per cut at random offsets), plus skippable frames, decode like the raw bytes', async () => {
      const rnd = prng(7);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < plain.length;) {
        const n = 1 + Math.floor(rnd() * 80);
        frames.push(new Uint8Array(zstdCompressSync(plain.subarray(i, i + n))));
        if (frames.length % 50 === 0) frames.push(Uint8Array.from([0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]));
        i += n;
      }
      assert.ok(frames.length > 300);
      const z = concat(...frames);
      for (const impl of ['native', 'native-stream'] as const) {
        const d = await decodeAll(chunked(z, [z.length]), { zstd: impl });
        assert.deepEqual(d.records, expected.records, impl);
        assert.deepEqual(d.trades, expected.trades);
        assert.equal(d.summary.bytes, plain.length);
        assert.equal(d.summary.compressedBytes, z.length);
      }
    });

    it('a frame without a content size (zstd CLI reading a pipe), with checksum', async () => {
      const z = new Uint8Array(execFileSync('zstd', ['-q', '-c', '--no-content-size', '-C'], { input: plain }));
      assert.equal(z[4]! >> 6, 0, 'frame header: no content-size field');
      for (const impl of ['native', 'native-stream'] as const) {
        const d = await decodeAll(chunked(z, [13, 1, 4096]), { zstd: impl });
        assert.deepEqual(d.records, expected.records, impl);
      }
    });
  });

  describe('chunk boundaries at every byte offset', () => {
    const small = concat(fixtureBytes('test_data.tbbo.dbn'));
    const mixed = concat(
      encodeMetadata({ ...META, version: 2 }),
      encodeRecords([{ t: trade(0) }, { q: quote(1) }, { t: trade(2) }]),
      rec(24, 0x7e, 1, 1n, () => {}),
      rec(320, 0x17, 0, 7n, (_v, b) => {
        ascii(b, 16, 'Heartbeat');
      }),
      encodeRecords([{ t: trade(3) }]),
    );
    for (const [name, bytes] of [
      ['tbbo.dbn', small],
      ['mixed v2 stream', mixed],
    ] as const) {
      it(`${name}: 1 byte at a time, every 2-way split, and random chunkings give identical output`, async () => {
        const whole = await decodeAll(bytes);
        const one = await decodeAll(chunked(bytes, [1]));
        assert.deepEqual(one.records, whole.records);
        assert.deepEqual(one.trades, whole.trades);
        assert.deepEqual(one.mbp1, whole.mbp1);
        assert.deepEqual(one.summary, whole.summary);
        for (let cut = 1; cut < bytes.length; cut++) {
          const d = await decodeAll(chunked(bytes, [cut, bytes.length]), { objects: false });
          assert.deepEqual(d.trades, whole.trades, `cut at ${cut}`);
          assert.deepEqual(d.mbp1, whole.mbp1, `cut at ${cut}`);
          assert.equal(d.summary.records, whole.summary.records);
        }
        const rnd = prng(99);
        for (let k = 0; k < 50; k++) {
          const sizes = Array.from({ length: 20 }, () => 1 + Math.floor(rnd() * 200));
          const d = await decodeAll(chunked(bytes, sizes, k % 4));
          assert.deepEqual(d.records, whole.records);
          assert.deepEqual(d.trades, whole.trades);
        }
      });
    }
    it('zstd input cut at every compressed byte offset', async () => {
      const z = new Uint8Array(zstdCompressSync(mixed));
      const whole = await decodeAll(mixed);
      for (let cut = 1; cut < z.length; cut++) {
        const d = await decodeAll(chunked(z, [cut, z.length]));
        assert.deepEqual(d.records, whole.records, `cut at ${cut}`);
      }
    });
  });
});
