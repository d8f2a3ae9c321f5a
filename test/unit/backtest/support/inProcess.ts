/** Runs `btnb …` in this process (no spawn), capturing stdout/stderr. */
import { runCli } from '../../../../src/engine/cli/commands.ts';

export async function btnbInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  let status: number;
  try {
    status = await runCli(args);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { status, stdout: out.join(''), stderr: err.join('') };
}
