/**
 * Indicator series shared across runs (issue 12): a sweep asks for SMA(10) of the same closes at
 * every point with fast = 10, so the series is computed once per process (or sandbox thread) and
 * each run's `ctx.sma(10)` reads it.
 *
 * On a miss, the factory's own incremental instance (indicators.ts, the only definition of each
 * indicator's arithmetic) is run once over the whole series, bar 0 … n − 1 in order as the engine
 * would, and every output is recorded per bar (a Float64Array per output) with the first bar at
 * which it is `ready` (ready never turns false again: every indicator counts updates). A cached
 * indicator's update(i) then reads bar i: the same values, bit for bit, and the same `ready`.
 *
 * Key: the identity of the source columns (buffer, byteOffset, length of the run's *unfiltered*
 * input columns — so the date-range views of one dataset and the session-filtered copies made
 * afresh per run still hit) plus the session, the indicator and its arguments. Bars are
 * immutable once built (the sandbox already keeps bars by identity); a column written after a
 * run would be served stale. Entries hang off the input's ts buffer in a WeakMap, so they die
 * with the bars and are never shared between two datasets or two slices.
 *
 * Bounds, per dataset (ts buffer): 64 series and 256 MB; the least recently used series is
 * evicted for a new one, but only once it has gone unused for 1024 lookups — otherwise the new
 * series is not kept (its run uses the incremental instance, as without the cache), so a grid
 * cycling through more series than fit keeps hitting the ones it has instead of evicting each
 * just before its next use. A series larger than the byte bound is never kept.
 *
 * A miss costs the incremental pass plus writing the series (about 1 ms per output per 200 000
 * bars, mostly page faults of the fresh array); every later run saves the pass.
 */
import type { BarSeries } from '../bars/barSeries.ts';
import { type BollingerBands, type Indicator, lowerBand, upperBand } from './indicators.ts';
import type { Session } from './types.ts';

/** One cached indicator: its outputs per bar and the first ready bar (n when never ready). */
interface Entry {
  readonly values: Float64Array;
  /** Bollinger only: the std per bar (the bands are middle ± k·std, whatever k). */
  readonly std: Float64Array | null;
  readonly readyAt: number;
  readonly bytes: number;
  /** The shelf's lookup count at this entry's last use. */
  used: number;
}

interface Shelf {
  /** Insertion order = recency (a hit moves its key to the end). */
  readonly entries: Map<string, Entry>;
  bytes: number;
  /** Lookups so far (hits, misses and refusals). */
  lookups: number;
}

/** The input a run's bars were filtered from, and how (the cache key's anchor). */
export interface IndicatorSource {
  bars: BarSeries;
  session: Session;
}

const DEFAULTS = { enabled: true, maxEntries: 64, maxBytes: 256 * 1024 * 1024, minIdle: 1024 };

const config = { ...DEFAULTS };
const stats = { hits: 0, misses: 0, evictions: 0, uncached: 0 };
let shelves = new WeakMap<ArrayBufferLike, Shelf>();
const bufferIds = new WeakMap<ArrayBufferLike, number>();
let nextBufferId = 0;

/**
 * For tests and benchmarks: turn the cache off (every factory hands out its fresh incremental
 * instance, as before the cache) or change its bounds per dataset — `maxEntries` series,
 * `maxBytes` of them, and `minIdle`: the lookups on that dataset a series must have gone unused
 * for before it may be evicted (so a grid asking for more series than fit, round after round,
 * keeps the ones it has instead of evicting each before its next use). Empties the cache.
 */
export function configureIndicatorCache(opts: Partial<typeof DEFAULTS>): void {
  Object.assign(config, opts);
  shelves = new WeakMap();
}

/** Back to the defaults, empty, counters at 0. */
export function resetIndicatorCache(): void {
  configureIndicatorCache(DEFAULTS);
  stats.hits = stats.misses = stats.evictions = stats.uncached = 0;
}

/**
 * Counters since the last reset: hits, misses (series computed and kept), evictions, uncached
 * (the fresh instance handed out: cache off, series over the byte bound, or no room without
 * evicting a recently used series).
 */
export function indicatorCacheStats(): { hits: number; misses: number; evictions: number; uncached: number } {
  return { ...stats };
}

function bufferId(b: ArrayBufferLike): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = ++nextBufferId));
  return id;
}

/** A column's identity: ids are never reused, so a dead buffer's key cannot match a new one. */
function columnId(c: Float64Array): string {
  return `${bufferId(c.buffer)}@${c.byteOffset}+${c.length}`;
}

/** A single-output indicator whose update(i) reads a cached series. */
class SeriesIndicator implements Indicator {
  value = NaN;
  ready = false;
  readonly #values: Float64Array;
  readonly #readyAt: number;
  constructor(e: Entry) {
    this.#values = e.values;
    this.#readyAt = e.readyAt;
  }
  update(i: number): void {
    this.value = this.#values[i]!;
    this.ready = i >= this.#readyAt;
  }
}

