/**
 * The commands the crash probes kill (real processes): import + derive, derive, backtest, sweep
 * (2 workers) and a notebook cell's backtest job child. Each starts from a template data dir,
 * and after the crash, recovery and re-run, `verify` compares what exists with the clean
 * reference: bars byte-identical, every run's artifacts byte-identical to the unkilled run of
 * the same input, one succeeded run per input.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { artifactDigest } from './consistency.ts';
import { btnb, type Exit, start } from './processes.ts';

const BACKTEST_JOB = fileURLToPath(new URL('../../../src/engine/jobs/backtestJob.ts', import.meta.url));

export interface Launched {
  child: ChildProcess;
  exit: Promise<Exit>;
}

export interface Scenario {
  name: string;
  /** Template data dir copied for each case (null: start empty). */
  template: string | null;
  launch(dataDir: string, env?: Record<string, string>): Launched;
  /** What must hold after the re-run (problems, empty = ok). */
  verify(dataDir: string): string[];
}

export interface World {
  root: string;
  files: string[];
  datasetId: string;
  imported: string;
  derived: string;
  refBars: Buffer;
  /** Artifact digest of the unkilled run of each input_hash. */
  refRuns: Map<string, string>;
  scenarios: Scenario[];
}

async function ok(args: string[]): Promise<Exit> {
  const e = await btnb(args);
  if (e.code !== 0) throw new Error(`btnb ${args.join(' ')} failed (${e.code ?? e.signal}): ${e.stderr}`);
  return e;
}

function runsOf(dataDir: string): { run_id: string; input_hash: string; status: string; artifacts_dir: string | null }[] {
  const f = join(dataDir, 'catalog.sqlite');
  if (!existsSync(f)) return [];
  const db = new Database(f, { readonly: true });
  try {
    return db.prepare('SELECT run_id, input_hash, status, artifacts_dir FROM runs').all() as never;
  } finally {
    db.close();
  }
}

/** Every succeeded run is byte-identical to the reference of its input; one succeeded run per input; `expect` inputs present. */
function verifyRuns(world: World, dataDir: string, expect: number): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const r of runsOf(dataDir)) {
    if (r.status !== 'succeeded') continue;
    seen.set(r.input_hash, (seen.get(r.input_hash) ?? 0) + 1);
    const ref = world.refRuns.get(r.input_hash);
    if (!ref) problems.push(`run ${r.run_id}: input ${r.input_hash.slice(0, 12)} has no reference run`);
    else if (artifactDigest(join(dataDir, r.artifacts_dir!)) !== ref)
      problems.push(`run ${r.run_id}: artifacts differ from the unkilled run's`);
  }
  for (const [h, n] of seen) if (n > 1) problems.push(`input ${h.slice(0, 12)} has ${n} succeeded runs`);
  if (seen.size !== expect) problems.push(`${seen.size} succeeded inputs, expected ${expect}`);
  return problems;
}

function verifyBars(world: World, dataDir: string): string[] {
  const f = join(dataDir, 'derived', 'bars', world.datasetId, 'bars-1m.parquet');
  if (!existsSync(f)) return [`bars of ${world.datasetId} missing after the re-run`];
  return Buffer.compare(readFileSync(f), world.refBars) === 0 ? [] : ['bars differ from the unkilled derive'];
}

const BACKTEST = (ds: string) => [
  'backtest',
  '--dataset',
  ds,
  '--strategy',
  'sma-cross',
  '--param',
  'fast=7',
  '--param',
  'slow=25',
  '--json',
];
const SWEEP = (ds: string) => [
  'sweep',
  '--dataset',
  ds,
  '--strategy',
  'sma-cross',
  '--grid',
  'fast=5,10',
  '--grid',
  'slow=20,30',
  '--workers',
  '2',
  '--json',
];
const CELL = (dataDir: string, ds: string) => ({
  dataDir,
  datasetId: ds,
  strategyId: 'sma-cross',
  params: { fast: 9, slow: 30 },
});

