import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { encodeIpcStream } from '../../../src/engine/parquet/ipcStream.ts';
import type { ColumnSpec } from '../../../src/engine/parquet/table.ts';

const T0 = 1709562600e9;

/** Every column type, nulls from a mask, from NaN and from null strings (one row null for both). */
function mixed(): ColumnSpec[] {
  return [
    { name: 'id', type: 'int32', values: [1, 2, 3, 4, 5] },
    { name: 'big', type: 'int64', values: new BigInt64Array([10n, 9007199254740993n, -5n, 0n, -(2n ** 63n)]) },
    { name: 'ts', type: 'timestamp_ns_utc', values: new Float64Array([T0, T0 + 60e9, T0 + 120e9, T0 + 180e9, -(2 ** 62)]) },
    { name: 'side', type: 'utf8', values: ['buy', 'sell', null, 'bûy ✓', ''] },
    { name: 'sym', type: 'utf8', values: { length: 5 }, constant: 'ESH4' },
    {
      name: 'qty',
      type: 'float64',
      values: new Float64Array([100, NaN, 2.5, -0, 7]),
      nanIsNull: true,
      nulls: Uint8Array.of(0, 1, 0, 0, 1),
    },
    { name: 'open', type: 'bool', values: [true, false, true, false, true], nulls: Uint8Array.of(0, 0, 0, 1, 0) },
    { name: 'n', type: 'int64', values: [1, -2, 2 ** 53, 0, -(2 ** 60)], nulls: Uint8Array.of(0, 0, 0, 0, 0) },
  ];
}

/** The same table through apache-arrow (the reference IPC writer). */
function referenceIpc(cols: ColumnSpec[], batchRows: number): Uint8Array {
  const rows = cols[0]!.values.length;
  const batches: arrow.RecordBatch[] = [];
  for (let off = 0; off === 0 || off < rows; off += batchRows) {
    const len = Math.min(batchRows, rows - off);
    const vectors: Record<string, arrow.Vector> = {};
    for (const c of cols) {
      const vals: unknown[] = [];
      for (let i = off; i < off + len; i++) {
        const v = c.constant ?? (c.values as ArrayLike<unknown>)[i];
        const isNull = c.nulls?.[i] === 1 || (c.nanIsNull && Number.isNaN(v)) || v === null;
        vals.push(isNull ? null : c.type === 'int64' || c.type === 'timestamp_ns_utc' ? BigInt(v as number | bigint) : v);
      }
      const type = {
        int32: new arrow.Int32(),
        int64: new arrow.Int64(),
        timestamp_ns_utc: new arrow.TimestampNanosecond('UTC'),
        utf8: new arrow.Utf8(),
        float64: new arrow.Float64(),
        bool: new arrow.Bool(),
      }[c.type];
      // apache-arrow's builders take timestamps in ms: give it the raw int64 values instead.
      vectors[c.name] =
        c.type === 'timestamp_ns_utc'
          ? arrow.makeVector(
              arrow.makeData({
                type: type as arrow.TimestampNanosecond,
                length: len,
                data: BigInt64Array.from(vals, (v) => (v ?? 0n) as bigint) as never,
              }),
            )
          : arrow.vectorFromArray(vals, type as arrow.DataType);
    }
    const t = new arrow.Table(vectors);
    const schema = new arrow.Schema(
      cols.map(
        (c) =>
          new arrow.Field(
            c.name,
            t.schema.fields.find((f) => f.name === c.name)!.type,
            c.nulls !== undefined || c.nanIsNull === true || c.name === 'side',
          ),
      ),
    );
    batches.push(
      ...new arrow.Table(
        schema,
        t.batches.map((b) => new arrow.RecordBatch(schema, b.data)),
      ).batches,
    );
    if (rows === 0) break;
  }
  return arrow.tableToIPC(new arrow.Table(batches), 'stream');
}

