// Every fixture decodes; counts (brief §10) and every expected value of brief §11, in every version.
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { DbnError } from '../../../src/engine/dbn/errors.ts';
import { readMetadata } from '../../../src/engine/dbn/decoder.ts';
import { decodeAll, fixturePath, FIXTURES, type Decoded } from './helpers.ts';

const UNDEF_PRICE = '9223372036854775807';
const UNDEF_TS = '18446744073709551615';

/** schema → [records, rtype] (brief §10). */
const COUNTS: Record<string, [number, number]> = {
  'bbo-1m': [4, 0xc4],
  'bbo-1s': [4, 0xc3],
  'cbbo-1s': [2, 0xc0],
  'cmbp-1': [2, 0xb1],
  definition: [2, 0x13],
  imbalance: [2, 0x14],
  mbo: [2, 0xa0],
  'mbp-1': [2, 1],
  'mbp-10': [2, 10],
  'ohlcv-1d': [0, 0x23],
  'ohlcv-1h': [2, 0x22],
  'ohlcv-1m': [2, 0x21],
  'ohlcv-1s': [2, 0x20],
  statistics: [2, 0x18],
  status: [4, 0x12],
  tbbo: [2, 1],
  trades: [2, 0],
};

const files = readdirSync(FIXTURES).sort();
const versionsOf = (schema: string) =>
  files.filter((f) => f.startsWith(`test_data.${schema}.`) && !f.endsWith('.dbz') && !f.includes('.frag'));
const cache = new Map<string, Promise<Decoded>>();
const dec = (f: string) => {
  if (!cache.has(f)) cache.set(f, decodeAll(fixturePath(f)));
  return cache.get(f)!;
};