/** A notebook backtest cell's job child, forked and started as the extension host does. */
function launchCell(dataDir: string, datasetId: string, env: Record<string, string>): Launched {
  const t0 = performance.now();
  const child = fork(BACKTEST_JOB, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let code: number | null = null;
  child.on('message', (m: { type: string }) => {
    if (m.type === 'ready') child.send({ type: 'start', kind: 'backtest', params: CELL(dataDir, datasetId) });
    if (m.type === 'error') stderr += JSON.stringify(m);
  });
  const exit = new Promise<Exit>((resolve) =>
    child.on('exit', (c, signal) => {
      code = c;
      resolve({ code, signal, stdout: '', stderr, ms: performance.now() - t0 });
    }),
  );
  return { child, exit };
}

export async function buildWorld(): Promise<World> {
  const root = mkdtempSync(join(tmpdir(), 'btnb-chaos-'));
  const input = join(root, 'in');
  await ok(['data', 'synth', '--symbol', 'DEMO', '--start', '2024-03-04', '--days', '3', '--seed', '7', '--out', input]);
  const files = readdirSync(input)
    .map((f) => join(input, f))
    .sort();
  const imported = join(root, 'imported');
  const out = JSON.parse((await ok(['data', 'import', ...files, '--data-dir', imported, '--json'])).stdout) as {
    datasets: { dataset_id: string }[];
  };
  const datasetId = out.datasets[0]!.dataset_id;
  const derived = join(root, 'derived');
  cpSync(imported, derived, { recursive: true });
  await ok(['data', 'derive', datasetId, '--data-dir', derived]);
  const refBars = readFileSync(join(derived, 'derived', 'bars', datasetId, 'bars-1m.parquet'));
  // The unkilled reference of every run the scenarios make.
  const ref = join(root, 'ref');
  cpSync(derived, ref, { recursive: true });
  await ok([...BACKTEST(datasetId), '--data-dir', ref]);
  await ok([...SWEEP(datasetId), '--data-dir', ref]);
  const cell = launchCell(ref, datasetId, {});
  const ce = await cell.exit;
  if (ce.code !== 0) throw new Error(`reference cell job failed: ${ce.stderr}`);
  const refRuns = new Map<string, string>();
  for (const r of runsOf(ref)) if (r.status === 'succeeded') refRuns.set(r.input_hash, artifactDigest(join(ref, r.artifacts_dir!)));
  const world: World = { root, files, datasetId, imported, derived, refBars, refRuns, scenarios: [] };
  world.scenarios = [
    {
      name: 'import + derive',
      template: null,
      launch: (d, env) => start(['data', 'import', ...files, '--derive', '--data-dir', d], env),
      verify: (d) => verifyBars(world, d),
    },
    {
      name: 'derive',
      template: imported,
      launch: (d, env) => start(['data', 'derive', datasetId, '--data-dir', d], env),
      verify: (d) => verifyBars(world, d),
    },
    {
      name: 'backtest',
      template: derived,
      launch: (d, env) => start([...BACKTEST(datasetId), '--data-dir', d], env),
      verify: (d) => verifyRuns(world, d, 1),
    },
    {
      name: 'sweep (2 workers)',
      template: derived,
      launch: (d, env) => start([...SWEEP(datasetId), '--data-dir', d], env),
      verify: (d) => verifyRuns(world, d, 4),
    },
    {
      name: 'notebook cell (job child)',
      template: derived,
      launch: (d, env) => launchCell(d, datasetId, env ?? {}),
      verify: (d) => verifyRuns(world, d, 1),
    },
  ];
  return world;
}

/** A fresh data dir for one case: a copy of the scenario's template. */
export function caseDir(world: World, s: Scenario, label: string): string {
  const d = join(world.root, 'cases', label);
  rmSync(d, { recursive: true, force: true });
  if (s.template) cpSync(s.template, d, { recursive: true });
  return d;
}

export function disposeWorld(world: World | undefined): void {
  if (world) rmSync(world.root, { recursive: true, force: true });
}
