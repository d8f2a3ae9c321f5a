import { strict as assert } from 'node:assert';
import { z } from 'zod';
import type { BarSeries } from '../../../src/engine/bars/barSeries.ts';
import { runBacktest } from '../../../src/engine/backtest/engine.ts';
import { Atr, Bollinger, Ema, type Indicator, RollingExtreme, Rsi, Sma } from '../../../src/engine/backtest/indicators.ts';
import { configureIndicatorCache, indicatorCacheStats, resetIndicatorCache } from '../../../src/engine/backtest/indicatorCache.ts';
import type { PriceField, StrategyContext } from '../../../src/engine/backtest/context.ts';
import { applySession } from '../../../src/engine/backtest/session.ts';
import { sliceBars } from '../../../src/engine/backtest/sliceBars.ts';
import { defineStrategy, type StrategyDefinition } from '../../../src/engine/backtest/strategy.ts';
import type { BacktestResult, Session } from '../../../src/engine/backtest/types.ts';
import { bollingerReversion } from '../../../src/engine/strategies/bollingerReversion.ts';
import { donchianBreakout } from '../../../src/engine/strategies/donchianBreakout.ts';
import { smaCross } from '../../../src/engine/strategies/smaCross.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';
import { synthBars } from './support/dataset.ts';

/** Every factory and argument shape the context offers (fields with NaNs included). */
interface Spec {
  name: string;
  make: (ctx: StrategyContext) => Indicator;
  fresh: (b: BarSeries) => Indicator;
}
const col = (b: BarSeries, f: PriceField) => b[f];
const SPECS: Spec[] = [];
for (const f of ['close', 'spreadMean', 'imbalanceMean', 'volume'] as const) {
  for (const n of [1, 3, 20]) {
    SPECS.push(
      { name: `sma(${n}, ${f})`, make: (c) => c.sma(n, f), fresh: (b) => new Sma(col(b, f), n) },
      { name: `ema(${n}, ${f})`, make: (c) => c.ema(n, f), fresh: (b) => new Ema(col(b, f), n) },
      { name: `rsi(${n}, ${f})`, make: (c) => c.rsi(n, f), fresh: (b) => new Rsi(col(b, f), n) },
      { name: `highest(${n}, ${f})`, make: (c) => c.highest(n, f), fresh: (b) => new RollingExtreme(col(b, f), n, 1) },
      { name: `lowest(${n}, ${f})`, make: (c) => c.lowest(n, f), fresh: (b) => new RollingExtreme(col(b, f), n, -1) },
    );
    for (const k of [2, 1.5, 0, -0, 3.25])
      SPECS.push({
        name: `bollinger(${n}, ${Object.is(k, -0) ? '-0' : k}, ${f})`,
        make: (c) => c.bollinger(n, k, f),
        fresh: (b) => new Bollinger(col(b, f), n, k),
      });
  }
}
for (const n of [1, 2, 14]) SPECS.push({ name: `atr(${n})`, make: (c) => c.atr(n), fresh: (b) => new Atr(b.high, b.low, b.close, n) });
SPECS.push(
  { name: 'highest()', make: (c) => c.highest(7), fresh: (b) => new RollingExtreme(b.high, 7, 1) },
  { name: 'lowest()', make: (c) => c.lowest(7), fresh: (b) => new RollingExtreme(b.low, 7, -1) },
  { name: 'bollinger(5)', make: (c) => c.bollinger(5), fresh: (b) => new Bollinger(b.close, 5, 2) },
);

const FIELDS = ['value', 'ready', 'upper', 'lower', 'std', 'middle'] as const;
/** What an indicator shows: value, ready and (Bollinger) the bands; absent fields as undefined. */
function show(ind: Indicator): unknown[] {
  const r = ind as unknown as Record<string, unknown>;
  return FIELDS.map((f) => r[f]);
}

/** Runs every spec in one strategy; per spec, what it showed in onStart, at each bar's onBar, in onEnd. */
function observe(bars: BarSeries, session: Session = 'all'): { seen: unknown[][][]; start: unknown[][]; end: unknown[][] } {
  const seen: unknown[][][] = SPECS.map(() => []);
  const start: unknown[][] = [];
  const end: unknown[][] = [];
  const st = defineStrategy({
    id: 'observe',
    params: z.object({}),
    onStart(ctx) {
      const inds = SPECS.map((s) => s.make(ctx));
      for (const ind of inds) start.push(show(ind));
      return inds;
    },
    onBar(ctx, inds) {
      for (let k = 0; k < inds.length; k++) seen[k]!.push(show(inds[k]!));
      // trade now and then so onFill runs too (it reads nothing here; the run must not change)
      if (ctx.index % 97 === 3 && !ctx.isLastBar) ctx.order(ctx.position > 0 ? -1 : 1);
    },
    onEnd(_ctx, inds) {
      for (const ind of inds) end.push(show(ind));
    },
  });
  runBacktest(bars, { strategy: st, session });
  return { seen, start, end };
}

