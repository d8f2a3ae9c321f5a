/**
 * Field tables for per-record objects (JSON output, small reads), in struct order with
 * Databento's field names. Not the hot path: the columnar fillers in columnar.ts are.
 * Types: u8/i8/u16/i16/u32/i32 → numbers; u64/i64 → decimal strings; c → one ASCII letter;
 * sN → NUL-padded char[N] cut at the first NUL; lv/clv → `levels` (BidAskPair / consolidated).
 */
export type FieldType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'c' | `s${number}` | `lv${number}` | `clv${number}`;
export type Layout = readonly (readonly [name: string, type: FieldType, offset: number])[];

const TRADE_FIELDS: Layout = [
  ['price', 'i64', 16], ['size', 'u32', 24], ['action', 'c', 28], ['side', 'c', 29], ['flags', 'u8', 30],
  ['depth', 'u8', 31], ['ts_recv', 'u64', 32], ['ts_in_delta', 'i32', 40], ['sequence', 'u32', 44],
];

export const TRADE: Layout = TRADE_FIELDS;
export const MBP1: Layout = [...TRADE_FIELDS, ['levels', 'lv1', 48]];
export const MBP10: Layout = [...TRADE_FIELDS, ['levels', 'lv10', 48]];

export const MBO: Layout = [
  ['order_id', 'u64', 16], ['price', 'i64', 24], ['size', 'u32', 32], ['flags', 'u8', 36], ['channel_id', 'u8', 37],
  ['action', 'c', 38], ['side', 'c', 39], ['ts_recv', 'u64', 40], ['ts_in_delta', 'i32', 48], ['sequence', 'u32', 52],
];

export const OHLCV: Layout = [['open', 'i64', 16], ['high', 'i64', 24], ['low', 'i64', 32], ['close', 'i64', 40], ['volume', 'u64', 48]];

export const BBO: Layout = [
  ['price', 'i64', 16], ['size', 'u32', 24], ['side', 'c', 29], ['flags', 'u8', 30], ['ts_recv', 'u64', 32],
  ['sequence', 'u32', 44], ['levels', 'lv1', 48],
];

export const CMBP1: Layout = [
  ['price', 'i64', 16], ['size', 'u32', 24], ['action', 'c', 28], ['side', 'c', 29], ['flags', 'u8', 30],
  ['ts_recv', 'u64', 32], ['ts_in_delta', 'i32', 40], ['levels', 'clv1', 48],
];

export const CBBO: Layout = [
  ['price', 'i64', 16], ['size', 'u32', 24], ['side', 'c', 29], ['flags', 'u8', 30], ['ts_recv', 'u64', 32], ['levels', 'clv1', 48],
];

export const STATUS: Layout = [
  ['ts_recv', 'u64', 16], ['action', 'u16', 24], ['reason', 'u16', 26], ['trading_event', 'u16', 28],
  ['is_trading', 'c', 30], ['is_quoting', 'c', 31], ['is_short_sell_restricted', 'c', 32],
];

export const IMBALANCE: Layout = [
  ['ts_recv', 'u64', 16], ['ref_price', 'i64', 24], ['auction_time', 'u64', 32], ['cont_book_clr_price', 'i64', 40],
  ['auct_interest_clr_price', 'i64', 48], ['ssr_filling_price', 'i64', 56], ['ind_match_price', 'i64', 64],
  ['upper_collar', 'i64', 72], ['lower_collar', 'i64', 80], ['paired_qty', 'u32', 88], ['total_imbalance_qty', 'u32', 92],
  ['market_imbalance_qty', 'u32', 96], ['unpaired_qty', 'u32', 100], ['auction_type', 'c', 104], ['side', 'c', 105],
  ['auction_status', 'u8', 106], ['freeze_status', 'u8', 107], ['num_extensions', 'u8', 108], ['unpaired_side', 'c', 109],
  ['significant_imbalance', 'c', 110],
];

export const STAT_V1: Layout = [
  ['ts_recv', 'u64', 16], ['ts_ref', 'u64', 24], ['price', 'i64', 32], ['quantity', 'i32', 40], ['sequence', 'u32', 44],
  ['ts_in_delta', 'i32', 48], ['stat_type', 'u16', 52], ['channel_id', 'u16', 54], ['update_action', 'u8', 56], ['stat_flags', 'u8', 57],
];
export const STAT_V3: Layout = [
  ['ts_recv', 'u64', 16], ['ts_ref', 'u64', 24], ['price', 'i64', 32], ['quantity', 'i64', 40], ['sequence', 'u32', 48],
  ['ts_in_delta', 'i32', 52], ['stat_type', 'u16', 56], ['channel_id', 'u16', 58], ['update_action', 'u8', 60], ['stat_flags', 'u8', 61],
];

