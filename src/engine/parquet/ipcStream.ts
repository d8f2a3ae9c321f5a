/**
 * Column specs → one Arrow IPC stream (schema, one record batch per row group, end-of-stream)
 * in a scratch buffer reused across calls, for `pq.Table.fromIPCStream` to copy into wasm.
 *
 * Why not apache-arrow's `tableToIPC`: for a 100 k-row run artifact it built Data objects, a
 * chunk list and then a fresh multi-MB buffer per file (~7 ms and most of a sweep's GC churn).
 * Here every column is converted straight into its place in the body, and the record batch
 * header is a fixed-shape FlatBuffer written in place. The schema message is a small FlatBuffer
 * written here too (built once per schema), so writing Parquet never loads apache-arrow
 * (~10 ms of module start per process): parquet-wasm re-serialises the schema it reads into the
 * file's ARROW:schema, so the Parquet bytes are those apache-arrow's schema gave (a test
 * compares them).
 *
 * The returned bytes are a view of the scratch buffer: valid until the next call (callers hand
 * them to parquet-wasm synchronously). Format: Arrow columnar spec, "Encapsulated message
 * format" (continuation 0xFFFFFFFF, metadata length, Message FlatBuffer, 8-byte aligned body).
 */
import { ColumnError, type ColumnSpec } from './arrowChunks.ts';
import { schemaMessage } from './ipcSchema.ts';

const TWO32 = 4294967296;
const pad8 = (n: number) => (n + 7) & ~7;

let scratch = new Uint8Array(1 << 16);

/** Grows the scratch buffer (keeping the first `used` bytes) so that `need` bytes fit. */
function ensure(need: number, used: number): void {
  if (need <= scratch.length) return;
  const next = new Uint8Array(Math.max(need + (need >> 3), 2 * scratch.length));
  next.set(scratch.subarray(0, used));
  scratch = next;
}

const bufferCount = (c: ColumnSpec) => (c.type === 'utf8' ? 3 : 2);

/** Size of the RecordBatch Message FlatBuffer written by `writeBatchHeader` (a multiple of 8). */
const headerSize = (fields: number, buffers: number) => 80 + 16 * fields + 16 * buffers;

function setI64(v: DataView, at: number, x: number): void {
  const hi = Math.floor(x / TWO32);
  v.setUint32(at, x - hi * TWO32, true);
  v.setInt32(at + 4, hi, true);
}

/**
 * The Message{version V5, header RecordBatch{length, nodes, buffers}, bodyLength} FlatBuffer at
 * `at`, laid out forwards with every table, int64 and struct vector aligned as the verifier wants:
 *   0 root → 16 | 4 Message vtable | 16 Message | 36 RecordBatch vtable | 48 RecordBatch |
 *   68 nodes [FieldNode{length, null_count}] | 4 pad | buffers [Buffer{offset, length}]
 */