/** The same observations from fresh incremental instances stepped by hand over the bars the run sees. */
function expected(bars: BarSeries): { seen: unknown[][][]; start: unknown[][]; end: unknown[][] } {
  const inds = SPECS.map((s) => s.fresh(bars));
  const start = inds.map(show);
  const seen: unknown[][][] = SPECS.map(() => []);
  for (let i = 0; i < bars.length; i++)
    for (let k = 0; k < inds.length; k++) {
      inds[k]!.update(i);
      seen[k]!.push(show(inds[k]!));
    }
  return { seen, start, end: inds.map(show) };
}

/** Bit-identical (Object.is: NaN equals NaN, −0 differs from 0), naming the first difference. */
function assertSame(got: ReturnType<typeof observe>, want: ReturnType<typeof observe>, what: string): void {
  const cmp = (a: unknown[], b: unknown[], where: string) => {
    for (let f = 0; f < FIELDS.length; f++)
      if (!Object.is(a[f], b[f])) assert.fail(`${what}: ${where}: ${FIELDS[f]} ${String(a[f])} vs ${String(b[f])}`);
  };
  for (let k = 0; k < SPECS.length; k++) {
    cmp(got.start[k]!, want.start[k]!, `${SPECS[k]!.name} in onStart`);
    cmp(got.end[k]!, want.end[k]!, `${SPECS[k]!.name} in onEnd`);
    assert.equal(got.seen[k]!.length, want.seen[k]!.length);
    for (let i = 0; i < want.seen[k]!.length; i++) cmp(got.seen[k]![i]!, want.seen[k]![i]!, `${SPECS[k]!.name} at bar ${i}`);
  }
}

/** synthBars with rough edges: NaN runs in spreadMean (leading too), NaN closes of no other field, −0 and ±ties. */
function roughBars(n: number, seed: number): BarSeries {
  const b = synthBars(n, seed);
  const rng = new Sfc32(seed + 100);
  for (let i = 0; i < 5; i++) b.spreadMean[i] = NaN;
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    if (u < 0.05) b.spreadMean[i] = NaN;
    b.imbalanceMean[i] = u < 0.3 ? NaN : u < 0.35 ? -0 : u < 0.4 ? 0 : (rng.next() - 0.5) * 2;
    b.volume[i] = Math.floor(rng.next() * 1e6) * (u < 0.02 ? 1e9 : 1);
  }
  return b;
}

function sameResult(a: BacktestResult, b: BacktestResult, what: string): void {
  assert.deepStrictEqual(a.metrics, b.metrics, `${what}: metrics`);
  for (const t of ['orders', 'fills', 'trades', 'events'] as const) assert.deepStrictEqual(a[t], b[t], `${what}: ${t}`);
  for (const c of ['equity', 'position', 'cash', 'drawdown', 'ts', 'close'] as const) {
    const x = a.equity[c];
    const y = b.equity[c];
    assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `${what}: ${c}`);
  }
}

/** A run whose strategy asks for sma(n) of each n. */
function smas(bars: BarSeries, ...ns: number[]): BacktestResult {
  return runBacktest(bars, {
    strategy: defineStrategy({
      id: 'smas',
      params: z.object({}),
      onStart: (ctx) => ns.map((n) => ctx.sma(n)),
      onBar() {},
    }),
  });
}

