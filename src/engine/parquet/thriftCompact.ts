/**
 * Thrift compact protocol: a generic struct reader (field id → value), enough for the Parquet
 * footer (FileMetaData) and page headers (PageHeader) the flat reader needs. Fields come back by
 * id, untyped; the callers pick the ones they know (parquet.thrift numbering). Anything odd —
 * truncated bytes, an unknown type, a varint too long, nesting past MAX_DEPTH — throws
 * FlatReadUnsupported, so the caller falls back to parquet-wasm.
 *
 * Format: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 */
import { unsupported } from './errors.ts';

export type TValue = number | boolean | Uint8Array | TValue[] | TStruct | [TValue, TValue][];
export type TStruct = { [field: number]: TValue | undefined };

const MAX_DEPTH = 24;

export class CompactReader {
  readonly buf: Uint8Array;
  readonly end: number;
  pos: number;
  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.end = end;
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.end) unsupported('thrift: truncated');
    return this.buf[this.pos++]!;
  }

  /** Unsigned varint as a double (exact below 2^53; larger values only lose precision). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    return unsupported('thrift: varint too long');
  }

  zigzag(): number {
    const u = this.varint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  binary(): Uint8Array {
    const n = this.varint();
    if (n > this.end - this.pos) unsupported('thrift: binary past the end');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  value(type: number, depth: number): TValue {
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case 4:
      case 5:
      case 6:
        return this.zigzag();
      case 7: {
        if (this.end - this.pos < 8) unsupported('thrift: truncated double');
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case 8:
        return this.binary();
      case 9:
      case 10:
        return this.list(depth);
      case 11:
        return this.map(depth);
      case 12:
        return this.struct(depth + 1);
      default:
        return unsupported(`thrift: unknown type ${type}`);
    }
  }

  list(depth: number): TValue[] {
    const h = this.byte();
    let size = h >> 4;
    if (size === 15) size = this.varint();
    const type = h & 0x0f;
    if (size > this.end - this.pos) unsupported('thrift: list longer than its bytes');
    const out: TValue[] = [];
    for (let i = 0; i < size; i++) out.push(type === 1 || type === 2 ? this.byte() === 1 : this.value(type, depth));
    return out;
  }

  map(depth: number): [TValue, TValue][] {
    const size = this.varint();
    if (size === 0) return [];
    if (size > this.end - this.pos) unsupported('thrift: map longer than its bytes');
    const kv = this.byte();
    const out: [TValue, TValue][] = [];
    for (let i = 0; i < size; i++) out.push([this.value(kv >> 4, depth), this.value(kv & 0x0f, depth)]);
    return out;
  }

  struct(depth = 0): TStruct {
    if (depth > MAX_DEPTH) unsupported('thrift: nested too deeply');
    const out: TStruct = {};
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const delta = h >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      out[id] = this.value(h & 0x0f, depth);
    }
  }
}

export const num = (v: TValue | undefined, what: string): number => (typeof v === 'number' ? v : unsupported(`${what}: missing`));
export const optNum = (v: TValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
export const struct = (v: TValue | undefined): TStruct | undefined =>
  v !== undefined && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? v : undefined;
export const list = (v: TValue | undefined): TValue[] => (Array.isArray(v) ? (v as TValue[]) : []);
const decoder = new TextDecoder();
export const text = (v: TValue | undefined): string | undefined => (v instanceof Uint8Array ? decoder.decode(v) : undefined);
