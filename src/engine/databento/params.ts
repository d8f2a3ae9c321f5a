// Request parameters of the historical API and their form encoding (DBN brief §12).

/** The common fields of timeseries.get_range and metadata.get_cost/get_record_count/get_billable_size. */
export interface RangeParams {
  /** e.g. `GLBX.MDP3` */
  dataset: string;
  /** One symbol, a list, or `ALL_SYMBOLS`; at most 2,000. */
  symbols: string | readonly string[];
  /** e.g. `trades`, `tbbo` */
  schema: string;
  /** Inclusive. ISO-8601 (UTC unless an offset is given), a date `YYYY-MM-DD`, or UNIX ns as an integer string / bigint. */
  start: string | bigint;
  /** Exclusive; optional for the API, but always sent when given. */
  end?: string | bigint;
  /** default `raw_symbol` */
  stypeIn?: string;
  /** default `instrument_id` (get_range only) */
  stypeOut?: string;
  /** Maximum number of records. */
  limit?: number;
}

export const MAX_SYMBOLS = 2000;
// DBN brief §2 stype enum (smart is deprecated but still accepted by the API).
const STYPES = new Set([
  'instrument_id',
  'raw_symbol',
  'smart',
  'continuous',
  'parent',
  'nasdaq_symbol',
  'cms_symbol',
  'isin',
  'us_code',
  'bbg_comp_id',
  'bbg_comp_ticker',
  'figi',
  'figi_ticker',
]);
const DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const UNIX_NS = /^\d{1,20}$/;

/** Throws a TypeError naming the field and what was expected. Returns the normalized symbol list. */
export function validateRangeParams(p: RangeParams): string[] {
  if (!p.dataset || !/^[A-Z0-9]+\.[A-Z0-9]+$/.test(p.dataset)) {
    throw new TypeError(`dataset: expected a Databento dataset code like GLBX.MDP3, got '${p.dataset}'`);
  }
  const symbols = (typeof p.symbols === 'string' ? p.symbols.split(',') : [...p.symbols]).map((s) => s.trim()).filter((s) => s !== '');
  if (symbols.length === 0) throw new TypeError('symbols: expected at least one symbol');
  if (symbols.length > MAX_SYMBOLS) throw new TypeError(`symbols: at most ${MAX_SYMBOLS} per request, got ${symbols.length}`);
  if (!p.schema || !/^[a-z0-9-]+$/.test(p.schema)) throw new TypeError(`schema: expected a schema name like trades, got '${p.schema}'`);
  checkTime('start', p.start);
  if (p.end !== undefined) checkTime('end', p.end);
  if (p.end !== undefined) {
    const s = timeOrder(p.start);
    const e = timeOrder(p.end);
    if (s !== null && e !== null && e <= s) throw new TypeError(`end: must be after start (${String(p.start)}), got '${String(p.end)}'`);
  }
  if (p.stypeIn !== undefined && !STYPES.has(p.stypeIn)) {
    throw new TypeError(`stype_in: expected one of ${[...STYPES].join(', ')}, got '${p.stypeIn}'`);
  }
  if (p.stypeOut !== undefined && !STYPES.has(p.stypeOut)) {
    throw new TypeError(`stype_out: expected one of ${[...STYPES].join(', ')}, got '${p.stypeOut}'`);
  }
  if (p.limit !== undefined && !(Number.isSafeInteger(p.limit) && p.limit > 0)) {
    throw new TypeError(`limit: expected a positive integer, got ${p.limit}`);
  }
  return symbols;
}

function checkTime(field: string, v: string | bigint): void {
  if (typeof v === 'bigint') {
    if (v < 0n) throw new TypeError(`${field}: expected a non-negative UNIX ns time, got ${v}`);
    return;
  }
  if (!(DATETIME.test(v) || UNIX_NS.test(v)) || (!UNIX_NS.test(v) && Number.isNaN(Date.parse(v.replace(' ', 'T'))))) {
    throw new TypeError(`${field}: expected YYYY-MM-DD, an ISO-8601 datetime or UNIX nanoseconds, got '${v}'`);
  }
}

/** Comparable instant in ns (ms precision for ISO text), or null when not comparable. */
function timeOrder(v: string | bigint): bigint | null {
  if (typeof v === 'bigint') return v;
  if (UNIX_NS.test(v)) return BigInt(v);
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(v);
  const iso = v.replace(' ', 'T');
  const ms = Date.parse(v.length === 10 ? `${iso}T00:00:00Z` : hasZone ? iso : `${iso}Z`);
  return Number.isNaN(ms) ? null : BigInt(ms) * 1_000_000n;
}

/** Form body for a metadata.* call (no stype_out/encoding: those only exist on get_range). */
export function metadataForm(p: RangeParams): URLSearchParams {
  const symbols = validateRangeParams(p);
  const f = new URLSearchParams();
  f.set('dataset', p.dataset);
  f.set('symbols', symbols.join(','));
  f.set('schema', p.schema);
  f.set('start', String(p.start));
  if (p.end !== undefined) f.set('end', String(p.end));
  f.set('stype_in', p.stypeIn ?? 'raw_symbol');
  if (p.limit !== undefined) f.set('limit', String(p.limit));
  return f;
}

/** Form body for timeseries.get_range: always DBN, zstd-compressed. */
export function rangeForm(p: RangeParams): URLSearchParams {
  const f = metadataForm(p);
  f.set('stype_out', p.stypeOut ?? 'instrument_id');
  f.set('encoding', 'dbn');
  f.set('compression', 'zstd');
  return f;
}
