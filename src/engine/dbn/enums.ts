/** DBN enum tables: schemas, stypes and record types (ids as stored in the binary format). */

export const SCHEMA = {
  mbo: 0,
  'mbp-1': 1,
  mbp1: 1,
  'mbp-10': 2,
  mbp10: 2,
  tbbo: 3,
  trades: 4,
  'ohlcv-1s': 5,
  'ohlcv-1m': 6,
  'ohlcv-1h': 7,
  'ohlcv-1d': 8,
  definition: 9,
  statistics: 10,
  status: 11,
  imbalance: 12,
  'ohlcv-eod': 13,
  'cmbp-1': 14,
  'cbbo-1s': 15,
  'cbbo-1m': 16,
  tcbbo: 17,
  'bbo-1s': 18,
  'bbo-1m': 19,
} as const;

const SCHEMA_NAMES = [
  'mbo',
  'mbp-1',
  'mbp-10',
  'tbbo',
  'trades',
  'ohlcv-1s',
  'ohlcv-1m',
  'ohlcv-1h',
  'ohlcv-1d',
  'definition',
  'statistics',
  'status',
  'imbalance',
  'ohlcv-eod',
  'cmbp-1',
  'cbbo-1s',
  'cbbo-1m',
  'tcbbo',
  'bbo-1s',
  'bbo-1m',
];

/** Databento's schema name for an id (`4` → `'trades'`); null for 0xFFFF (mixed) or unknown ids. */
export function schemaName(id: number | null): string | null {
  if (id === null) return null;
  return SCHEMA_NAMES[id] ?? null;
}

/** Schema id for a name (`'trades'` → 4), or undefined. */
const STYPE_NAMES = [
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
];

export const STYPE = {
  instrument_id: 0,
  raw_symbol: 1,
  smart: 2,
  continuous: 3,
  parent: 4,
  nasdaq_symbol: 5,
  cms_symbol: 6,
  isin: 7,
  us_code: 8,
  bbg_comp_id: 9,
  bbg_comp_ticker: 10,
  figi: 11,
  figi_ticker: 12,
} as const;

export function stypeName(id: number | null): string | null {
  if (id === null) return null;
  return STYPE_NAMES[id] ?? null;
}

const RTYPE_NAMES: Record<number, string> = {
  0x00: 'mbp-0',
  0x01: 'mbp-1',
  0x0a: 'mbp-10',
  0x11: 'ohlcv-deprecated',
  0x12: 'status',
  0x13: 'instrument-def',
  0x14: 'imbalance',
  0x15: 'error',
  0x16: 'symbol-mapping',
  0x17: 'system',
  0x18: 'statistics',
  0x20: 'ohlcv-1s',
  0x21: 'ohlcv-1m',
  0x22: 'ohlcv-1h',
  0x23: 'ohlcv-1d',
  0x24: 'ohlcv-eod',
  0xa0: 'mbo',
  0xb1: 'cmbp-1',
  0xc0: 'cbbo-1s',
  0xc1: 'cbbo-1m',
  0xc2: 'tcbbo',
  0xc3: 'bbo-1s',
  0xc4: 'bbo-1m',
};

/** Name of a record type (`0` → `'mbp-0'`), or `'unknown-0xNN'`. */
export function rtypeName(rtype: number): string {
  return RTYPE_NAMES[rtype] ?? `unknown-0x${rtype.toString(16).padStart(2, '0')}`;
}

/** i64::MAX: "no price". */
export const UNDEF_PRICE = 9223372036854775807n;
/** u64::MAX: "no timestamp" (also the metadata `end` when absent). */
export const UNDEF_TIMESTAMP = 18446744073709551615n;
