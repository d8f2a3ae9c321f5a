/**
 * Crash injection for the chaos suite (test/chaos, docs/reliability.md): every place that makes
 * data durable or visible — a temp file written, a rename, a catalog transaction — calls
 * `writePoint`. With BTNB_CRASH_AT_WRITE=k the process SIGKILLs itself at its k-th write point
 * (nothing after it runs: no finally, no exit handler), so a test can kill at each point in turn;
 * with BTNB_WRITE_POINTS_FILE it records how many points a clean run passed. Off (one integer
 * compare) otherwise.
 */
import { appendFileSync } from 'node:fs';

const crashAt = Number(process.env.BTNB_CRASH_AT_WRITE ?? 0) || 0;
const countFile = process.env.BTNB_WRITE_POINTS_FILE;
let count = 0;

export function writePoint(label: string): void {
  if (crashAt === 0 && !countFile) return;
  count++;
  if (countFile) appendFileSync(countFile, `${process.pid} ${count} ${label}\n`);
  if (count === crashAt) process.kill(process.pid, 'SIGKILL');
}
