import { strict as assert } from 'node:assert';
import { decodeStream } from '../../../src/engine/dbn/decoder.ts';
import type { Mbp1Columns, TradeColumns } from '../../../src/engine/dbn/columns.ts';
import type { BarSeries } from '../../../src/engine/bars/barSeries.ts';
import { MinuteAggregator, type QuoteSpan } from '../../../src/engine/bars/minuteAggregator.ts';
import { InstrumentFilter, resolveIntervals } from '../../../src/engine/bars/instrumentFilter.ts';
import { parseMetadata } from '../../../src/engine/dbn/metadata.ts';
import { assertBars, dbnBytes, EMPTY_QUOTES, type FileSpec, MIN, NO_QUOTES, type QuoteSpec, S, T0, type TradeSpec } from './dbnBuild.ts';

/** Decodes real DBN bytes with the project's decoder and feeds the batches to the aggregator. */
async function aggregate(
  files: { spec: FileSpec; records: (TradeSpec | QuoteSpec)[] }[],
  opts: { symbol?: string; quoteSpans?: QuoteSpan[] | null; asTrades?: boolean; batchSize?: number } = {},
): Promise<BarSeries> {
  const agg = new MinuteAggregator({ symbol: opts.symbol ?? 'TEST', quoteSpans: opts.quoteSpans ?? null, capacity: 1 });
  for (const f of files) {
    const bytes = dbnBytes(f.spec, f.records);
    const filter = opts.symbol ? new InstrumentFilter(resolveIntervals(parseMetadata(bytes, 'mem')), opts.symbol) : undefined;
    await decodeStream(
      (async function* () {
        yield bytes;
      })(),
      `${f.spec.schema}.dbn`,
      {
        onTrades: (b: TradeColumns) => void agg.addTrades(b, 0, b.length, filter),
        onMbp1: (b: Mbp1Columns) => void agg.addQuotes(b, 0, b.length, filter, opts.asTrades ?? false),
      },
      { batchSize: opts.batchSize ?? 2 },
    );
  }
  return agg.finish();
}

const trade = (ts: bigint, px: number, sz: number, side: 'A' | 'B' | 'N', id?: number): TradeSpec => ({ ts, px, sz, side, id });
const quote = (
  ts: bigint,
  px: number,
  sz: number,
  side: 'A' | 'B' | 'N',
  bid: number | null,
  ask: number | null,
  bsz: number,
  asz: number,
): QuoteSpec => ({ ts, px, sz, side, bid, ask, bsz, asz });