function writeBatchHeader(
  v: DataView,
  at: number,
  rows: number,
  nodes: Float64Array,
  regions: Float64Array,
  fields: number,
  buffers: number,
  bodyLength: number,
): void {
  const nodesAt = at + 68; // vector length prefixes sit 4 bytes before an 8-aligned element
  const buffersAt = nodesAt + 8 + 16 * fields;
  v.setUint32(at, 16, true);
  // Message vtable: 4 fields (version, header_type, header, bodyLength); table of 20 bytes.
  v.setUint16(at + 4, 12, true);
  v.setUint16(at + 6, 20, true);
  v.setUint16(at + 8, 16, true);
  v.setUint16(at + 10, 18, true);
  v.setUint16(at + 12, 4, true);
  v.setUint16(at + 14, 8, true);
  v.setInt32(at + 16, 12, true); // table → vtable (16 − 4)
  v.setUint32(at + 20, 48 - 20, true); // header → RecordBatch
  setI64(v, at + 24, bodyLength);
  v.setInt16(at + 32, 4, true); // MetadataVersion.V5
  v.setUint8(at + 34, 3); // MessageHeader.RecordBatch
  v.setUint8(at + 35, 0);
  // RecordBatch vtable: 3 fields (length, nodes, buffers); table of 20 bytes.
  v.setUint16(at + 36, 10, true);
  v.setUint16(at + 38, 20, true);
  v.setUint16(at + 40, 8, true);
  v.setUint16(at + 42, 4, true);
  v.setUint16(at + 44, 16, true);
  v.setUint16(at + 46, 0, true);
  v.setInt32(at + 48, 12, true); // table → vtable (48 − 36)
  v.setUint32(at + 52, nodesAt - (at + 52), true);
  setI64(v, at + 56, rows);
  v.setUint32(at + 64, buffersAt - (at + 64), true);
  v.setUint32(nodesAt, fields, true);
  for (let i = 0; i < 2 * fields; i++) setI64(v, nodesAt + 4 + 8 * i, nodes[i]!);
  v.setUint32(buffersAt - 4, 0, true); // padding: struct elements must be 8-aligned
  v.setUint32(buffersAt, buffers, true);
  for (let i = 0; i < 2 * buffers; i++) setI64(v, buffersAt + 4 + 8 * i, regions[i]!);
}

/** Encoder state of one stream: write position and per-batch node/buffer tables (reused). */
class BodyWriter {
  pos = 0;
  bodyStart = 0;
  nodes = new Float64Array(0);
  regions = new Float64Array(0);
  nRegion = 0;

  /** Reserves `bytes` (padded to 8, zeroed padding) at the write position; returns their start. */
  reserve(bytes: number): number {
    const at = this.pos;
    const end = at + pad8(bytes);
    ensure(end + 8, at);
    scratch.fill(0, at + bytes, end);
    this.pos = end;
    return at;
  }

  region(at: number, bytes: number): void {
    this.regions[2 * this.nRegion] = at - this.bodyStart;
    this.regions[2 * this.nRegion + 1] = bytes;
    this.nRegion++;
  }
}

/** Validity bitmap of rows [off, off+len) at the write position; null count (0: no buffer kept). */
function writeValidity(w: BodyWriter, c: ColumnSpec, off: number, len: number): number {
  const nulls = c.nulls;
  const nanIsNull = c.nanIsNull === true && c.type === 'float64';
  const strings = c.type === 'utf8' && c.constant === undefined;
  const start = w.pos;
  if (nulls === undefined && !nanIsNull && !strings) {
    w.region(start, 0);
    return 0;
  }
  const bytes = (len + 7) >> 3;
  const at = w.reserve(bytes);
  const bm = scratch;
  bm.fill(0xff, at, at + bytes);
  let count = 0;
  // One tight loop per source of nulls; a row null for two reasons is counted once.
  const clear = (i: number) => {
    const b = at + (i >> 3);
    const bit = 1 << (i & 7);
    if (bm[b]! & bit) {
      bm[b] = bm[b]! & ~bit;
      count++;
    }
  };
  if (nulls !== undefined) for (let i = 0; i < len; i++) if (nulls[off + i] === 1) clear(i);
  if (nanIsNull) {
    const v = c.values as ArrayLike<number>;
    for (let i = 0; i < len; i++) {
      const x = v[off + i]!;
      if (x !== x) clear(i);
    }
  }
  if (strings) {
    const v = c.values as readonly (string | null)[];
    for (let i = 0; i < len; i++) if (v[off + i] === null) clear(i);
  }
  if (count === 0) {
    w.pos = start;
    w.region(start, 0);
    return 0;
  }
  w.region(at, bytes);
  return count;
}

function writeFloat64(w: BodyWriter, c: ColumnSpec, off: number, len: number): void {
  const at = w.reserve(8 * len);
  const src = c.values;
  if (src instanceof Float64Array) scratch.set(new Uint8Array(src.buffer, src.byteOffset + 8 * off, 8 * len), at);
  else {
    const out = new Float64Array(scratch.buffer, at, len);
    const s = src as ArrayLike<number>;
    for (let i = 0; i < len; i++) out[i] = s[off + i]!;
  }
  w.region(at, 8 * len);
}

