import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readParquetBatches,
  readParquetTable,
  parquetFileInfo,
  writeParquetTable,
  type ColumnSpec,
} from '../../../src/engine/parquet/table.ts';
import { lit, q } from './duck.ts';

const T0 = 1709562600e9;

/** An artifact-like table (fills.parquet shape) using every column type, with nulls. */
function fills(): ColumnSpec[] {
  return [
    { name: 'fill_id', type: 'int32', values: new Int32Array([1, 2, 3, 4]) },
    { name: 'order_id', type: 'int64', values: new BigInt64Array([10n, 9007199254740993n, -5n, 0n]) },
    { name: 'ts', type: 'timestamp_ns_utc', values: new Float64Array([T0, T0 + 60e9, T0 + 120e9, T0 + 180e9]) },
    { name: 'side', type: 'utf8', values: ['buy', 'sell', null, 'bûy ✓'] },
    { name: 'qty', type: 'float64', values: [100, 50.5, NaN, -0], nanIsNull: true },
    {
      name: 'price',
      type: 'float64',
      values: new Float64Array([4770.25, 1e-300, 1.7976931348623157e308, -0.5]),
      nulls: new Uint8Array([0, 0, 1, 0]),
    },
    { name: 'is_open', type: 'bool', values: [true, false, true, false], nulls: new Uint8Array([0, 0, 0, 1]) },
    { name: 'n', type: 'int64', values: [1, -2, 2 ** 53, 0] },
  ];
}