export const ERROR_V1: Layout = [['err', 's64', 16]];
export const ERROR_V2: Layout = [['err', 's302', 16], ['code', 'u8', 318], ['is_last', 'u8', 319]];
export const SYSTEM_V1: Layout = [['msg', 's64', 16]];
export const SYSTEM_V2: Layout = [['msg', 's303', 16], ['code', 'u8', 319]];
export const SYMBOL_MAPPING_V1: Layout = [
  ['stype_in_symbol', 's22', 16], ['stype_out_symbol', 's22', 38], ['start_ts', 'u64', 64], ['end_ts', 'u64', 72],
];
export const SYMBOL_MAPPING_V2: Layout = [
  ['stype_in', 'u8', 16], ['stype_in_symbol', 's71', 17], ['stype_out', 'u8', 88], ['stype_out_symbol', 's71', 89],
  ['start_ts', 'u64', 160], ['end_ts', 'u64', 168],
];

const DEF_HEAD: Layout = [
  ['ts_recv', 'u64', 16], ['min_price_increment', 'i64', 24], ['display_factor', 'i64', 32], ['expiration', 'u64', 40],
  ['activation', 'u64', 48], ['high_limit_price', 'i64', 56], ['low_limit_price', 'i64', 64], ['max_price_variation', 'i64', 72],
];

export const DEFINITION_V1: Layout = [
  ...DEF_HEAD,
  ['trading_reference_price', 'i64', 80], ['unit_of_measure_qty', 'i64', 88], ['min_price_increment_amount', 'i64', 96],
  ['price_ratio', 'i64', 104], ['inst_attrib_value', 'i32', 112], ['underlying_id', 'u32', 116], ['raw_instrument_id', 'u32', 120],
  ['market_depth_implied', 'i32', 124], ['market_depth', 'i32', 128], ['market_segment_id', 'u32', 132], ['max_trade_vol', 'u32', 136],
  ['min_lot_size', 'i32', 140], ['min_lot_size_block', 'i32', 144], ['min_lot_size_round_lot', 'i32', 148], ['min_trade_vol', 'u32', 152],
  ['contract_multiplier', 'i32', 160], ['decay_quantity', 'i32', 164], ['original_contract_size', 'i32', 168],
  ['trading_reference_date', 'u16', 176], ['appl_id', 'i16', 178], ['maturity_year', 'u16', 180], ['decay_start_date', 'u16', 182],
  ['channel_id', 'u16', 184], ['currency', 's4', 186], ['settl_currency', 's4', 190], ['secsubtype', 's6', 194],
  ['raw_symbol', 's22', 200], ['group', 's21', 222], ['exchange', 's5', 243], ['asset', 's7', 248], ['cfi', 's7', 255],
  ['security_type', 's7', 262], ['unit_of_measure', 's31', 269], ['underlying', 's21', 300], ['strike_price_currency', 's4', 321],
  ['instrument_class', 'c', 325], ['strike_price', 'i64', 328], ['match_algorithm', 'c', 342], ['md_security_trading_status', 'u8', 343],
  ['main_fraction', 'u8', 344], ['price_display_format', 'u8', 345], ['settl_price_type', 'u8', 346], ['sub_fraction', 'u8', 347],
  ['underlying_product', 'u8', 348], ['security_update_action', 'c', 349], ['maturity_month', 'u8', 350], ['maturity_day', 'u8', 351],
  ['maturity_week', 'u8', 352], ['user_defined_instrument', 'c', 353], ['contract_multiplier_unit', 'i8', 354],
  ['flow_schedule_type', 'i8', 355], ['tick_rule', 'u8', 356],
];