const parquetOf = (ipc: Uint8Array) =>
  pq.writeParquet(pq.Table.fromIPCStream(ipc), new pq.WriterPropertiesBuilder().setCreatedBy('t').build());
const plain = (t: arrow.Table) => JSON.stringify(t.toArray(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));

describe('parquet/ipcStream', () => {
  it('apache-arrow reads back the declared types, nullability, values and nulls, one batch per row group', () => {
    const cols = mixed();
    const t = arrow.tableFromIPC(encodeIpcStream(cols, 5, 2).slice());
    assert.deepEqual(
      t.batches.map((b) => b.numRows),
      [2, 2, 1],
    );
    assert.deepEqual(
      t.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`),
      [
        'id:Int32:false',
        'big:Int64:false',
        'ts:Timestamp<NANOSECOND, UTC>:false',
        'side:Utf8:true',
        'sym:Utf8:false',
        'qty:Float64:true',
        'open:Bool:true',
        'n:Int64:true',
      ],
    );
    assert.equal(plain(t), plain(arrow.tableFromIPC(referenceIpc(cols, 2))));
    assert.deepEqual(t.getChild('qty')!.toArray().length, 5);
    assert.equal(t.getChild('qty')!.nullCount, 2); // row 1 is null by mask and by NaN: counted once
    assert.equal(t.getChild('side')!.get(2), null);
    assert.equal(t.getChild('big')!.get(4), -(2n ** 63n));
  });

  it('parquet-wasm builds the same table from it as from apache-arrow’s stream (same Parquet bytes)', () => {
    const cols = mixed();
    assert.deepEqual(parquetOf(encodeIpcStream(cols, 5, 2)), parquetOf(referenceIpc(cols, 2)));
    // Large enough to grow the scratch buffer mid-stream, several row groups.
    const n = 70_000;
    const x = new Float64Array(n).map((_, i) => Math.sin(i) * 100);
    const ts = new Float64Array(n).map((_, i) => T0 + i * 60e9);
    const big: ColumnSpec[] = [
      { name: 'ts', type: 'timestamp_ns_utc', values: ts },
      { name: 'x', type: 'float64', values: x },
    ];
    const mine = encodeIpcStream(big, n, 30_000);
    assert.equal(arrow.tableFromIPC(mine.slice()).batches.length, 3);
    assert.deepEqual(parquetOf(mine), parquetOf(referenceIpc(big, 30_000)));
  });

  it('one batch of a row range, and an empty table as one empty batch', () => {
    const t = arrow.tableFromIPC(encodeIpcStream(mixed(), 5, 2, 3, 2).slice());
    assert.equal(t.batches.length, 1);
    assert.deepEqual(t.getChild('id')!.toArray(), Int32Array.of(4, 5));
    assert.equal(t.getChild('open')!.get(0), null);
    const empty: ColumnSpec[] = [
      { name: 'a', type: 'float64', values: new Float64Array(0) },
      { name: 's', type: 'utf8', values: [] },
    ];
    const e = arrow.tableFromIPC(encodeIpcStream(empty, 0, 10).slice());
    assert.deepEqual(
      e.batches.map((b) => b.numRows),
      [0],
    );
    assert.equal(e.schema.fields.length, 2);
  });

  it('refuses values that do not fit the column type, naming column and row', () => {
    assert.throws(() => encodeIpcStream([{ name: 'k', type: 'int32', values: [1, 2.5] }], 2, 10), /column 'k' row 1: 2.5 is not an int32/);
    assert.throws(
      () => encodeIpcStream([{ name: 'k', type: 'int64', values: [0, 0, 2 ** 64] }], 3, 2),
      /column 'k' row 2: .* is not an integer in the int64 range/,
    );
    const notAString: unknown = 5;
    assert.throws(
      () => encodeIpcStream([{ name: 's', type: 'utf8', values: ['a', notAString as string] }], 2, 10),
      /column 's' row 1: 5 is not a string/,
    );
  });
});
