/**
 * The chaos suite's report (docs/reliability.md): each probe records the cases it tried, its
 * failures and its time; the root `after` hook (hooks.ts) prints the table and writes
 * test-output/chaos.json. Counts come from `count(quick, full)`: CI runs the bounded quick mode,
 * `npm run test:chaos -- --full` the issue's counts.
 */
export const FULL = process.env.BTNB_CHAOS_FULL === '1';

/** Cases for a probe: `quick` in CI, `full` with --full (BTNB_CHAOS_N overrides both, for a try). */
export function count(quick: number, full: number): number {
  const n = Number(process.env.BTNB_CHAOS_N);
  return Number.isInteger(n) && n > 0 ? n : FULL ? full : quick;
}

export interface ProbeRow {
  probe: string;
  cases: number;
  failures: number;
  seconds: number;
  /** What a failure was (first few), or what was measured. */
  notes: string[];
}

export const rows: ProbeRow[] = [];

/** A probe in progress: call `fail` per failing case, then `done`. */
export class Probe {
  readonly #t0 = performance.now();
  cases = 0;
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  fail(what: string): void {
    this.failures.push(what);
  }
  done(): ProbeRow {
    const row = {
      probe: this.name,
      cases: this.cases,
      failures: this.failures.length,
      seconds: Math.round((performance.now() - this.#t0) / 100) / 10,
      notes: [...this.failures.slice(0, 5), ...this.notes],
    };
    rows.push(row);
    return row;
  }
}

export function table(all: ProbeRow[]): string {
  const head = ['probe', 'cases', 'failures', 'time (s)'];
  const body = all.map((r) => [r.probe, String(r.cases), String(r.failures), r.seconds.toFixed(1)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  return [line(head), `|${w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`, ...body.map(line)].join(
    '\n',
  );
}