/**
 * Bollinger bands read from a cached middle and std: neither depends on k, so one series serves
 * every k; upper and lower are computed per bar with the incremental class's own functions.
 */
class BandsIndicator implements BollingerBands {
  value = NaN;
  upper = NaN;
  lower = NaN;
  std = NaN;
  ready = false;
  readonly #values: Float64Array;
  readonly #std: Float64Array;
  readonly #k: number;
  readonly #readyAt: number;
  constructor(e: Entry, k: number) {
    this.#values = e.values;
    this.#std = e.std!;
    this.#k = k;
    this.#readyAt = e.readyAt;
  }
  get middle(): number {
    return this.value;
  }
  update(i: number): void {
    // before ready, middle and std are NaN, and so are middle ± k·NaN (the class's initial NaN)
    const m = this.#values[i]!;
    const sd = this.#std[i]!;
    this.value = m;
    this.std = sd;
    this.upper = upperBand(m, this.#k, sd);
    this.lower = lowerBand(m, this.#k, sd);
    this.ready = i >= this.#readyAt;
  }
}

/** Runs a fresh incremental indicator over bars 0 … n − 1 and records what it shows after each. */
function record(ind: Indicator, n: number, bands: boolean, used: number): Entry {
  const values = new Float64Array(n);
  let readyAt = n;
  if (!bands) {
    for (let i = 0; i < n; i++) {
      ind.update(i);
      values[i] = ind.value;
      if (readyAt === n && ind.ready) readyAt = i;
    }
    return { values, std: null, readyAt, bytes: 8 * n, used };
  }
  const b = ind as BollingerBands;
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    b.update(i);
    values[i] = b.value;
    std[i] = b.std;
    if (readyAt === n && b.ready) readyAt = i;
  }
  return { values, std, readyAt, bytes: 16 * n, used };
}

/**
 * The indicator a factory hands out: a reader of the shared series for (source columns,
 * session, `what`), computed with `fresh` (the factory's new incremental instance over the
 * run's bars, `n` of them) on a miss — or `fresh` itself when the cache is off or the series
 * would not fit its bound.
 *
 * `what` names the indicator and its arguments (e.g. `sma 10`); `fields` are the source
 * columns it reads (field names of the input bars).
 */
export function sharedIndicator(fresh: Indicator, n: number, source: IndicatorSource, what: string, fields: readonly string[]): Indicator {
  return shared(fresh, n, source, what, fields, false, NaN);
}

/** As sharedIndicator for `ctx.bollinger`: the series of (n, field) serves every `k`. */
export function sharedBands(
  fresh: BollingerBands,
  n: number,
  source: IndicatorSource,
  what: string,
  field: string,
  k: number,
): BollingerBands {
  return shared(fresh, n, source, what, [field], true, k) as BollingerBands;
}

function shared(
  fresh: Indicator,
  n: number,
  source: IndicatorSource,
  what: string,
  fields: readonly string[],
  bands: boolean,
  k: number,
): Indicator {
  if (!config.enabled) {
    stats.uncached++;
    return fresh;
  }
  const bytes = (bands ? 16 : 8) * n;
  const input = source.bars as unknown as Record<string, unknown>;
  const ts = source.bars.ts;
  if (bytes > config.maxBytes || config.maxEntries < 1 || !(ts instanceof Float64Array)) {
    stats.uncached++;
    return fresh;
  }
  let key = `${what}|${source.session}|${columnId(ts)}`;
  for (const f of fields) {
    const col = input[f];
    if (!(col instanceof Float64Array)) {
      stats.uncached++;
      return fresh;
    }
    key += `|${f}=${columnId(col)}`;
  }
  let shelf = shelves.get(ts.buffer);
  if (!shelf) shelves.set(ts.buffer, (shelf = { entries: new Map(), bytes: 0, lookups: 0 }));
  const lookup = ++shelf.lookups;
  const entries = shelf.entries;
  let e = entries.get(key);
  if (e !== undefined) {
    entries.delete(key);
    // a hit has the run's length by construction (same source columns and session); checked anyway
    if (e.values.length === n) {
      stats.hits++;
      e.used = lookup;
      entries.set(key, e);
      return bands ? new BandsIndicator(e, k) : new SeriesIndicator(e);
    }
    shelf.bytes -= e.bytes;
  }
  // room: evict least recently used series, but none used within the last minIdle lookups
  while (entries.size >= config.maxEntries || shelf.bytes + bytes > config.maxBytes) {
    const first = entries.entries().next();
    if (first.done) break;
    const [oldKey, old] = first.value;
    if (lookup - old.used < config.minIdle) {
      stats.uncached++;
      return fresh;
    }
    entries.delete(oldKey);
    shelf.bytes -= old.bytes;
    stats.evictions++;
  }
  stats.misses++;
  e = record(fresh, n, bands, lookup);
  entries.set(key, e);
  shelf.bytes += e.bytes;
  return bands ? new BandsIndicator(e, k) : new SeriesIndicator(e);
}