function writeInt64(w: BodyWriter, c: ColumnSpec, off: number, len: number): void {
  const at = w.reserve(8 * len);
  const src = c.values;
  if (src instanceof BigInt64Array) {
    scratch.set(new Uint8Array(src.buffer, src.byteOffset + 8 * off, 8 * len), at);
  } else {
    // Two 32-bit halves per value: no BigInt per row.
    const out = new Int32Array(scratch.buffer, at, 2 * len);
    const s = src as ArrayLike<number>;
    const nulls = c.nulls;
    for (let i = 0; i < len; i++) {
      const v = s[off + i]!;
      if (!Number.isInteger(v) || v >= 9223372036854775808 || v < -9223372036854775808) {
        if (nulls !== undefined && nulls[off + i] === 1) {
          out[2 * i] = 0;
          out[2 * i + 1] = 0;
          continue;
        }
        throw new ColumnError(c.name, off + i, `${v} is not an integer in the int64 range`);
      }
      const hi = Math.floor(v / TWO32);
      out[2 * i] = (v - hi * TWO32) | 0;
      out[2 * i + 1] = hi | 0;
    }
  }
  w.region(at, 8 * len);
}

function writeInt32(w: BodyWriter, c: ColumnSpec, off: number, len: number): void {
  const at = w.reserve(4 * len);
  const src = c.values;
  if (src instanceof Int32Array) scratch.set(new Uint8Array(src.buffer, src.byteOffset + 4 * off, 4 * len), at);
  else {
    const out = new Int32Array(scratch.buffer, at, len);
    const s = src as ArrayLike<number>;
    for (let i = 0; i < len; i++) {
      const v = s[off + i]!;
      if ((v | 0) !== v) {
        if (c.nulls?.[off + i] === 1) {
          out[i] = 0;
          continue;
        }
        throw new ColumnError(c.name, off + i, `${v} is not an int32`);
      }
      out[i] = v;
    }
  }
  w.region(at, 4 * len);
}

function writeBool(w: BodyWriter, c: ColumnSpec, off: number, len: number): void {
  const bytes = (len + 7) >> 3;
  const at = w.reserve(bytes);
  scratch.fill(0, at, at + bytes);
  const src = c.values as ArrayLike<number | boolean>;
  for (let i = 0; i < len; i++) if (src[off + i]) scratch[at + (i >> 3)]! |= 1 << (i & 7);
  w.region(at, bytes);
}

const encoder = new TextEncoder();

/** Offsets (int32 × len+1) then the UTF-8 bytes; each distinct string is encoded once. */
function writeUtf8(w: BodyWriter, c: ColumnSpec, off: number, len: number): void {
  const offsetsAt = w.reserve(4 * (len + 1));
  let total = 0;
  if (c.constant !== undefined) {
    const one = encoder.encode(c.constant);
    const dataAt = w.reserve(one.length * len);
    const offsets = new Int32Array(scratch.buffer, offsetsAt, len + 1);
    for (let i = 0; i <= len; i++) offsets[i] = i * one.length;
    for (let i = 0; i < len; i++) scratch.set(one, dataAt + i * one.length);
    w.region(offsetsAt, 4 * (len + 1));
    w.region(dataAt, one.length * len);
    return;
  }
  const src = c.values as readonly (string | null)[];
  const cache = new Map<string, Uint8Array>();
  // First pass: byte lengths (and type checks), so the data buffer is reserved once.
  for (let i = 0; i < len; i++) {
    const s = src[off + i];
    if (s === null || s === undefined) continue;
    if (typeof s !== 'string') throw new ColumnError(c.name, off + i, `${String(s)} is not a string`);
    let b = cache.get(s);
    if (b === undefined) {
      b = encoder.encode(s);
      cache.set(s, b);
    }
    total += b.length;
    if (total > 0x7fffffff) throw new ColumnError(c.name, off + i, 'more than 2 GiB of string data in one row group');
  }
  const dataAt = w.reserve(total);
  const offsets = new Int32Array(scratch.buffer, offsetsAt, len + 1);
  let p = 0;
  offsets[0] = 0;
  for (let i = 0; i < len; i++) {
    const s = src[off + i];
    if (s !== null && s !== undefined) {
      const b = cache.get(s)!;
      scratch.set(b, dataAt + p);
      p += b.length;
    }
    offsets[i + 1] = p;
  }
  w.region(offsetsAt, 4 * (len + 1));
  w.region(dataAt, total);
}

