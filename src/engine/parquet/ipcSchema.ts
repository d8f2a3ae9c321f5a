/**
 * The Arrow IPC schema message of a set of column specs (ipcStream.ts writes it first): a small
 * FlatBuffer written front to back, built once per schema and cached by its column list, so
 * writing Parquet never loads apache-arrow.
 */
import { isNullable, type ColumnSpec, type ColumnType } from './arrowChunks.ts';

const encoder = new TextEncoder();

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
export function schemaMessage(columns: readonly ColumnSpec[]): Uint8Array {
  const key = columns.map((c) => `${c.name}\u0000${c.type}\u0000${isNullable(c) ? 1 : 0}`).join('\u0001');
  let msg = schemaMessages.get(key);
  if (msg === undefined) {
    msg = encodeSchemaMessage(columns);
    if (schemaMessages.size < 64) schemaMessages.set(key, msg);
  }
  return msg;
}

/** Buffers per column in the record batch body: validity + values (+ data for utf8). */
