/**
 * Promise 4 (docs/reliability.md): many writers at once lose nothing. Four processes each make
 * N backtests with distinct params, a 2-worker `btnb sweep` runs beside them and a reader lists
 * the runs in a loop — all on one catalog. Every run is present exactly once and succeeded, no
 * process reports an error (SQLITE_BUSY included), and the reader never sees a succeeded run
 * whose artifacts are not there.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { consistencyProblems } from './support/consistency.ts';
import { start } from './support/processes.ts';
import { count, Probe } from './support/report.ts';
import { buildWorld, caseDir, disposeWorld, type World } from './support/scenarios.ts';

const CLIENT = join(import.meta.dirname, 'support', 'catalogClient.ts');

function client(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('chaos: concurrent writers, promise 4', function () {
  this.timeout(0);
  let world: World | undefined;
  before(async () => {
    world = await buildWorld();
  });
  after(() => disposeWorld(world));

  it('4 writer processes + a 2-worker sweep + a reader on one catalog: every run once, no error seen', async () => {
    const probe = new Probe('concurrent writers');
    const s = world!.scenarios.find((x) => x.name === 'backtest')!;
    const dir = caseDir(world!, s, 'concurrent');
    const n = count(8, 25);
    const stop = join(world!.root, 'stop-reader');
    const reader = client(['read', dir, stop]);
    const sweep = start([
      'sweep',
      '--dataset',
      world!.datasetId,
      '--strategy',
      'sma-cross',
      '--grid',
      'fast=3:12:3',
      '--grid',
      'slow=300,320',
      '--workers',
      '2',
      '--json',
      '--data-dir',
      dir,
    ]).exit;
    const writers = await Promise.all([0, 1, 2, 3].map((w) => client(['write', dir, world!.datasetId, String(w), String(n)])));
    const sw = await sweep;
    writeFileSync(stop, '');
    const rd = await reader;
    let expected = 0;
    for (const [w, r] of writers.entries()) {
      probe.cases += n;
      if (r.code !== 0) probe.fail(`writer ${w} exited ${r.code}: ${r.err.slice(0, 300)}`);
      const res = JSON.parse(r.out || '{"made":[],"errors":["no output"]}') as { made: string[]; errors: string[] };
      for (const e of res.errors) probe.fail(`writer ${w}: ${e}`);
      expected += res.made.length;
    }
    probe.cases += 8;
    if (sw.code !== 0) probe.fail(`sweep exited ${sw.code}: ${sw.stderr.slice(0, 300)}`);
    else {
      const out = JSON.parse(sw.stdout) as { results: { status: string; error?: string | null }[] };
      for (const r of out.results) if (r.status !== 'succeeded') probe.fail(`sweep point ${r.status}: ${r.error ?? ''}`);
      expected += out.results.length;
    }
    if (/SQLITE_BUSY|database is locked/i.test(writers.map((w) => w.err).join('') + sw.stderr))
      probe.fail('SQLITE_BUSY surfaced to a user');
    const rr = JSON.parse(rd.out || '{"errors":["reader: no output"]}') as { reads: number; seen: number; errors: string[] };
    for (const e of rr.errors) probe.fail(`reader: ${e}`);
    const db = new Database(join(dir, 'catalog.sqlite'), { readonly: true });
    try {
      const rows = db.prepare(`SELECT input_hash, status, count(*) AS n FROM runs GROUP BY input_hash, status`).all() as {
        input_hash: string;
        status: string;
        n: number;
      }[];
      for (const r of rows) {
        if (r.status !== 'succeeded') probe.fail(`${r.n} run(s) ${r.status}`);
        if (r.n > 1) probe.fail(`input ${r.input_hash.slice(0, 12)} has ${r.n} runs`);
      }
      const total = rows.reduce((a, r) => a + r.n, 0);
      if (total !== expected) probe.fail(`${total} runs in the catalog, ${expected} made`);
      probe.notes.push(`${total} runs written by 4 processes + a sweep; reader: ${rr.reads} listings, ${rr.seen} succeeded rows checked`);
    } finally {
      db.close();
    }
    for (const p of consistencyProblems(dir)) probe.fail(p);
    const row = probe.done();
    if (row.failures === 0) rmSync(dir, { recursive: true, force: true });
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });
});
