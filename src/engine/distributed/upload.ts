/**
 * A worker's upload of a run's files: one `PUT /backtests/{id}/artifacts` (multipart/form-data),
 * the SHA-256 of every file first (a `sha256` field), then the files. The coordinator refuses
 * the whole upload (422, nothing published) when any file's bytes do not match.
 *
 * Fault injection for the fault tests (like io/crashPoints.ts): BTNB_FAULT_UPLOAD=corrupt:N or
 * truncate:N damages the first N uploads of this process after their digests were taken.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DIGESTS_FIELD } from './protocol.ts';
import { patiently } from './patience.ts';

const fault = /^(corrupt|truncate):(\d+)$/.exec(process.env.BTNB_FAULT_UPLOAD ?? '');
let faultsLeft = fault ? Number(fault[2]) : 0;

export async function uploadArtifacts(
  server: string,
  headers: Record<string, string>,
  runId: string,
  files: readonly string[],
): Promise<number> {
  const bodies = await Promise.all(files.map((f) => readFile(f)));
  const digests = Object.fromEntries(files.map((f, i) => [basename(f), createHash('sha256').update(bodies[i]!).digest('hex')]));
  if (fault && faultsLeft > 0) {
    faultsLeft--;
    const i = bodies.findIndex((b) => b.length > 16);
    bodies[i] =
      fault[1] === 'corrupt'
        ? Buffer.from(bodies[i]!.map((b, k) => (k === 8 ? b ^ 0xff : b)))
        : bodies[i]!.subarray(0, bodies[i]!.length >> 1);
  }
  const form = new FormData();
  form.append(DIGESTS_FIELD, JSON.stringify(digests));
  files.forEach((f, i) => form.append('file', new Blob([bodies[i]!]), basename(f)));
  const url = `${server.replace(/\/$/, '')}/backtests/${encodeURIComponent(runId)}/artifacts`;
  await patiently(`PUT ${url}`, () => fetch(url, { method: 'PUT', headers, body: form }));
  return bodies.reduce((a, b) => a + b.length, 0);
}
