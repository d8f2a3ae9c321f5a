/**
 * After a crash: what a killed process left behind is settled by the next one (docs/reliability.md,
 * promise 3). Runs and derives whose owning process is gone become failed (catalog
 * recoverAbandoned); temp files and directories named for a dead pid are removed: atomic-write
 * temps (`.<name>.<pid>.<n>.tmp`), raw-cache `.incoming.<pid>.<n>.tmp`, a run's
 * `backtests/.<run_id>.<pid>.tmp/` and a download's `tmp/fetch-<pid>-*`. Called when the CLI,
 * the extension or a sweep starts.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dataPaths } from './dataDir.ts';
import type { CatalogPort } from './ports/catalog.ts';
import { pidAlive, removeStaleTemps } from './io/atomicWrite.ts';

export interface Recovered {
  runs: string[];
  datasets: string[];
  /** Temp files and directories removed, relative to the data dir. */
  temps: string[];
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => join(dir, d.name));
  } catch {
    return [];
  }
}

/** Removes temp entries of dead processes under the data dir. */
export async function removeAbandonedTemps(dataDir: string): Promise<string[]> {
  const p = dataPaths(dataDir);
  const removed: string[] = [];
  const rel = (dir: string, name: string) => join(dir, name).slice(dataDir.length + 1);
  const files = async (dir: string) => {
    for (const name of await removeStaleTemps(dir)) removed.push(rel(dir, name));
  };
  const dirsNamed = async (dir: string, re: RegExp) => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = re.exec(name);
      if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(rel(dir, name));
    }
  };
  await files(dataDir);
  // a run published by this process (`.<run>.<pid>.tmp`) or received from a worker (`.<run>.<pid>.up<n>.tmp`)
  await dirsNamed(p.backtestsRoot, /^\.[0-9A-Z]{26}\.(\d+)\.(?:up\d+\.)?tmp$/);
  await files(p.backtestsRoot);
  await dirsNamed(join(dataDir, 'tmp'), /^fetch-(\d+)-/);
  for (const ds of await subdirs(p.rawRoot)) for (const schema of await subdirs(ds)) await files(schema);
  for (const d of await subdirs(p.barsRoot)) await files(d);
  await files(p.strategiesRoot);
  return removed;
}

/** Settles abandoned rows and removes abandoned temps; a data dir without a catalog has none. */
export async function recoverDataDir(dataDir: string, catalog?: CatalogPort): Promise<Recovered> {
  const p = dataPaths(dataDir);
  let rows = { runs: [] as string[], datasets: [] as string[] };
  if (catalog) rows = catalog.recoverAbandoned();
  else if (existsSync(p.catalog)) {
    const { openCatalog } = await import('./catalog/sqliteCatalog.ts');
    const cat = openCatalog(p.catalog);
    try {
      rows = cat.recoverAbandoned();
    } finally {
      cat.close();
    }
  }
  return { ...rows, temps: existsSync(dataDir) ? await removeAbandonedTemps(dataDir) : [] };
}