const writer = new BodyWriter();

/** Body bytes of `rows` rows of `columns` without padding (validity bitmaps counted as present). */
function streamBytes(columns: readonly ColumnSpec[], rows: number): number {
  let n = 0;
  for (const c of columns) {
    n += (rows + 7) >> 3;
    if (c.type === 'float64' || c.type === 'int64' || c.type === 'timestamp_ns_utc') n += 8 * rows;
    else if (c.type === 'int32') n += 4 * rows;
    else if (c.type === 'bool') n += (rows + 7) >> 3;
    else n += 4 * (rows + 1) + (c.constant === undefined ? 0 : encoder.encode(c.constant).length * rows);
  }
  return n;
}

/**
 * The IPC stream of `columns` (all `rows` long, already checked by the caller) cut into record
 * batches of `batchRows` rows (0 rows: one empty batch), or only rows [from, from+count) as
 * one batch when `count` is given. A view of the scratch buffer, valid until the next call.
 */
export function encodeIpcStream(columns: readonly ColumnSpec[], rows: number, batchRows: number, from = 0, count?: number): Uint8Array {
  const schema = schemaMessage(columns);
  const fields = columns.length;
  let buffers = 0;
  for (const c of columns) buffers += bufferCount(c);
  const w = writer;
  if (w.nodes.length < 2 * fields) w.nodes = new Float64Array(2 * fields);
  if (w.regions.length < 2 * buffers) w.regions = new Float64Array(2 * buffers);
  const end = count === undefined ? rows : from + count;
  // the whole stream's size up front (strings beyond a constant are left to growth): one
  // allocation instead of a doubling series of copies for a multi-MB table
  const batches = Math.max(1, Math.ceil((end - from) / (count === undefined ? batchRows : Math.max(count, 1))));
  ensure(schema.length + 16 + batches * (8 + headerSize(fields, buffers) + 8 * buffers) + streamBytes(columns, end - from), 0);
  scratch.set(schema, 0);
  w.pos = schema.length;
  let off = from;
  do {
    const len = count === undefined ? Math.min(batchRows, end - off) : count;
    const msgAt = w.pos;
    const meta = headerSize(fields, buffers);
    w.reserve(8 + meta);
    w.bodyStart = w.pos;
    w.nRegion = 0;
    for (let f = 0; f < fields; f++) {
      const c = columns[f]!;
      w.nodes[2 * f] = len;
      w.nodes[2 * f + 1] = writeValidity(w, c, off, len);
      switch (c.type) {
        case 'float64':
          writeFloat64(w, c, off, len);
          break;
        case 'timestamp_ns_utc':
        case 'int64':
          writeInt64(w, c, off, len);
          break;
        case 'int32':
          writeInt32(w, c, off, len);
          break;
        case 'bool':
          writeBool(w, c, off, len);
          break;
        case 'utf8':
          writeUtf8(w, c, off, len);
          break;
      }
    }
    const v = new DataView(scratch.buffer);
    v.setInt32(msgAt, -1, true);
    v.setInt32(msgAt + 4, meta, true);
    writeBatchHeader(v, msgAt + 8, len, w.nodes, w.regions, fields, buffers, w.pos - w.bodyStart);
    off += len;
  } while (off < end);
  ensure(w.pos + 8, w.pos);
  const v = new DataView(scratch.buffer);
  v.setInt32(w.pos, -1, true);
  v.setInt32(w.pos + 4, 0, true);
  return scratch.subarray(0, w.pos + 8);
}
