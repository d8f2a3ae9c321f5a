import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArtifactColumns } from '../../../src/engine/backtest/artifactReader.ts';
import { writeParquetTable } from '../../../src/engine/parquet/table.ts';

describe('artifact reader (Parquet columns → typed arrays)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'btnb-ar-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads enums as codes, int64/timestamps as doubles with NaN for nulls, and reports missing optional columns', async () => {
    const f = join(dir, 'ok.parquet');
    await writeParquetTable(f, [
      { name: 'side', type: 'utf8', values: ['buy', 'sell', 'sell', 'buy'] },
      { name: 'ts', type: 'timestamp_ns_utc', values: [60e9, 120e9, 0, 240e9], nulls: Uint8Array.of(0, 0, 1, 0) },
      { name: 'n', type: 'int32', values: [1, 0, 3, 0], nulls: Uint8Array.of(0, 1, 0, 1) },
    ]);
    const t = await readArtifactColumns(
      f,
      { side: { kind: 'enum', values: ['buy', 'sell'] }, ts: { kind: 'i64' }, n: { kind: 'i32', nullInt: -1 } },
      { extra: { kind: 'f64' } },
    );
    assert.deepEqual(Array.from(t.columns.side!), [0, 1, 1, 0]);
    assert.deepEqual(Array.from(t.columns.ts!), [60e9, 120e9, NaN, 240e9]);
    assert.deepEqual(Array.from(t.columns.n!), [1, -1, 3, -1]);
    assert.deepEqual(t.missing, ['extra']);
  });

  it('refuses an unexpected enum value, a null enum and a missing required column, naming file, row and column', async () => {
    const f = join(dir, 'bad.parquet');
    await writeParquetTable(f, [{ name: 'side', type: 'utf8', values: ['buy', 'sell', 'hold'] }]);
    await assert.rejects(
      readArtifactColumns(f, { side: { kind: 'enum', values: ['buy', 'sell'] } }),
      (e: Error) => e.message.includes(f) && /row 2: column 'side' is 'hold', expected one of buy\/sell/.test(e.message),
    );
    const g = join(dir, 'null.parquet');
    await writeParquetTable(g, [{ name: 'side', type: 'utf8', values: ['buy', null] }]);
    await assert.rejects(readArtifactColumns(g, { side: { kind: 'enum', values: ['buy', 'sell'] } }), /row 1: column 'side' is null/);
    await assert.rejects(readArtifactColumns(g, { qty: { kind: 'f64' } }), /missing column 'qty'/);
  });
});
