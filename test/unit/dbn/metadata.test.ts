import { strict as assert } from 'node:assert';
import { encodeMetadata, type DbnMetadataInput } from '../../../src/engine/dbn/encoder.ts';
import { parseMetadata, MAX_METADATA_LENGTH } from '../../../src/engine/dbn/metadata.ts';
import { DbnError } from '../../../src/engine/dbn/errors.ts';
import { SCHEMA, STYPE } from '../../../src/engine/dbn/enums.ts';
import { fixtureBytes } from './helpers.ts';

const GLBX: Omit<DbnMetadataInput, 'version' | 'schema'> = {
  dataset: 'GLBX.MDP3',
  start: 1609160400000000000n,
  end: 1609200000000000000n,
  limit: 2n,
  stypeIn: STYPE.raw_symbol,
  stypeOut: STYPE.instrument_id,
  tsOut: false,
  symbols: ['ESH1'],
  partial: [],
  notFound: [],
  mappings: [{ rawSymbol: 'ESH1', intervals: [{ startDate: 20201228, endDate: 20201229, symbol: '5482' }] }],
};

describe('dbn metadata', () => {
  for (const [version, file, length] of [
    [1, 'test_data.trades.v1.dbn.zst', 198],
    [2, 'test_data.trades.v2.dbn.zst', 345],
    [2, 'test_data.trades.dbn', 345],
    [3, 'test_data.trades.v3.dbn.zst', 352],
  ] as const) {
    it(`parses ${file} (v${version}, length ${length}) to the brief's section-10 values`, () => {
      const bytes = fixtureBytes(file);
      const m = parseMetadata(bytes, file);
      assert.equal(m.version, version);
      assert.equal(m.recordsOffset, 8 + length);
      assert.equal(m.dataset, 'GLBX.MDP3');
      assert.equal(m.schema, 4);
      assert.equal(m.schemaName, 'trades');
      assert.equal(m.start, 1609160400000000000n);
      assert.equal(m.end, 1609200000000000000n);
      assert.equal(m.limit, 2n);
      assert.equal(m.stypeIn, 1);
      assert.equal(m.stypeOut, 0);
      assert.equal(m.tsOut, false);
      assert.equal(m.symbolCstrLen, version === 1 ? 22 : 71);
      assert.deepEqual(m.symbols, ['ESH1']);
      assert.deepEqual(m.partial, []);
      assert.deepEqual(m.notFound, []);
      assert.deepEqual(m.mappings, GLBX.mappings);
    });

    it(`encodeMetadata reproduces the header of ${file} byte for byte`, () => {
      const bytes = fixtureBytes(file);
      const enc = encodeMetadata({ ...GLBX, version, schema: SCHEMA.trades });
      assert.equal(enc.length, 8 + length);
      assert.deepEqual(enc, bytes.subarray(0, 8 + length));
    });
  }

  it('parses the XNAS definition metadata: 62 intervals, first {20211004, 20211005, "6819"}', () => {
    for (const f of ['test_data.definition.v1.dbn.zst', 'test_data.definition.v2.dbn.zst', 'test_data.definition.v3.dbn.zst']) {
      const m = parseMetadata(fixtureBytes(f), f);
      assert.equal(m.dataset, 'XNAS.ITCH');
      assert.equal(m.schemaName, 'definition');
      assert.deepEqual(m.symbols, ['MSFT']);
      assert.equal(m.mappings.length, 1);
      assert.equal(m.mappings[0]!.intervals.length, 62);
      assert.deepEqual(m.mappings[0]!.intervals[0], { startDate: 20211004, endDate: 20211005, symbol: '6819' });
      assert.equal(m.start, 1633305600000000000n);
      assert.equal(m.end, 1641254400000000000n);
    }
  });

  it('statistics metadata: end = UNDEF_TIMESTAMP maps to null, stype_in instrument_id, length 120', () => {
    for (const f of ['test_data.statistics.v1.dbn.zst', 'test_data.statistics.v2.dbn.zst', 'test_data.statistics.v3.dbn.zst']) {
      const m = parseMetadata(fixtureBytes(f), f);
      assert.equal(m.end, null);
      assert.equal(m.start, 2814749767106560n);
      assert.equal(m.stypeIn, STYPE.instrument_id);
      assert.equal(m.recordsOffset, 128);
      assert.deepEqual(m.symbols, []);
      assert.deepEqual(m.mappings, []);
    }
  });

  it('round-trips every field in v1, v2 and v3 (mixed schema, no stypes, ts_out, partial, not_found)', () => {
    for (const version of [1, 2, 3] as const) {
      const input: DbnMetadataInput = {
        version,
        dataset: 'XNAS.ITCH',
        schema: null,
        start: 1n,
        end: null,
        limit: 0n,
        stypeIn: null,
        stypeOut: STYPE.instrument_id,
        tsOut: true,
        symbols: ['AAPL', 'MSFT', 'A'.repeat(21)],
        partial: ['TSLA'],
        notFound: ['NOPE', 'ZZZ'],
        mappings: [
          {
            rawSymbol: 'AAPL',
            intervals: [
              { startDate: 20240102, endDate: 20240103, symbol: '1' },
              { startDate: 20240103, endDate: 20240105, symbol: '2' },
            ],
          },
          { rawSymbol: 'MSFT', intervals: [] },
        ],
      };
      const enc = encodeMetadata(input);
      if (version === 3) assert.equal((enc.length - 8) % 8, 0);
      const m = parseMetadata(enc, 'mem');
      assert.equal(m.version, version);
      assert.equal(m.schema, null);
      assert.equal(m.schemaName, null);
      assert.equal(m.end, null);
      assert.equal(m.stypeIn, null);
      assert.equal(m.tsOut, true);
      assert.deepEqual(m.symbols, input.symbols);
      assert.deepEqual(m.partial, ['TSLA']);
      assert.deepEqual(m.notFound, ['NOPE', 'ZZZ']);
      assert.deepEqual(m.mappings, input.mappings);
      assert.equal(m.recordsOffset, enc.length);
    }
  });

  it('refuses symbols that do not fit the fixed-width field', () => {
    assert.throws(() => encodeMetadata({ ...GLBX, version: 1, schema: 4, symbols: ['X'.repeat(22)] }), /at most 21 fit/);
  });

  describe('bad metadata', () => {
    const good = encodeMetadata({ ...GLBX, version: 2, schema: SCHEMA.trades });
    const expectErr = (b: Uint8Array, offset: number, re: RegExp) => {
      assert.throws(
        () => parseMetadata(b, 'bad.dbn'),
        (e: unknown) => {
          assert.ok(e instanceof DbnError, String(e));
          assert.equal(e.file, 'bad.dbn');
          assert.equal(e.offset, offset);
          assert.match(e.message, re);
          assert.match(e.message, /^bad\.dbn: byte \d+: expected /);
          return true;
        },
      );
    };
    it('wrong magic, version 0 and 4, short and oversized lengths', () => {
      expectErr(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 0, /DBN magic.*found 50 4b 03 04/);
      const v0 = good.slice();
      v0[3] = 0;
      expectErr(v0, 3, /version 1, 2 or 3, found 0/);
      const v4 = good.slice();
      v4[3] = 4;
      expectErr(v4, 3, /version 1, 2 or 3, found 4/);
      const short = good.slice();
      new DataView(short.buffer).setUint32(4, 50, true);
      expectErr(short, 4, /metadata length >= 120, found 50/);
      const huge = good.slice();
      new DataView(huge.buffer).setUint32(4, MAX_METADATA_LENGTH + 1, true);
      expectErr(huge, 4, /64 MiB cap/);
    });
    it('metadata length beyond the input', () => {
      expectErr(good.subarray(0, 200), 200, /metadata of 345 bytes \(ending at byte 353\), found end of input after 200 bytes/);
    });
    it('a symbol count that cannot fit is refused before allocating', () => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(112, 0xffffffff, true);
      expectErr(b, 112, /symbols count whose entries fit/);
    });
    it('an interval count that cannot fit', () => {
      const b = good.slice();
      // mappings start: 112 + 4 + 71 (symbols) + 4 + 4 = 195 (count), raw_symbol at 199, interval count at 270
      new DataView(b.buffer).setUint32(270, 1000, true);
      expectErr(b, 270, /mapping intervals count/);
    });
    it('non-zero schema_definition_length', () => {
      const b = good.slice();
      b[108] = 1;
      expectErr(b, 108, /schema_definition_length 0/);
    });
  });
});