describe('parquet/table', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'btnb-pqt-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every column type; DuckDB sees the types, values and nulls', async () => {
    const p = join(dir, 'fills.parquet');
    await writeParquetTable(p, fills(), { metadata: { run_id: '01ARYZ6S410000000000000000', kind: 'fills' } });
    const desc = await q(`DESCRIBE SELECT * FROM read_parquet(${lit(p)})`);
    assert.deepEqual(
      desc.map((d) => `${d.column_name}:${d.column_type}`),
      [
        'fill_id:INTEGER',
        'order_id:BIGINT',
        'ts:TIMESTAMP WITH TIME ZONE',
        'side:VARCHAR',
        'qty:DOUBLE',
        'price:DOUBLE',
        'is_open:BOOLEAN',
        'n:BIGINT',
      ],
    );
    const rows = await q(`SELECT fill_id, order_id, epoch_ns(ts) AS ts, side, qty, price, is_open, n FROM read_parquet(${lit(p)})`);
    assert.deepEqual(rows, [
      { fill_id: 1, order_id: '10', ts: '1709562600000000000', side: 'buy', qty: 100, price: 4770.25, is_open: true, n: '1' },
      {
        fill_id: 2,
        order_id: '9007199254740993',
        ts: '1709562660000000000',
        side: 'sell',
        qty: 50.5,
        price: 1e-300,
        is_open: false,
        n: '-2',
      },
      { fill_id: 3, order_id: '-5', ts: '1709562720000000000', side: null, qty: null, price: null, is_open: true, n: '9007199254740992' },
      { fill_id: 4, order_id: '0', ts: '1709562780000000000', side: 'bûy ✓', qty: -0, price: -0.5, is_open: null, n: '0' },
    ]);
    const info = await parquetFileInfo(p);
    assert.deepEqual(info.metadata, { kind: 'fills', run_id: '01ARYZ6S410000000000000000' });
    assert.equal(info.rows, 4);
  });

  it('reads back an apache-arrow Table with the declared types, nullability and values', async () => {
    const p = join(dir, 'rt.parquet');
    await writeParquetTable(p, fills());
    const t = await readParquetTable(p);
    assert.deepEqual(
      t.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`),
      [
        'fill_id:Int32:false',
        'order_id:Int64:false',
        'ts:Timestamp<NANOSECOND, UTC>:false',
        'side:Utf8:true',
        'qty:Float64:true',
        'price:Float64:true',
        'is_open:Bool:true',
        'n:Int64:false',
      ],
    );
    assert.deepEqual(t.getChild('order_id')!.toArray(), new BigInt64Array([10n, 9007199254740993n, -5n, 0n]));
    assert.deepEqual([...t.getChild('side')!], ['buy', 'sell', null, 'bûy ✓']);
    assert.deepEqual([...t.getChild('qty')!], [100, 50.5, null, -0]);
    assert.deepEqual([...t.getChild('is_open')!], [true, false, true, null]);
    assert.deepEqual(
      t.getChild('ts')!.data[0]!.values,
      new BigInt64Array([1709562600000000000n, 1709562660000000000n, 1709562720000000000n, 1709562780000000000n]),
    );
    const sub = await readParquetTable(p, { columns: ['side', 'fill_id'] });
    assert.deepEqual(sub.schema.fields.map((f) => f.name).sort(), ['fill_id', 'side']);
  });

  it('streams batches of the requested size and is byte-deterministic across writes', async () => {
    const n = 10_000;
    const cols: ColumnSpec[] = [
      { name: 'ts', type: 'timestamp_ns_utc', values: Float64Array.from({ length: n }, (_, i) => T0 + i * 60e9) },
      { name: 'equity', type: 'float64', values: Float64Array.from({ length: n }, (_, i) => 1e5 + Math.sin(i) * 100) },
      { name: 'side', type: 'utf8', values: Array.from({ length: n }, (_, i) => (i % 3 ? 'buy' : 'sell')) },
    ];
    const a = join(dir, 'a.parquet');
    const b = join(dir, 'b.parquet');
    await writeParquetTable(a, cols, { rowGroupSize: 4096, metadata: { x: '1', y: '2', z: '3' } });
    await writeParquetTable(b, cols, { rowGroupSize: 4096, metadata: { z: '3', y: '2', x: '1' } });
    assert.ok(readFileSync(a).equals(readFileSync(b)));
    assert.deepEqual((await parquetFileInfo(a)).rowGroupRows, [4096, 4096, 1808]);
    const sizes: number[] = [];
    let sum = 0;
    for await (const batch of readParquetBatches(a, { batchSize: 3000 })) {
      sizes.push(batch.numRows);
      const eq = batch.getChild('equity')!.toArray() as Float64Array;
      for (const v of eq) sum += v;
    }
    assert.equal(
      sizes.reduce((x, y) => x + y, 0),
      n,
    );
    assert.ok(
      sizes.every((s) => s <= 3000),
      `batches ${sizes}`,
    );
    let want = 0;
    for (const v of cols[1]!.values as Float64Array) want += v;
    assert.ok(Math.abs(sum - want) <= 1e-9 * Math.abs(want));
    // Stopping early releases the file (no hang, the next full read still works).
    for await (const batch of readParquetBatches(a, { batchSize: 1000 })) {
      assert.equal(batch.numRows, 1000);
      break;
    }
    const [d] = await q(`SELECT count(*) FILTER (WHERE side = 'sell') AS sells FROM read_parquet(${lit(a)})`);
    assert.equal(d!.sells, String(Math.ceil(n / 3)));
  });

  it('one-shot and streamed encodes give the same bytes; delta-encoded ts/ids read back exactly in DuckDB', async () => {
    const n = 9000;
    const cols: ColumnSpec[] = [
      {
        name: 'ts',
        type: 'timestamp_ns_utc',
        values: Float64Array.from({ length: n }, (_, i) => T0 + i * 60e9 + (i % 7 === 0 ? 3600e9 : 0)),
        encoding: 'delta',
      },
      {
        name: 'id',
        type: 'int32',
        values: Int32Array.from({ length: n }, (_, i) => (i % 11 === 0 ? 0 : i + 1)),
        nulls: Uint8Array.from({ length: n }, (_, i) => (i % 11 === 0 ? 1 : 0)),
        encoding: 'delta',
      },
      { name: 'big', type: 'int64', values: Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (2 ** 53 - i)), encoding: 'delta' },
      { name: 'x', type: 'float64', values: Float64Array.from({ length: n }, (_, i) => i / 7), dictionary: false },
    ];
    const a = join(dir, 'oneshot.parquet');
    const b = join(dir, 'streamed.parquet');
    await writeParquetTable(a, cols, { rowGroupSize: 4000 });
    await writeParquetTable(b, cols, { rowGroupSize: 4000, stream: true });
    assert.ok(readFileSync(a).equals(readFileSync(b)), 'one-shot and streamed files differ');
    assert.deepEqual((await parquetFileInfo(a)).rowGroupRows, [4000, 4000, 1000]);
    const enc = await q(`SELECT DISTINCT path_in_schema AS col, encodings FROM parquet_metadata(${lit(a)}) ORDER BY col`);
    assert.deepEqual(
      enc.map((r) => [r.col, String(r.encodings).includes('DELTA_BINARY_PACKED')]),
      [
        ['big', true],
        ['id', true],
        ['ts', true],
        ['x', false],
      ],
    );
    // Independent sums over the columns (DuckDB) against the inputs.
    let tsSum = 0n;
    let idSum = 0;
    let bigSum = 0n;
    for (let i = 0; i < n; i++) {
      tsSum += BigInt((cols[0]!.values as Float64Array)[i]!) / 1000n; // DuckDB reads ns timestamps at µs
      if (i % 11 !== 0) idSum += i + 1;
      bigSum += BigInt((cols[2]!.values as number[])[i]!);
    }
    const [d] = await q(
      `SELECT sum(epoch_us(ts))::HUGEINT AS ts, sum(id)::BIGINT AS id, count(id) AS ids, sum(big)::HUGEINT AS big FROM read_parquet(${lit(a)})`,
    );
    assert.equal(d!.ts, String(tsSum));
    assert.equal(d!.id, String(idSum));
    assert.equal(d!.ids, String(n - Math.ceil(n / 11)));
    assert.equal(d!.big, String(bigSum));
    await assert.rejects(
      writeParquetTable(join(dir, 'bad.parquet'), [{ name: 'x', type: 'float64', values: [1], encoding: 'delta' }]),
      /bad\.parquet: column 'x' row 0: delta encoding needs an integer or timestamp column, got float64/,
    );
  });

  it('refuses inconsistent input naming the file, column and row', async () => {
    const p = join(dir, 'bad.parquet');
    await assert.rejects(writeParquetTable(p, []), /bad\.parquet: no columns/);
    await assert.rejects(
      writeParquetTable(p, [
        { name: 'a', type: 'int32', values: [1] },
        { name: 'b', type: 'int32', values: [1, 2] },
      ]),
      /bad\.parquet: column 'b' has 2 rows, expected 1 \(as 'a'\)/,
    );
    await assert.rejects(
      writeParquetTable(p, [
        { name: 'a', type: 'int32', values: [1] },
        { name: 'a', type: 'int32', values: [1] },
      ]),
      /duplicate column 'a'/,
    );
    await assert.rejects(
      writeParquetTable(p, [{ name: 'v', type: 'int64', values: [1, 2.5] }]),
      /bad\.parquet: column 'v' row 1: 2\.5 is not an integer/,
    );
    await assert.rejects(
      writeParquetTable(p, [{ name: 'c', type: 'int32', values: [0, 1, 2 ** 31] }]),
      /column 'c' row 2: 2147483648 is not an int32/,
    );
    await assert.rejects(
      writeParquetTable(p, [{ name: 'c', type: 'float64', values: [1], nanIsNull: true, nullable: false }]),
      /declared non-nullable but has a null mask/,
    );
    await assert.rejects(readParquetTable(join(dir, 'nope.parquet')), /nope\.parquet: cannot open/);
  });
});