export const DEFINITION_V2: Layout = [
  ...DEF_HEAD,
  ['trading_reference_price', 'i64', 80], ['unit_of_measure_qty', 'i64', 88], ['min_price_increment_amount', 'i64', 96],
  ['price_ratio', 'i64', 104], ['strike_price', 'i64', 112], ['inst_attrib_value', 'i32', 120], ['underlying_id', 'u32', 124],
  ['raw_instrument_id', 'u32', 128], ['market_depth_implied', 'i32', 132], ['market_depth', 'i32', 136],
  ['market_segment_id', 'u32', 140], ['max_trade_vol', 'u32', 144], ['min_lot_size', 'i32', 148], ['min_lot_size_block', 'i32', 152],
  ['min_lot_size_round_lot', 'i32', 156], ['min_trade_vol', 'u32', 160], ['contract_multiplier', 'i32', 164],
  ['decay_quantity', 'i32', 168], ['original_contract_size', 'i32', 172], ['trading_reference_date', 'u16', 176],
  ['appl_id', 'i16', 178], ['maturity_year', 'u16', 180], ['decay_start_date', 'u16', 182], ['channel_id', 'u16', 184],
  ['currency', 's4', 186], ['settl_currency', 's4', 190], ['secsubtype', 's6', 194], ['raw_symbol', 's71', 200],
  ['group', 's21', 271], ['exchange', 's5', 292], ['asset', 's7', 297], ['cfi', 's7', 304], ['security_type', 's7', 311],
  ['unit_of_measure', 's31', 318], ['underlying', 's21', 349], ['strike_price_currency', 's4', 370], ['instrument_class', 'c', 374],
  ['match_algorithm', 'c', 375], ['md_security_trading_status', 'u8', 376], ['main_fraction', 'u8', 377],
  ['price_display_format', 'u8', 378], ['settl_price_type', 'u8', 379], ['sub_fraction', 'u8', 380], ['underlying_product', 'u8', 381],
  ['security_update_action', 'c', 382], ['maturity_month', 'u8', 383], ['maturity_day', 'u8', 384], ['maturity_week', 'u8', 385],
  ['user_defined_instrument', 'c', 386], ['contract_multiplier_unit', 'i8', 387], ['flow_schedule_type', 'i8', 388], ['tick_rule', 'u8', 389],
];

export const DEFINITION_V3: Layout = [
  ...DEF_HEAD,
  ['unit_of_measure_qty', 'i64', 80], ['min_price_increment_amount', 'i64', 88], ['price_ratio', 'i64', 96],
  ['strike_price', 'i64', 104], ['raw_instrument_id', 'u64', 112], ['leg_price', 'i64', 120], ['leg_delta', 'i64', 128],
  ['inst_attrib_value', 'i32', 136], ['underlying_id', 'u32', 140], ['market_depth_implied', 'i32', 144], ['market_depth', 'i32', 148],
  ['market_segment_id', 'u32', 152], ['max_trade_vol', 'u32', 156], ['min_lot_size', 'i32', 160], ['min_lot_size_block', 'i32', 164],
  ['min_lot_size_round_lot', 'i32', 168], ['min_trade_vol', 'u32', 172], ['contract_multiplier', 'i32', 176],
  ['decay_quantity', 'i32', 180], ['original_contract_size', 'i32', 184], ['leg_instrument_id', 'u32', 188],
  ['leg_ratio_price_numerator', 'i32', 192], ['leg_ratio_price_denominator', 'i32', 196], ['leg_ratio_qty_numerator', 'i32', 200],
  ['leg_ratio_qty_denominator', 'i32', 204], ['leg_underlying_id', 'u32', 208], ['appl_id', 'i16', 212], ['maturity_year', 'u16', 214],
  ['decay_start_date', 'u16', 216], ['channel_id', 'u16', 218], ['leg_count', 'u16', 220], ['leg_index', 'u16', 222],
  ['currency', 's4', 224], ['settl_currency', 's4', 228], ['secsubtype', 's6', 232], ['raw_symbol', 's71', 238], ['group', 's21', 309],
  ['exchange', 's5', 330], ['asset', 's11', 335], ['cfi', 's7', 346], ['security_type', 's7', 353], ['unit_of_measure', 's31', 360],
  ['underlying', 's21', 391], ['strike_price_currency', 's4', 412], ['leg_raw_symbol', 's71', 416], ['instrument_class', 'c', 487],
  ['match_algorithm', 'c', 488], ['main_fraction', 'u8', 489], ['price_display_format', 'u8', 490], ['sub_fraction', 'u8', 491],
  ['underlying_product', 'u8', 492], ['security_update_action', 'c', 493], ['maturity_month', 'u8', 494], ['maturity_day', 'u8', 495],
  ['maturity_week', 'u8', 496], ['user_defined_instrument', 'c', 497], ['contract_multiplier_unit', 'i8', 498],
  ['flow_schedule_type', 'i8', 499], ['tick_rule', 'u8', 500], ['leg_instrument_class', 'c', 501], ['leg_side', 'c', 502],
];