describe('dbn fixtures', () => {
  it('the fixture set is complete (81 files)', () => {
    assert.equal(files.length, 81);
  });

  for (const f of files) {
    if (f.endsWith('.dbz')) {
      it(`${f}: rejected with a clear DBZ message`, async () => {
        await assert.rejects(decodeAll(fixturePath(f)), (e: unknown) => {
          assert.ok(e instanceof DbnError);
          assert.equal(e.offset, 0);
          assert.match(e.message, /legacy DBZ file, which is not supported/);
          assert.ok(e.message.startsWith(fixturePath(f)));
          return true;
        });
      });
      continue;
    }
    const schema = f.startsWith('multi-frame') ? 'definition' : f.split('.')[1]!;
    const [count, rtype] = f.startsWith('multi-frame') ? [8, 0x13] : COUNTS[schema]!;
    it(`${f}: ${count} ${schema} records of rtype ${rtype}`, async () => {
      const d = await dec(f);
      assert.equal(d.summary.records, count);
      assert.equal(d.records.length, count);
      assert.equal(d.summary.skippedUnknown, 0);
      assert.deepEqual(d.summary.recordCounts, count ? { [rtype]: count } : {});
      for (const r of d.records) assert.equal(r.hd.rtype, rtype);
      const version = /\.v(\d)\./.exec(f)?.[1];
      const expectedVersion = version
        ? Number(version)
        : f === 'test_data.definition.dbn.frag.zst'
          ? 2
          : f.startsWith('multi-frame')
            ? 1
            : 2;
      assert.equal(d.summary.version, expectedVersion);
      assert.equal(d.summary.fragment, f.includes('.frag'));
      if (!f.includes('.frag')) assert.equal(d.summary.metadata!.schemaName, schema);
    });
  }

  describe('§10 metadata', () => {
    it('GLBX ESH1 files: dataset, range, limit, stypes, symbols, mapping; lengths 198/345/352', async () => {
      for (const schema of [
        'trades',
        'tbbo',
        'mbp-1',
        'mbp-10',
        'mbo',
        'ohlcv-1s',
        'ohlcv-1m',
        'ohlcv-1h',
        'ohlcv-1d',
        'cbbo-1s',
        'cmbp-1',
        'status',
        'bbo-1s',
        'bbo-1m',
      ]) {
        for (const f of versionsOf(schema)) {
          const m = await readMetadata(fixturePath(f));
          const early = ['status', 'bbo-1s', 'bbo-1m'].includes(schema);
          assert.equal(m.dataset, 'GLBX.MDP3', f);
          assert.equal(m.start, early ? 1609113600000000000n : 1609160400000000000n, f);
          assert.equal(m.end, 1609200000000000000n, f);
          assert.equal(m.limit, early ? 4n : 2n, f);
          assert.equal(m.stypeIn, 1, f);
          assert.equal(m.stypeOut, 0, f);
          assert.equal(m.tsOut, false);
          assert.deepEqual(m.symbols, ['ESH1'], f);
          assert.deepEqual(m.partial, []);
          assert.deepEqual(m.notFound, []);
          assert.equal(m.mappings[0]!.rawSymbol, 'ESH1');
          assert.equal(m.mappings[0]!.intervals[0]!.symbol, '5482');
          assert.equal(m.recordsOffset - 8, { 1: 198, 2: 345, 3: 352 }[m.version], f);
        }
      }
    });
    it('XNAS files: imbalance SPOT with 64 intervals; metadata lengths per version', async () => {
      const lens: Record<string, number> = {
        'definition.v1': 2028,
        'definition.v2': 5164,
        'definition.v3': 5168,
        'imbalance.v1': 2088,
        'imbalance.v2': 5322,
        'imbalance.v3': 5328,
      };
      for (const [k, len] of Object.entries(lens)) {
        const m = await readMetadata(fixturePath(`test_data.${k}.dbn.zst`));
        assert.equal(m.recordsOffset - 8, len, k);
        assert.equal(m.start, 1633305600000000000n);
        assert.equal(m.limit, 2n);
        if (k.startsWith('imbalance')) {
          assert.deepEqual(m.symbols, ['SPOT']);
          assert.equal(m.mappings[0]!.intervals.length, 64);
        }
      }
    });
  });

  describe('§11 expected values', () => {
    const tradeFields = (d: Decoded, rtype: number) => {
      const [a, b] = d.records;
      assert.deepEqual(a!.hd, { ts_event: '1609160400098821953', rtype, publisher_id: 1, instrument_id: 5482 });
      assert.equal(a!.price, '3720250000000');
      assert.equal(a!.size, 5);
      assert.equal(a!.action, 'T');
      assert.equal(a!.side, 'A');
      assert.equal(a!.flags, 129);
      assert.equal(a!.depth, 0);
      assert.equal(a!.ts_recv, '1609160400099150057');
      assert.equal(a!.ts_in_delta, 19251);
      assert.equal(a!.sequence, 1170380);
      assert.equal(b!.hd.ts_event, '1609160400107665963');
      assert.equal(b!.price, '3720250000000');
      assert.equal(b!.size, 21);
      assert.equal(b!.side, 'A');
      assert.equal(b!.flags, 129);
      assert.equal(b!.ts_recv, '1609160400108142648');
      assert.equal(b!.ts_in_delta, 20728);
      assert.equal(b!.sequence, 1170414);
      const rows = rtype === 0 ? d.trades : d.mbp1;
      assert.equal(rows.length, 2);
      assert.deepEqual(
        { ...rows[0]!, bidPx: undefined, askPx: undefined, bidSz: undefined, askSz: undefined, bidCt: undefined, askCt: undefined },
        {
          publisherId: 1,
          instrumentId: 5482,
          tsEvent: 1609160400098821953n,
          tsRecv: 1609160400099150057n,
          price: 3720250000000,
          size: 5,
          action: 'T',
          side: 'A',
          flags: 129,
          depth: 0,
          tsInDelta: 19251,
          sequence: 1170380,
          bidPx: undefined,
          askPx: undefined,
          bidSz: undefined,
          askSz: undefined,
          bidCt: undefined,
          askCt: undefined,
        },
      );
      assert.equal(rows[1]!.tsEvent, 1609160400107665963n);
      assert.equal(rows[1]!.tsRecv, 1609160400108142648n);
      assert.equal(rows[1]!.size, 21);
      assert.equal(rows[1]!.sequence, 1170414);
      assert.equal(rows[0]!.price / 1e9, 3720.25);
    };

    for (const f of versionsOf('trades')) {
      it(`A. ${f}: both trades, as objects and columns`, async () => {
        const d = await dec(f);
        tradeFields(d, 0);
        assert.equal(d.mbp1.length, 0);
      });
    }
    it('A. trades.v3: decompressed size 456, first record at byte 360', async () => {
      const d = await dec('test_data.trades.v3.dbn.zst');
      assert.equal(d.summary.bytes, 456);
      assert.equal(d.summary.metadata!.recordsOffset, 360);
      assert.equal(d.summary.compressedBytes, 175);
    });
    for (const f of versionsOf('tbbo')) {
      it(`B. ${f}: trades as rtype 1 with the book before each trade`, async () => {
        const d = await dec(f);
        tradeFields(d, 1);
        assert.deepEqual(d.records[0]!.levels, [
          { bid_px: '3720250000000', ask_px: '3720500000000', bid_sz: 26, ask_sz: 7, bid_ct: 16, ask_ct: 6 },
        ]);
        assert.deepEqual(d.records[1]!.levels, [
          { bid_px: '3720250000000', ask_px: '3720500000000', bid_sz: 21, ask_sz: 22, bid_ct: 13, ask_ct: 15 },
        ]);
        const [r0, r1] = d.mbp1;
        assert.deepEqual([r0!.bidPx, r0!.askPx, r0!.bidSz, r0!.askSz, r0!.bidCt, r0!.askCt], [3720250000000, 3720500000000, 26, 7, 16, 6]);
        assert.deepEqual(
          [r1!.bidPx, r1!.askPx, r1!.bidSz, r1!.askSz, r1!.bidCt, r1!.askCt],
          [3720250000000, 3720500000000, 21, 22, 13, 15],
        );
        assert.equal(d.summary.metadata!.schemaName, 'tbbo');
      });
    }
    for (const f of versionsOf('mbp-1')) {
      it(`C. ${f}`, async () => {
        const d = await dec(f);
        const [a, b] = d.records;
        assert.deepEqual(a!.hd, { ts_event: '1609160400006001487', rtype: 1, publisher_id: 1, instrument_id: 5482 });
        assert.deepEqual(
          [a!.price, a!.size, a!.action, a!.side, a!.flags, a!.depth, a!.ts_recv, a!.ts_in_delta, a!.sequence],
          ['3720500000000', 1, 'A', 'A', 128, 0, '1609160400006136329', 17214, 1170362],
        );
        assert.deepEqual(a!.levels, [{ bid_px: '3720250000000', ask_px: '3720500000000', bid_sz: 24, ask_sz: 11, bid_ct: 15, ask_ct: 9 }]);
        assert.deepEqual(
          [b!.hd.ts_event, b!.price, b!.size, b!.action, b!.side, b!.flags, b!.ts_recv, b!.ts_in_delta, b!.sequence],
          ['1609160400006146661', '3720500000000', 1, 'A', 'A', 128, '1609160400006246513', 18858, 1170364],
        );
        assert.deepEqual(b!.levels, [{ bid_px: '3720250000000', ask_px: '3720500000000', bid_sz: 24, ask_sz: 12, bid_ct: 15, ask_ct: 10 }]);
        assert.deepEqual(
          d.mbp1.map((r) => [r.tsRecv, r.price, r.bidPx, r.askPx, r.bidSz, r.askSz, r.bidCt, r.askCt]),
          [
            [1609160400006136329n, 3720500000000, 3720250000000, 3720500000000, 24, 11, 15, 9],
            [1609160400006246513n, 3720500000000, 3720250000000, 3720500000000, 24, 12, 15, 10],
          ],
        );
      });
    }
    const P = (x: number) => String(BigInt(x) * 1000000000n);
    const ohlcv: Record<string, [string, number[], number][]> = {
      'ohlcv-1m': [
        ['1609160400000000000', [372025, 372150, 372025, 372100], 353],
        ['1609160460000000000', [372100, 372150, 372100, 372150], 152],
      ],
      'ohlcv-1s': [
        ['1609160400000000000', [372025, 372050, 372025, 372050], 57],
        ['1609160401000000000', [372050, 372050, 372050, 372050], 13],
      ],
      'ohlcv-1h': [
        ['1609160400000000000', [372025, 372350, 372025, 372225], 9385],
        ['1609164000000000000', [372225, 372450, 371600, 371950], 112698],
      ],
    };
    for (const [schema, rows] of Object.entries(ohlcv)) {
      for (const f of versionsOf(schema)) {
        it(`D. ${f}`, async () => {
          const d = await dec(f);
          assert.deepEqual(
            d.records.map((r) => [r.hd.ts_event, [r.open, r.high, r.low, r.close], r.volume]),
            rows.map(([ts, px, vol]) => [ts, px.map(P), String(vol)]),
          );
        });
      }
    }
    for (const f of versionsOf('ohlcv-1d')) {
      it(`D. ${f}: no records`, async () => {
        assert.equal((await dec(f)).summary.records, 0);
      });
    }
    for (const f of [...versionsOf('definition')]) {
      it(`E. ${f}: MSFT definitions`, async () => {
        const d = await dec(f);
        const v3 = f.includes('.v3.');
        for (const [i, r] of d.records.entries()) {
          assert.equal(r.raw_symbol, 'MSFT');
          assert.equal(r.exchange, 'XNAS');
          assert.equal(r.security_update_action, 'A');
          assert.equal(r.min_lot_size_round_lot, 100);
          assert.equal(r.instrument_class, 'K');
          assert.equal(r.strike_price, UNDEF_PRICE);
          assert.equal(r.hd.publisher_id, 2);
          assert.equal(r.hd.instrument_id, i === 0 ? 6819 : 6830);
          assert.equal(r.hd.ts_event, i === 0 ? '1633331241618018154' : '1633417621703109854');
          assert.equal(r.min_price_increment, UNDEF_PRICE);
          assert.equal(r.display_factor, '100000000000000');
          assert.equal(r.expiration, UNDEF_TS);
          assert.equal(r.activation, UNDEF_TS);
          assert.equal(r.group, 'pxnas-1');
          assert.equal(r.match_algorithm, 'F');
          assert.equal(r.user_defined_instrument, 'N');
          assert.equal(r.raw_instrument_id, v3 ? '2147483647' : 2147483647);
          assert.equal(r.maturity_year, 65535);
          assert.equal(r.maturity_month, 255);
          assert.equal(r.currency, '');
        }
        assert.equal(d.records[0]!.ts_recv, '1633331241618029519');
        assert.equal('leg_price' in d.records[0]!, v3);
        assert.equal('trading_reference_price' in d.records[0]!, !v3);
      });
    }
    const frags = files.filter((f) => f.startsWith('test_data.definition') && f.includes('.frag'));
    for (const f of [...frags, 'multi-frame.definition.v1.dbn.frag.zst']) {
      it(`F. ${f}: option definitions without metadata`, async () => {
        const d = await dec(f);
        assert.equal(d.summary.metadata, null);
        const [a, b] = d.records;
        assert.deepEqual(a!.hd, { ts_event: '1609088526651000000', rtype: 19, publisher_id: 1, instrument_id: 31778 });
        assert.deepEqual(
          [a!.raw_symbol, a!.asset, a!.security_type, a!.exchange, a!.group, a!.currency, a!.cfi, a!.instrument_class],
          ['GEM3 P9812', 'GE', 'OOF', 'XCME', 'ZE', 'USD', 'OPAFPS', 'P'],
        );
        assert.deepEqual([a!.strike_price, a!.min_price_increment, a!.display_factor], ['9812500000000', '500000000', '1000000000']);
        assert.deepEqual(
          [a!.expiration, a!.activation, a!.maturity_year, a!.maturity_month],
          ['1687168800000000000', '1560547800000000000', 2023, 6],
        );
        assert.deepEqual([b!.hd.instrument_id, b!.raw_symbol, b!.asset, b!.strike_price], [688141, 'ESH1 P2250', 'ES', '2250000000000']);
      });
    }
    it('F. multi-frame: its first 2 records equal definition.v1.dbn.frag', async () => {
      const m = await dec('multi-frame.definition.v1.dbn.frag.zst');
      const v1 = await dec('test_data.definition.v1.dbn.frag');
      assert.deepEqual(m.records.slice(0, 2), v1.records);
    });
    for (const f of versionsOf('mbo')) {
      it(`G. ${f}: mbo record 0`, async () => {
        const a = (await dec(f)).records[0]!;
        assert.deepEqual(
          [a.order_id, a.price, a.size, a.flags, a.channel_id, a.action, a.side, a.hd.ts_event, a.ts_recv, a.ts_in_delta, a.sequence],
          ['647784973705', '3722750000000', 1, 128, 0, 'C', 'A', '1609160400000429831', '1609160400000704060', 22993, 1170352],
        );
      });
    }
    for (const f of versionsOf('statistics')) {
      it(`G. ${f}: stat_type 7 then 5, price 100.0, quantity UNDEF per version`, async () => {
        const d = await dec(f);
        assert.deepEqual(
          d.records.map((r) => r.stat_type),
          [7, 5],
        );
        assert.deepEqual(
          d.records.map((r) => r.price),
          ['100000000000', '100000000000'],
        );
        const v3 = f.includes('.v3.');
        for (const r of d.records) assert.equal(r.quantity, v3 ? '9223372036854775807' : 2147483647);
      });
    }
    for (const f of versionsOf('imbalance')) {
      it(`G. ${f}: ref_price 229.43 then 229.99`, async () => {
        assert.deepEqual(
          (await dec(f)).records.map((r) => r.ref_price),
          ['229430000000', '229990000000'],
        );
      });
    }
  });
});
