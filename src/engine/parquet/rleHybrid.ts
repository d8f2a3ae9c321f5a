/**
 * The RLE/bit-packed hybrid encoding of Parquet (definition levels and dictionary indices):
 * runs of one repeated value or groups of 8 bit-packed values, LSB first. decodeHybrid is a hot
 * loop of the flat reader (tuned: see its comment); a malformed run throws FlatReadUnsupported.
 *
 * Format: https://parquet.apache.org/docs/file-format/data-pages/encodings/ (Encodings.md).
 */
import { unsupported } from './errors.ts';

/**
 * Decodes `count` values of the RLE/bit-packed hybrid at buf[pos, end) with `bitWidth` bits
 * each into out[0, count); returns the position after the last run used. Each kind of run has
 * its own small loop (V8 optimises each on its own; one loop with every case deoptimised
 * whenever a case showed up for the first time).
 */
export function decodeHybrid(buf: Uint8Array, pos: number, end: number, bitWidth: number, out: Int32Array, count: number): number {
  if (bitWidth < 0 || bitWidth > 32) unsupported(`bit width ${bitWidth}`);
  const bytesPerRun = (bitWidth + 7) >> 3;
  let i = 0;
  while (i < count) {
    // run header: a varint below 2^28 (longer runs are refused)
    let h = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end || shift > 21) unsupported('hybrid: bad run header');
      const b = buf[pos++]!;
      h |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    if ((h & 1) === 1) {
      // bit-packed: (h >> 1) groups of 8 values, LSB first
      const groups = h >>> 1;
      const bytes = groups * bitWidth;
      if (bytes > end - pos) unsupported('hybrid: bit-packed run past the end');
      const take = Math.min(groups * 8, count - i);
      if (bitWidth === 1) unpack1(buf, pos, out, i, take);
      else if (bitWidth === 0) out.fill(0, i, i + take);
      else if (bitWidth <= 25) unpackWindow(buf, pos, end, bitWidth, out, i, take);
      else unpackBits(buf, pos, bitWidth, out, i, take, 0);
      i += take;
      pos += bytes;
    } else {
      if (bytesPerRun > end - pos) unsupported('hybrid: truncated run value');
      let v = 0;
      for (let b = 0; b < bytesPerRun; b++) v |= buf[pos + b]! << (8 * b);
      pos += bytesPerRun;
      const take = Math.min(h >>> 1, count - i);
      out.fill(bitWidth === 32 ? v : v & ((1 << bitWidth) - 1), i, i + take);
      i += take;
    }
  }
  return pos;
}

/** Definition levels: a byte is 8 values. */
function unpack1(buf: Uint8Array, pos: number, out: Int32Array, i: number, take: number): void {
  const full = take >>> 3;
  let o = i;
  for (let q = 0; q < full; q++) {
    const v = buf[pos + q]!;
    out[o] = v & 1;
    out[o + 1] = (v >> 1) & 1;
    out[o + 2] = (v >> 2) & 1;
    out[o + 3] = (v >> 3) & 1;
    out[o + 4] = (v >> 4) & 1;
    out[o + 5] = (v >> 5) & 1;
    out[o + 6] = (v >> 6) & 1;
    out[o + 7] = v >>> 7;
    o += 8;
  }
  if ((take & 7) !== 0) {
    const last = buf[pos + full]!;
    for (let j = 0; j < (take & 7); j++) out[o + j] = (last >> j) & 1;
  }
}

/** Widths 2–25: a 4-byte little-endian window holds a value at any bit offset. */
function unpackWindow(buf: Uint8Array, pos: number, end: number, width: number, out: Int32Array, i: number, take: number): void {
  const mask = (1 << width) - 1;
  let k = 0;
  let bit = 0;
  for (; k < take; k++, bit += width) {
    const at = pos + (bit >>> 3);
    if (at + 3 >= end) break;
    out[i + k] = ((buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> (bit & 7)) & mask;
  }
  // the last values of the page: bit by bit, inside the run's bytes
  if (k < take) unpackBits(buf, pos, width, out, i, take, k);
}

/** Values k… of a bit-packed run, bit by bit (any width up to 32). */
export function unpackBits(buf: Uint8Array, pos: number, width: number, out: Int32Array, i: number, take: number, k: number): void {
  for (let bit = k * width; k < take; k++, bit += width) {
    let v = 0;
    for (let b = 0; b < width; b++) {
      const q = bit + b;
      v |= ((buf[pos + (q >>> 3)]! >> (q & 7)) & 1) << b;
    }
    out[i + k] = v;
  }
}
