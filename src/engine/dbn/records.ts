/**
 * Per-record objects shaped like the JSON of Databento's `dbn` tool: `hd` (ts_event, rtype,
 * publisher_id, instrument_id), then the fields by their Databento names. 64-bit integers are
 * decimal strings, smaller ints numbers, chars one-letter strings, char arrays cut at NUL.
 * Only for JSON output and small reads; the hot path is columnar (columnar.ts).
 */
import { readCStr } from './metadata.ts';
import * as L from './recordLayouts.ts';
import type { Layout } from './recordLayouts.ts';

export interface DbnRecordHeader {
  ts_event: string;
  rtype: number;
  publisher_id: number;
  instrument_id: number;
}

export interface DbnRecord {
  hd: DbnRecordHeader;
  [field: string]: unknown;
}

/**
 * Picks the struct for a record. Layouts that changed between DBN versions are told apart by
 * the record length (minus 8 with ts_out), which is unambiguous: e.g. definitions are
 * 360 (v1) / 400 (v2) / 520 (v3) bytes.
 */
export function layoutFor(rtype: number, bodyLen: number): Layout | null {
  switch (rtype) {
    case 0x00:
      return L.TRADE;
    case 0x01:
      return L.MBP1;
    case 0x0a:
      return L.MBP10;
    case 0x11:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
      return L.OHLCV;
    case 0x12:
      return L.STATUS;
    case 0x13:
      return bodyLen >= 520 ? L.DEFINITION_V3 : bodyLen >= 400 ? L.DEFINITION_V2 : L.DEFINITION_V1;
    case 0x14:
      return L.IMBALANCE;
    case 0x15:
      return bodyLen >= 320 ? L.ERROR_V2 : L.ERROR_V1;
    case 0x16:
      return bodyLen >= 176 ? L.SYMBOL_MAPPING_V2 : L.SYMBOL_MAPPING_V1;
    case 0x17:
      return bodyLen >= 320 ? L.SYSTEM_V2 : L.SYSTEM_V1;
    case 0x18:
      return bodyLen >= 80 ? L.STAT_V3 : L.STAT_V1;
    case 0xa0:
      return L.MBO;
    case 0xb1:
    case 0xc2:
      return L.CMBP1;
    case 0xc0:
    case 0xc1:
      return L.CBBO;
    case 0xc3:
    case 0xc4:
      return L.BBO;
    default:
      return null;
  }
}

function char(c: number): string {
  return c === 0 ? '' : String.fromCharCode(c);
}

function level(v: DataView, o: number): Record<string, unknown> {
  return {
    bid_px: v.getBigInt64(o, true).toString(),
    ask_px: v.getBigInt64(o + 8, true).toString(),
    bid_sz: v.getUint32(o + 16, true),
    ask_sz: v.getUint32(o + 20, true),
    bid_ct: v.getUint32(o + 24, true),
    ask_ct: v.getUint32(o + 28, true),
  };
}

function consolidatedLevel(v: DataView, o: number): Record<string, unknown> {
  return {
    bid_px: v.getBigInt64(o, true).toString(),
    ask_px: v.getBigInt64(o + 8, true).toString(),
    bid_sz: v.getUint32(o + 16, true),
    ask_sz: v.getUint32(o + 20, true),
    bid_pb: v.getUint16(o + 24, true),
    ask_pb: v.getUint16(o + 28, true),
  };
}

/**
 * Decodes the record at `off` (length `len` bytes, already validated against the layout's
 * minimum size). Unknown rtypes give just the header.
 */
export function decodeRecord(v: DataView, u8: Uint8Array, off: number, len: number, tsOut: boolean): DbnRecord {
  const rtype = u8[off + 1]!;
  const rec: DbnRecord = {
    hd: {
      ts_event: v.getBigUint64(off + 8, true).toString(),
      rtype,
      publisher_id: v.getUint16(off + 2, true),
      instrument_id: v.getUint32(off + 4, true),
    },
  };
  const layout = layoutFor(rtype, tsOut ? len - 8 : len);
  if (layout) {
    for (const [name, type, fo] of layout) {
      const o = off + fo;
      switch (type) {
        case 'u8':
          rec[name] = u8[o];
          break;
        case 'i8':
          rec[name] = v.getInt8(o);
          break;
        case 'u16':
          rec[name] = v.getUint16(o, true);
          break;
        case 'i16':
          rec[name] = v.getInt16(o, true);
          break;
        case 'u32':
          rec[name] = v.getUint32(o, true);
          break;
        case 'i32':
          rec[name] = v.getInt32(o, true);
          break;
        case 'u64':
          rec[name] = v.getBigUint64(o, true).toString();
          break;
        case 'i64':
          rec[name] = v.getBigInt64(o, true).toString();
          break;
        case 'c':
          rec[name] = char(u8[o]!);
          break;
        default: {
          if (type.startsWith('s')) rec[name] = readCStr(u8, o, Number(type.slice(1)));
          else if (type.startsWith('lv')) {
            const n = Number(type.slice(2));
            const levels: Record<string, unknown>[] = [];
            for (let i = 0; i < n; i++) levels.push(level(v, o + 32 * i));
            rec[name] = levels;
          } else {
            const n = Number(type.slice(3));
            const levels: Record<string, unknown>[] = [];
            for (let i = 0; i < n; i++) levels.push(consolidatedLevel(v, o + 32 * i));
            rec[name] = levels;
          }
        }
      }
    }
  }
  if (tsOut) rec.ts_out = v.getBigUint64(off + len - 8, true).toString();
  return rec;
}