describe('minute aggregator (docs/bars.md), inputs as real DBN bytes', () => {
  it('buckets by ts_recv exactly: :00.000000000 opens a minute, 1 ns before stays; empty minutes give no row; equal timestamps keep file order', async () => {
    const bars = await aggregate([
      {
        spec: { schema: 'trades' },
        records: [
          trade(T0, 100.0, 10, 'B'),
          trade(T0 + 30n * S, 100.5, 20, 'A'),
          trade(T0 + MIN - 1n, 99.75, 5, 'N'),
          trade(T0 + MIN, 101.0, 7, 'B'),
          trade(T0 + 3n * MIN + 5n * S, 102.0, 1, 'A'),
          trade(T0 + 3n * MIN + 5n * S, 101.5, 3, 'B'),
        ],
      },
    ]);
    assertBars(bars, [
      // vwap = (100·10 + 100.5·20 + 99.75·5) / 35 = 3508.75 / 35
      {
        ts: T0,
        open: 100,
        high: 100.5,
        low: 99.75,
        close: 99.75,
        volume: 35,
        trade_count: 3,
        vwap: 100.25,
        buy_volume: 10,
        sell_volume: 20,
        ...NO_QUOTES,
      },
      {
        ts: T0 + MIN,
        open: 101,
        high: 101,
        low: 101,
        close: 101,
        volume: 7,
        trade_count: 1,
        vwap: 101,
        buy_volume: 7,
        sell_volume: 0,
        ...NO_QUOTES,
      },
      // equal ts_recv: 102 first (open), 101.5 last (close); vwap = (102 + 304.5) / 4
      {
        ts: T0 + 3n * MIN,
        open: 102,
        high: 102,
        low: 101.5,
        close: 101.5,
        volume: 4,
        trade_count: 2,
        vwap: 101.625,
        buy_volume: 3,
        sell_volume: 1,
        ...NO_QUOTES,
      },
    ]);
    assert.equal(bars.symbol, 'TEST');
  });

  it('tbbo only: OHLCV from the trade fields; quotes need both sides; locked/crossed count; zero sizes in means, not in imbalance; outside the TBBO span all quote columns are null', async () => {
    const span = { start: T0 - 3600n * S, end: T0 + 3600n * S };
    const bars = await aggregate(
      [
        {
          spec: { schema: 'tbbo', start: span.start, end: span.end },
          records: [
            quote(T0 + 1n * S, 100.01, 100, 'B', 100.0, 100.01, 300, 100), // spread .01, imb +0.5
            quote(T0 + 2n * S, 100.0, 50, 'A', 100.0, null, 300, 0), // ask UNDEF: not qualifying
            quote(T0 + 3n * S, 100.02, 10, 'N', 100.02, 100.02, 0, 0), // locked, sizes 0: no imbalance
            quote(T0 + MIN - 1n, 99.99, 40, 'A', 99.99, 100.03, 200, 600), // spread .04, imb −0.5
            quote(T0 + MIN, 100.05, 5, 'B', null, null, 0, 0), // no qualifying quote in this minute
            quote(T0 + 2n * MIN + S, 100.05, 1, 'B', 100.1, 100.05, 10, 30), // crossed: spread −.05
            quote(T0 + 2n * 3600n * S, 101, 2, 'B', 100.99, 101.0, 5, 5), // a file claiming no span here
          ],
        },
      ],
      { quoteSpans: [span], asTrades: true },
    );
    assertBars(bars, [
      {
        ts: T0,
        open: 100.01,
        high: 100.02,
        low: 99.99,
        close: 99.99,
        volume: 200,
        trade_count: 4,
        vwap: (100.01 * 100 + 100 * 50 + 100.02 * 10 + 99.99 * 40) / 200,
        buy_volume: 100,
        sell_volume: 90,
        quote_count: 3,
        bid_close: 99.99,
        ask_close: 100.03,
        spread_mean: 0.05 / 3,
        spread_max: 0.04,
        bid_size_mean: 500 / 3,
        ask_size_mean: 700 / 3,
        imbalance_mean: 0,
      },
      {
        ts: T0 + MIN,
        open: 100.05,
        high: 100.05,
        low: 100.05,
        close: 100.05,
        volume: 5,
        trade_count: 1,
        vwap: 100.05,
        buy_volume: 5,
        sell_volume: 0,
        ...EMPTY_QUOTES,
      },
      {
        ts: T0 + 2n * MIN,
        open: 100.05,
        high: 100.05,
        low: 100.05,
        close: 100.05,
        volume: 1,
        trade_count: 1,
        vwap: 100.05,
        buy_volume: 1,
        sell_volume: 0,
        quote_count: 1,
        bid_close: 100.1,
        ask_close: 100.05,
        spread_mean: -0.05,
        spread_max: -0.05,
        bid_size_mean: 10,
        ask_size_mean: 30,
        imbalance_mean: -0.5,
      },
      {
        ts: T0 + 120n * MIN,
        open: 101,
        high: 101,
        low: 101,
        close: 101,
        volume: 2,
        trade_count: 1,
        vwap: 101,
        buy_volume: 2,
        sell_volume: 0,
        ...NO_QUOTES,
      },
    ]);
  });

  it('trades + tbbo: quotes in a minute without trades are dropped; a minute inside the span without a qualifying quote has quote_count 0', async () => {
    const span = { start: T0 - 3600n * S, end: T0 + 3600n * S };
    // Fed in merge order: the tbbo record at T0+5s comes between the two trades.
    const agg = new MinuteAggregator({ symbol: 'TEST', quoteSpans: [span] });
    const feed = async (spec: FileSpec, records: (TradeSpec | QuoteSpec)[]) => {
      await decodeStream(
        (async function* () {
          yield dbnBytes(spec, records);
        })(),
        'mem',
        {
          onTrades: (b) => void agg.addTrades(b),
          onMbp1: (b) => void agg.addQuotes(b),
        },
      );
    };
    await feed({ schema: 'trades' }, [trade(T0 + 2n * S, 50, 1, 'B')]);
    await feed({ schema: 'tbbo' }, [quote(T0 + 5n * S, 50, 1, 'B', null, 50.01, 0, 100)]);
    await feed({ schema: 'trades' }, [trade(T0 + 9n * S, 50.01, 3, 'B')]);
    await feed({ schema: 'tbbo' }, [quote(T0 + MIN + 5n * S, 50, 1, 'A', 50, 50.01, 100, 100)]); // no trade in T0+1m
    await feed({ schema: 'trades' }, [trade(T0 + 2n * MIN, 50.02, 2, 'N')]);
    await feed({ schema: 'tbbo' }, [quote(T0 + 2n * MIN + S, 50.02, 2, 'N', 50.01, 50.03, 100, 300)]);
    assertBars(agg.finish(), [
      {
        ts: T0,
        open: 50,
        high: 50.01,
        low: 50,
        close: 50.01,
        volume: 4,
        trade_count: 2,
        vwap: (50 + 150.03) / 4,
        buy_volume: 4,
        sell_volume: 0,
        ...EMPTY_QUOTES,
      },
      {
        ts: T0 + 2n * MIN,
        open: 50.02,
        high: 50.02,
        low: 50.02,
        close: 50.02,
        volume: 2,
        trade_count: 1,
        vwap: 50.02,
        buy_volume: 0,
        sell_volume: 0,
        quote_count: 1,
        bid_close: 50.01,
        ask_close: 50.03,
        spread_mean: 0.02,
        spread_max: 0.02,
        bid_size_mean: 100,
        ask_size_mean: 300,
        imbalance_mean: -0.5,
      },
    ]);
  });

  it('several symbols in one file: records resolve by the UTC date of ts_recv, not by instrument id; unmapped ids become their decimal string', async () => {
    const D1 = T0; // 2024-03-04
    const D2 = T0 + 24n * 3600n * S; // 2024-03-05, same time of day
    const spec: FileSpec = {
      schema: 'trades',
      end: D2 + 3600n * S,
      mappings: [
        {
          rawSymbol: 'AAA',
          intervals: [
            { startDate: 20240304, endDate: 20240305, symbol: '11' },
            { startDate: 20240305, endDate: 20240306, symbol: '12' },
          ],
        },
        {
          rawSymbol: 'BBB',
          intervals: [
            { startDate: 20240304, endDate: 20240305, symbol: '12' },
            { startDate: 20240305, endDate: 20240306, symbol: '11' },
          ],
        },
      ],
    };
    const records = [
      trade(D1, 10, 1, 'B', 11), // AAA
      trade(D1 + S, 20, 2, 'A', 12), // BBB
      trade(D1 + 2n * S, 11, 3, 'B', 11), // AAA
      trade(D1 + 3n * S, 99, 9, 'N', 99), // unmapped → "99"
      trade(D2, 21, 4, 'B', 11), // BBB (ids swapped on day 2)
      trade(D2 + S, 12, 5, 'A', 12), // AAA
    ];
    const f = [{ spec, records }];
    assertBars(await aggregate(f, { symbol: 'AAA' }), [
      {
        ts: D1,
        open: 10,
        high: 11,
        low: 10,
        close: 11,
        volume: 4,
        trade_count: 2,
        vwap: 43 / 4,
        buy_volume: 4,
        sell_volume: 0,
        ...NO_QUOTES,
      },
      { ts: D2, open: 12, high: 12, low: 12, close: 12, volume: 5, trade_count: 1, vwap: 12, buy_volume: 0, sell_volume: 5, ...NO_QUOTES },
    ]);
    assertBars(await aggregate(f, { symbol: 'BBB' }), [
      { ts: D1, open: 20, high: 20, low: 20, close: 20, volume: 2, trade_count: 1, vwap: 20, buy_volume: 0, sell_volume: 2, ...NO_QUOTES },
      { ts: D2, open: 21, high: 21, low: 21, close: 21, volume: 4, trade_count: 1, vwap: 21, buy_volume: 4, sell_volume: 0, ...NO_QUOTES },
    ]);
    assertBars(await aggregate(f, { symbol: '99' }), [
      { ts: D1, open: 99, high: 99, low: 99, close: 99, volume: 9, trade_count: 1, vwap: 99, buy_volume: 0, sell_volume: 0, ...NO_QUOTES },
    ]);
    assert.equal((await aggregate(f, { symbol: '11' })).length, 0, 'a mapped id is not its own symbol');
  });

  it('grows past its initial capacity and results do not depend on batch size', async () => {
    const records: TradeSpec[] = [];
    for (let i = 0; i < 500; i++) records.push(trade(T0 + BigInt(i) * 37n * S, 100 + (i % 7) * 0.01, 1 + (i % 5), i % 3 === 0 ? 'A' : 'B'));
    const a = await aggregate([{ spec: { schema: 'trades', end: null }, records }], { batchSize: 1 });
    const b = await aggregate([{ spec: { schema: 'trades', end: null }, records }], { batchSize: 4096 });
    assert.ok(a.length > 250);
    assert.deepEqual(a, b);
    // Independent check: total volume and trade count are conserved.
    let vol = 0,
      n = 0;
    for (let r = 0; r < a.length; r++) {
      vol += a.volume[r]!;
      n += a.tradeCount[r]!;
    }
    assert.equal(n, 500);
    assert.equal(
      vol,
      records.reduce((s, r) => s + r.sz, 0),
    );
  });
});
