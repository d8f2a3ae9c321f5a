/** Real `btnb` processes for the chaos probes: run, run-and-kill, and wait for exit. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../src/engine/cli/main.ts', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exit: Promise<Exit> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 })),
  );
  return { child, exit };
}

export function btnb(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return start(args, env).exit;
}

/** Runs `args`, SIGKILLs it after `afterMs` (if still running); resolves with how it ended. */
export async function killAfter(args: string[], afterMs: number, env: Record<string, string> = {}): Promise<Exit & { killed: boolean }> {
  const { child, exit } = start(args, env);
  let killed = false;
  const t = setTimeout(() => {
    killed = child.kill('SIGKILL');
  }, afterMs);
  const e = await exit;
  clearTimeout(t);
  return { ...e, killed: killed && e.signal === 'SIGKILL' };
}

/** The child pids of `pid` (Linux /proc). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** True while `pid` exists and is not a zombie (an exited child nobody reaped is gone). */
export function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
