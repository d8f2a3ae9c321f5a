/** Runs `btnb …` in this process (no spawn), capturing stdout/stderr. */
import { runCli } from '../../../../src/engine/cli/commands.ts';

export async function btnbInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  // The originals, put back untouched afterwards (never called detached).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const ow = process.stdout.write;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const ew = process.stderr.write;
  process.stdout.write = (s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  };
  process.stderr.write = (s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  };
  let status: number;
  try {
    status = await runCli(args);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { status, stdout: out.join(''), stderr: err.join('') };
}
