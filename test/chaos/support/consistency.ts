/**
 * Promise 3's checks on a data dir after a crash and the next start (docs/reliability.md):
 * `PRAGMA integrity_check` ok, nothing left queued/running/deriving, no temp file or directory,
 * no row pointing at a missing file, every succeeded run's artifacts complete. Returns the
 * problems found (empty = consistent); reads only.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const RUN_FILES = ['equity.parquet', 'fills.parquet', 'metrics.json', 'orders.parquet', 'run-manifest.json', 'trades.parquet'];

/** Every temp-looking entry under `dir` (atomic-write temps, raw-cache incoming, run temp dirs, downloads). */
export function tempsUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (/\.tmp$|\.incoming\.|\.part$|^fetch-\d+-/.test(e.name)) out.push(r);
      else if (e.isDirectory()) walk(join(d, e.name), r);
    }
  };
  walk(dir, '');
  return out;
}

export function consistencyProblems(dataDir: string): string[] {
  const problems: string[] = [];
  const catalog = join(dataDir, 'catalog.sqlite');
  for (const t of tempsUnder(dataDir)) problems.push(`temp left: ${t}`);
  if (!existsSync(catalog)) return problems;
  const db = new Database(catalog, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  try {
    const ic = db.pragma('integrity_check', { simple: true });
    if (ic !== 'ok') problems.push(`integrity_check: ${String(ic)}`);
    for (const r of db.prepare(`SELECT run_id, status FROM runs WHERE status IN ('queued', 'running')`).all() as {
      run_id: string;
      status: string;
    }[])
      problems.push(`run ${r.run_id} left ${r.status}`);
    for (const r of db.prepare(`SELECT dataset_id FROM datasets WHERE status = 'deriving'`).all() as { dataset_id: string }[])
      problems.push(`dataset ${r.dataset_id} left deriving`);
    const runs = db.prepare(`SELECT run_id, status, artifacts_dir, materialized, metrics, manifest FROM runs`).all() as {
      run_id: string;
      status: string;
      artifacts_dir: string | null;
      materialized: number;
      metrics: string | null;
      manifest: string | null;
    }[];
    for (const r of runs) {
      if (r.status === 'succeeded' && !r.artifacts_dir) problems.push(`run ${r.run_id} succeeded without artifacts_dir`);
      if (r.status === 'succeeded' && !r.metrics) problems.push(`run ${r.run_id} succeeded without metrics`);
      // a light sweep point: recorded whole (metrics + manifest), its files made when opened
      if (r.materialized === 0) {
        if (!r.manifest) problems.push(`light run ${r.run_id} has no recorded manifest`);
        continue;
      }
      if (!r.artifacts_dir) continue;
      const dir = join(dataDir, r.artifacts_dir);
      if (r.status === 'succeeded')
        for (const f of RUN_FILES)
          if (!existsSync(join(dir, f)) || statSync(join(dir, f)).size === 0) problems.push(`run ${r.run_id}: ${f} missing or empty`);
    }
    for (const d of db.prepare(`SELECT dataset_id, status, bars_path FROM datasets`).all() as {
      dataset_id: string;
      status: string;
      bars_path: string | null;
    }[]) {
      if (d.status === 'ready' && !d.bars_path) problems.push(`dataset ${d.dataset_id} ready without bars_path`);
      if (d.bars_path && d.status === 'ready' && !existsSync(join(dataDir, d.bars_path)))
        problems.push(`dataset ${d.dataset_id}: ${d.bars_path} missing`);
    }
    for (const s of db.prepare(`SELECT dataset_id, sha256, path FROM dataset_sources`).all() as {
      dataset_id: string;
      sha256: string;
      path: string;
    }[]) {
      const f = join(dataDir, s.path);
      if (!existsSync(f)) problems.push(`source ${s.path} of ${s.dataset_id} missing`);
      else if (createHash('sha256').update(readFileSync(f)).digest('hex') !== s.sha256)
        problems.push(`source ${s.path}: bytes do not match its sha256`);
    }
  } finally {
    db.close();
  }
  return problems;
}

/** The bytes of a run's artifacts that must be identical for the same input (all but the run manifest, which names the run and its times). */
export function artifactDigest(runDir: string): string {
  const h = createHash('sha256');
  for (const f of RUN_FILES.filter((x) => x !== 'run-manifest.json')) h.update(f).update(readFileSync(join(runDir, f)));
  return h.digest('hex');
}

/** A logical dump of the catalog (rows of every table, ordered), to compare before/after. */
export function catalogDump(catalogFile: string): string {
  if (!existsSync(catalogFile)) return '';
  const db = new Database(catalogFile, { readonly: true, fileMustExist: true });
  try {
    const tables = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'runs_fts%' ORDER BY name`).all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    return tables.map((t) => `${t}\n${JSON.stringify(db.prepare(`SELECT * FROM "${t}" ORDER BY 1`).all())}`).join('\n');
  } finally {
    db.close();
  }
}

/** Names, sizes and hashes of every file under `dir` (the raw cache before/after). */
export function treeDump(dir: string): string {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else
        out.push(
          `${r} ${createHash('sha256')
            .update(readFileSync(join(d, e.name)))
            .digest('hex')}`,
        );
    }
  };
  walk(dir, '');
  return out.join('\n');
}
