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
import { ColumnError, isNullable, type ColumnSpec, type ColumnType } from './arrowChunks.ts';

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

/**
 * A FlatBuffer laid out front to back: every object is written after the offset that points to
 * it (offsets are unsigned and point forward), tables after their vtables, each scalar aligned
 * to its size relative to the buffer start (what the arrow-rs verifier checks).
 */
class ForwardFlatBuffer {
  bytes = new Uint8Array(512);
  pos = 0;

  private view(): DataView {
    return new DataView(this.bytes.buffer);
  }

  private room(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(2 * this.bytes.length, this.pos + n));
    next.set(this.bytes);
    this.bytes = next;
  }

  align(a: number): void {
    const to = (this.pos + a - 1) & ~(a - 1);
    this.room(to - this.pos);
    this.pos = to;
  }

  u32(x: number): number {
    this.align(4);
    this.room(4);
    const at = this.pos;
    this.view().setUint32(at, x, true);
    this.pos += 4;
    return at;
  }

  /** Points the uoffset slot at `slot` to `target` (which must come after it). */
  patch(slot: number, target: number): void {
    this.view().setUint32(slot, target - slot, true);
  }

  /**
   * A table of `fields` in vtable order: scalars {size, value} or {size: 0} for an offset (a
   * slot patched later), null when absent. Returns the table's position and each field's slot.
   */
  table(fields: readonly ({ size: 0 | 1 | 2 | 4 | 8; value?: number } | null)[]): { at: number; slots: number[] } {
    this.align(2);
    const vt = this.pos;
    const vtSize = 4 + 2 * fields.length;
    const maxAlign = fields.some((f) => f?.size === 8) ? 8 : 4;
    const tableAt = (vt + vtSize + maxAlign - 1) & ~(maxAlign - 1);
    // field offsets inside the table, each aligned in absolute terms
    let end = tableAt + 4;
    const where = fields.map((f) => {
      if (f === null) return 0;
      const size = f.size === 0 ? 4 : f.size;
      const at = (end + size - 1) & ~(size - 1);
      end = at + size;
      return at;
    });
    this.room(end - this.pos);
    const v = this.view();
    v.setUint16(vt, vtSize, true);
    v.setUint16(vt + 2, end - tableAt, true);
    fields.forEach((_, i) => v.setUint16(vt + 4 + 2 * i, where[i] === 0 ? 0 : where[i]! - tableAt, true));
    this.bytes.fill(0, vt + vtSize, end);
    v.setInt32(tableAt, tableAt - vt, true); // vtable = table − soffset
    const slots: number[] = [];
    fields.forEach((f, i) => {
      if (f === null) return;
      const at = where[i]!;
      if (f.size === 0) slots[i] = at;
      else if (f.size === 1) v.setUint8(at, f.value ?? 0);
      else if (f.size === 2) v.setInt16(at, f.value ?? 0, true);
      else if (f.size === 4) v.setInt32(at, f.value ?? 0, true);
      else v.setBigInt64(at, BigInt(f.value ?? 0), true);
    });
    this.pos = end;
    return { at: tableAt, slots };
  }

  string(s: string): number {
    const utf8 = encoder.encode(s);
    const at = this.u32(utf8.length);
    this.room(utf8.length + 1);
    this.bytes.set(utf8, this.pos);
    this.bytes[this.pos + utf8.length] = 0;
    this.pos += utf8.length + 1;
    return at;
  }

  /** A vector of `n` offsets; returns the vector's position and its element slots. */
  offsets(n: number): { at: number; slots: number[] } {
    const at = this.u32(n);
    const slots: number[] = [];
    for (let i = 0; i < n; i++) slots.push(this.u32(0));
    return { at, slots };
  }
}

/** Arrow Schema.fbs `Type` union id of a column type. */
const TYPE_ID: Record<ColumnType, number> = { int32: 2, int64: 2, float64: 3, utf8: 5, bool: 6, timestamp_ns_utc: 10 };

/** The type table a column type points to (Int, FloatingPoint, Utf8, Bool or Timestamp). */
function writeType(fb: ForwardFlatBuffer, t: ColumnType): number {
  switch (t) {
    case 'int32':
    case 'int64':
      return fb.table([
        { size: 4, value: t === 'int32' ? 32 : 64 },
        { size: 1, value: 1 },
      ]).at; // bitWidth, is_signed
    case 'float64':
      return fb.table([{ size: 2, value: 2 }]).at; // precision: DOUBLE
    case 'utf8':
    case 'bool':
      return fb.table([]).at;
    case 'timestamp_ns_utc': {
      const ts = fb.table([{ size: 2, value: 3 }, { size: 0 }]); // unit: NANOSECOND, timezone
      fb.patch(ts.slots[1]!, fb.string('UTC'));
      return ts.at;
    }
  }
}

/**
 * The encapsulated Schema message (continuation, length, FlatBuffer padded to 8):
 * Message{version V5, header Schema{endianness Little, fields}, bodyLength 0}; each Field has
 * name, nullable, type and an empty children vector, as apache-arrow writes them.
 */
export function encodeSchemaMessage(columns: readonly ColumnSpec[]): Uint8Array {
  const nullable = columns.map(isNullable);
  const fb = new ForwardFlatBuffer();
  const root = fb.u32(0);
  // Message: version, header_type, header, bodyLength
  const message = fb.table([{ size: 2, value: 4 }, { size: 1, value: 1 }, { size: 0 }, { size: 8, value: 0 }]);
  fb.patch(root, message.at);
  // Schema: endianness, fields
  const schema = fb.table([{ size: 2, value: 0 }, { size: 0 }]);
  fb.patch(message.slots[2]!, schema.at);
  const fields = fb.offsets(columns.length);
  fb.patch(schema.slots[1]!, fields.at);
  columns.forEach((c, i) => {
    // Field: name, nullable, type_type, type, dictionary (absent), children
    const f = fb.table([
      { size: 0 },
      { size: 1, value: nullable[i] ? 1 : 0 },
      { size: 1, value: TYPE_ID[c.type] },
      { size: 0 },
      null,
      { size: 0 },
    ]);
    fb.patch(fields.slots[i]!, f.at);
    fb.patch(f.slots[0]!, fb.string(c.name));
    fb.patch(f.slots[3]!, writeType(fb, c.type));
    fb.patch(f.slots[5]!, fb.offsets(0).at);
  });
  fb.align(8);
  const out = new Uint8Array(8 + fb.pos);
  const v = new DataView(out.buffer);
  v.setInt32(0, -1, true);
  v.setInt32(4, fb.pos, true);
  out.set(fb.bytes.subarray(0, fb.pos), 8);
  return out;
}

const schemaMessages = new Map<string, Uint8Array>();

/** The encapsulated Schema message for these columns, built once per schema. */
function schemaMessage(columns: readonly ColumnSpec[]): Uint8Array {
  const key = columns.map((c) => `${c.name}\u0000${c.type}\u0000${isNullable(c) ? 1 : 0}`).join('\u0001');
  let msg = schemaMessages.get(key);
  if (msg === undefined) {
    msg = encodeSchemaMessage(columns);
    if (schemaMessages.size < 64) schemaMessages.set(key, msg);
  }
  return msg;
}

/** Buffers per column in the record batch body: validity + values (+ data for utf8). */
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