describe('indicator cache (issue 12: shared work is done once)', () => {
  beforeEach(() => resetIndicatorCache());
  after(() => resetIndicatorCache());

  it('every factory hands out bit-identical value, ready and bands per bar (miss, then hit), NaNs and −0 included', () => {
    configureIndicatorCache({ maxEntries: 1000 }); // SPECS has 78 distinct series
    const bars = roughBars(3000, 5);
    const want = expected(bars);
    assertSame(observe(bars), want, 'first run (computed)');
    const first = indicatorCacheStats();
    // the specs repeat some series: every k of bollinger(n, k, field) shares one
    assert.ok(first.misses > 0 && first.misses < SPECS.length, JSON.stringify(first));
    assertSame(observe(bars), want, 'second run (cached)');
    const second = indicatorCacheStats();
    assert.equal(second.misses, first.misses, 'the second run computes nothing');
    assert.equal(second.hits - first.hits, SPECS.length);
    configureIndicatorCache({ enabled: false });
    assertSame(observe(bars), want, 'cache off');
  });

  it('session rth: the filtered bars are recomputed per run, the series are not (and match the filtered bars)', () => {
    configureIndicatorCache({ maxEntries: 1000 });
    const bars = roughBars(5000, 6);
    const rth = applySession(bars, 'rth');
    assert.ok(rth.length < bars.length && rth.length > 500, `${rth.length} of ${bars.length} bars are rth`);
    const want = expected(rth);
    assertSame(observe(bars, 'rth'), want, 'rth, first run');
    const { misses } = indicatorCacheStats();
    assertSame(observe(bars, 'rth'), want, 'rth, second run');
    assert.equal(indicatorCacheStats().misses, misses);
    // the same bars without the filter are another series
    assertSame(observe(bars, 'all'), expected(bars), 'all after rth');
    assert.ok(indicatorCacheStats().misses > misses);
  });

  it('is never shared across datasets or slices: same shape, different values, each its own numbers', () => {
    configureIndicatorCache({ maxEntries: 1000 });
    const a = roughBars(1200, 7);
    const b = roughBars(1200, 8); // same ts (same synthBars clock), other prices
    assert.deepStrictEqual(a.ts, b.ts);
    // c shares a's ts column itself but not its closes
    const c: BarSeries = {
      ...a,
      close: b.close.slice(),
      spreadMean: b.spreadMean.slice(),
      volume: b.volume.slice(),
      imbalanceMean: b.imbalanceMean.slice(),
    };
    const slices = [sliceBars(a, 0, 1000), sliceBars(a, 1, 1000), sliceBars(a, 0, 999), sliceBars(a, 300, 1200)];
    const order = [a, b, c, ...slices, a, c, b, ...slices];
    for (const [k, bars] of order.entries()) assertSame(observe(bars), expected(bars), `bars #${k}`);
    // the repeats (the second half) hit: a fresh view of the same rows is the same series
    const before = indicatorCacheStats();
    for (const bars of [sliceBars(a, 0, 1000), sliceBars(a, 300, 1200)]) assertSame(observe(bars), expected(bars), 'fresh view');
    assert.equal(indicatorCacheStats().misses, before.misses);
  });

  it('built-in strategies: repeated cached runs give the results of runs with the cache off', () => {
    const bars = synthBars(6000, 9);
    const cases: [StrategyDefinition, Record<string, unknown>][] = [
      [smaCross, { fast: 5, slow: 20 }],
      [smaCross, { fast: 10, slow: 30, allow_short: true }],
      [bollingerReversion, { period: 20 }],
      [bollingerReversion, { period: 20, k: 1.5, allow_short: true }],
      [bollingerReversion, { period: 35, k: 2.5, allow_short: true }],
      [bollingerReversion, { period: 20, k: 1, allow_short: true }],
      [donchianBreakout, {}],
      [donchianBreakout, { entry: 30, exit: 10, allow_short: true }],
      [donchianBreakout, { entry: 20, exit: 5, allow_short: true }],
      [donchianBreakout, { entry: 30, exit: 30 }],
    ];
    const costs = { slippage: 'random:3', fee_bps: 1 };
    for (const session of ['all', 'rth'] as const) {
      resetIndicatorCache();
      configureIndicatorCache({ enabled: false });
      const off = cases.map(([strategy, params]) => runBacktest(bars, { strategy, params, session, seed: 4, costs }));
      assert.equal(indicatorCacheStats().hits + indicatorCacheStats().misses, 0);
      resetIndicatorCache();
      for (let rep = 0; rep < 3; rep++)
        cases.forEach(([strategy, params], k) =>
          sameResult(
            runBacktest(bars, { strategy, params, session, seed: 4, costs }),
            off[k]!,
            `${strategy.id} ${JSON.stringify(params)} ${session} rep ${rep}`,
          ),
        );
      const st = indicatorCacheStats();
      // bollinger 20 (any k) and 35, donchian highest/lowest 20, 10, 30 and 5: 10 series, each computed once
      assert.equal(st.misses, 10, JSON.stringify(st));
      assert.equal(st.hits, 3 * (4 + 4 * 4) - 10);
    }
  });

  it('session rth: the second point of a sweep hits the cache', () => {
    const bars = synthBars(6000, 10);
    runBacktest(bars, { strategy: bollingerReversion, params: { period: 30, k: 2 }, session: 'rth' });
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 0, misses: 1, evictions: 0, uncached: 0 });
    runBacktest(bars, { strategy: bollingerReversion, params: { period: 30, k: 1.5 }, session: 'rth' });
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 1, misses: 1, evictions: 0, uncached: 0 });
    runBacktest(bars, { strategy: donchianBreakout, params: { entry: 30, exit: 30 }, session: 'rth' });
    runBacktest(bars, { strategy: donchianBreakout, params: { entry: 30, exit: 15 }, session: 'rth' });
    // entry 30: highest + lowest twice (and exit 30 the same two once more); exit 15: two new ones
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 1 + 2 + 2, misses: 1 + 2 + 2, evictions: 0, uncached: 0 });
  });

  it('is bounded: least recently used series go first; a series larger than the byte bound is not kept', () => {
    const bars = synthBars(1000, 11);
    configureIndicatorCache({ maxEntries: 2, minIdle: 0 });
    smas(bars, 1, 2);
    smas(bars, 1); // 1 is now the most recent
    smas(bars, 3); // evicts 2
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 1, misses: 3, evictions: 1, uncached: 0 });
    smas(bars, 1, 3);
    assert.equal(indicatorCacheStats().hits, 3);
    smas(bars, 2); // evicts 1
    smas(bars, 3);
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 4, misses: 4, evictions: 2, uncached: 0 });
    configureIndicatorCache({ maxEntries: 64, maxBytes: 8 * 1000 - 1 });
    smas(bars, 1);
    smas(bars, 1);
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 4, misses: 4, evictions: 2, uncached: 2 });
    // bands take middle and std: 16 bytes a bar
    configureIndicatorCache({ maxBytes: 16 * 1000 - 1 });
    runBacktest(bars, { strategy: bollingerReversion });
    assert.equal(indicatorCacheStats().uncached, 3);
    configureIndicatorCache({ maxBytes: 16 * 1000 });
    runBacktest(bars, { strategy: bollingerReversion });
    assert.equal(indicatorCacheStats().misses, 5);
  });

  it('a grid asking for more series than fit keeps the ones it has (no eviction of recently used series)', () => {
    const bars = synthBars(1000, 13);
    configureIndicatorCache({ maxEntries: 4, minIdle: 16 });
    // round after round, series 1 … 6 in order: plain LRU would evict each before its next use
    for (let round = 0; round < 3; round++) for (let n = 1; n <= 6; n++) smas(bars, n);
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 8, misses: 4, evictions: 0, uncached: 6 });
    // a long unused series makes room: series 1 was last used at lookup 13
    for (let r = 0; r < 10; r++) smas(bars, 20); // lookups 19 … 28
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 8, misses: 4, evictions: 0, uncached: 16 });
    smas(bars, 20); // lookup 29: series 1 idle for 16
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 8, misses: 5, evictions: 1, uncached: 16 });
    smas(bars, 20);
    assert.equal(indicatorCacheStats().hits, 9);
  });

  it('period and phase checks are unchanged (and checked before the cache)', () => {
    const bars = synthBars(100, 12);
    const run = (make: (c: StrategyContext) => unknown, inBar = false) =>
      runBacktest(bars, {
        strategy: defineStrategy({
          id: 'bad',
          params: z.object({}),
          onStart: (ctx) => (inBar ? undefined : make(ctx)),
          onBar: (ctx) => void (inBar && make(ctx)),
        }),
      });
    assert.throws(() => run((c) => c.sma(0)), /sma\(0\): period must be an integer ≥ 1, got 0/);
    assert.throws(() => run((c) => c.bollinger(0, 2)), /bollinger\(0\): period must be an integer ≥ 1, got 0/);
    assert.throws(() => run((c) => c.ema(2.5)), /ema\(2.5\): period must be an integer ≥ 1/);
    assert.throws(() => run((c) => c.sma(5, 'nope' as PriceField)), /unknown bar field 'nope'/);
    assert.throws(() => run((c) => c.atr(5), true), /atr\(5\): indicators can only be created in onStart/);
    assert.deepStrictEqual(indicatorCacheStats(), { hits: 0, misses: 0, evictions: 0, uncached: 0 });
  });
});
