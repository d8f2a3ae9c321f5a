import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { queryCatalog } from '../../../src/engine/catalog/readOnlyQuery.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

describe('read-only catalog queries (notebook sql cells)', () => {
  let dataDir = '';
  let path = '';
  const runIds: string[] = [];
  before(async () => {
    const d = await makeDataDir(600, 3);
    dataDir = d.dataDir;
    path = dataPaths(dataDir).catalog;
    for (const fast of [3, 4, 5])
      runIds.push(
        (await runBacktestToCatalog({ dataDir, datasetId: d.datasetId, strategy: 'sma-cross', params: { fast, slow: 12 } })).run.run_id,
      );
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('returns columns and rows as SQLite gives them, the first maxRows and the total', async () => {
    const all = await queryCatalog(path, "SELECT run_id, json_extract(params, '$.fast') AS fast, status FROM runs ORDER BY fast");
    assert.deepEqual(all.columns, ['run_id', 'fast', 'status']);
    assert.deepEqual(
      all.rows,
      runIds.map((id, k) => [id, 3 + k, 'succeeded']),
    );
    assert.equal(all.total, 3);
    const capped = await queryCatalog(path, 'SELECT run_id FROM runs ORDER BY run_id', 2);
    assert.equal(capped.rows.length, 2);
    assert.equal(capped.total, 3);
    const cat = openCatalog(path);
    const metrics = cat.getRun(runIds[0]!)!.metrics!;
    cat.close();
    const m = await queryCatalog(path, `SELECT json_extract(metrics, '$.sharpe') AS s FROM runs WHERE run_id = '${runIds[0]}'`);
    assert.equal(m.rows[0]![0], metrics.sharpe);
  });

  it('refuses every write — SQLite does, the SQL is not parsed — and the file is unchanged', async () => {
    const before = createHash('sha256').update(readFileSync(path)).digest('hex');
    for (const sql of [
      "UPDATE runs SET notes = 'x'",
      'DELETE FROM runs',
      "INSERT INTO runs_fts(runs_fts) VALUES ('rebuild')",
      'CREATE TABLE t (x)',
      'DROP TABLE datasets',
      "WITH x AS (SELECT 1) UPDATE runs SET tags = '[]'",
      'PRAGMA user_version = 99',
    ]) {
      await assert.rejects(queryCatalog(path, sql), /the catalog is read-only here: .*(readonly|read-only|query_only)/i, sql);
    }
    assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), before);
    const cat = openCatalog(path);
    assert.equal(cat.countRuns(), 3);
    cat.close();
  });

  it('bad SQL and several statements are errors that say so; a statement without rows has none', async () => {
    await assert.rejects(queryCatalog(path, 'SELEC 1'), /SQL: near "SELEC": syntax error/);
    await assert.rejects(queryCatalog(path, 'SELECT 1; SELECT 2'), /SQL: .*more than one statement/);
    await assert.rejects(queryCatalog(`${dataDir}/nope.sqlite`, 'SELECT 1'), /no catalog yet/);
    assert.deepEqual(await queryCatalog(path, 'BEGIN'), { columns: [], rows: [], total: 0 });
  });
});
