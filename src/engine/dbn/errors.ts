/**
 * The one error type of the DBN decoder. Every failure names the file (or stream), the byte
 * offset in the *decompressed* DBN stream where it was detected, and what was expected there.
 */
export class DbnError extends Error {
  override name = 'DbnError';
  readonly file: string;
  readonly offset: number;
  readonly expected: string;
  readonly found: string | undefined;

  constructor(file: string, offset: number, expected: string, found?: string) {
    super(`${file}: byte ${offset}: expected ${expected}${found === undefined ? '' : `, found ${found}`}`);
    this.file = file;
    this.offset = offset;
    this.expected = expected;
    this.found = found;
  }
}

/** Hex dump of up to `max` bytes, for error messages. */
export function hexBytes(bytes: Uint8Array, start: number, max = 8): string {
  const end = Math.min(bytes.length, start + max);
  const parts: string[] = [];
  for (let i = start; i < end; i++) parts.push(bytes[i]!.toString(16).padStart(2, '0'));
  return parts.length === 0 ? '<end of input>' : parts.join(' ');
}
