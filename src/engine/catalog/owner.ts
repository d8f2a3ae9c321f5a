/**
 * Which process owns a run or a derive while it is queued, running or deriving, and whether that
 * process still exists. A process killed outright (SIGKILL, a closed laptop, a crashed extension
 * host) cannot mark its rows; the next process that opens the catalog finds them by their owner
 * and settles them (docs/reliability.md, promise 3).
 *
 * An owner is its pid, its host and a start token: on Linux the boot id and the process's start
 * time in clock ticks (from /proc), so a pid reused by another process after the owner died does
 * not pass for it; elsewhere the token is the start time in ms and liveness is `kill(pid, 0)`.
 * Rows owned by another host (a data dir on a shared disk) are never judged from here.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Owner {
  pid: number;
  host: string;
  token: string;
}

function linuxStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces and parentheses: fields after its last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // a zombie (exited, not yet reaped — orphans in a container whose init does not reap) is gone
    if (rest[0] === 'Z' || rest[0] === 'X') return null;
    return rest[19] ?? null; // field 22: starttime
  } catch {
    return null;
  }
}

let bootId: string | null | undefined;
function linuxBootId(): string | null {
  if (bootId !== undefined) return bootId;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    bootId = null;
  }
  return bootId;
}

function tokenOf(pid: number): string | null {
  const boot = linuxBootId();
  if (boot) {
    const ticks = linuxStartTicks(pid);
    return ticks === null ? null : `linux:${boot}:${ticks}`;
  }
  return pid === process.pid ? `start:${Math.round(Date.now() - process.uptime() * 1000)}` : null;
}

let self: Owner | undefined;
/** This process as an owner. */
export function currentOwner(): Owner {
  self ??= {
    pid: process.pid,
    host: hostname(),
    token: tokenOf(process.pid) ?? `start:${Math.round(Date.now() - process.uptime() * 1000)}`,
  };
  return self;
}

/** False only when the owner is known to be gone: same host, and its pid is dead or now another process. */
export function ownerAlive(o: Owner): boolean {
  if (o.host !== hostname()) return true;
  if (o.pid === process.pid) return o.token === currentOwner().token;
  if (o.token.startsWith('linux:')) {
    const now = tokenOf(o.pid);
    return now !== null && now === o.token;
  }
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseOwner(text: string | null): Owner | null {
  if (!text) return null;
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string'
      ? { pid: o.pid, host: o.host, token: o.token }
      : null;
  } catch {
    return null;
  }
}
