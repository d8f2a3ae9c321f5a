import { uniformSource } from '../../../src/engine/util/prng.ts';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'dbn');

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

/** The fixture's raw DBN bytes (zstd fixtures decompressed with Node's zlib, all frames). */
export function fixtureBytes(name: string): Uint8Array {
  const raw = readFileSync(fixturePath(name));
  if (!name.endsWith('.zst')) return new Uint8Array(raw);
  // zstdDecompressSync handles concatenated frames (the streaming class does not).
  return new Uint8Array(zstdDecompressSync(raw));
}

import { decodeFile, decodeStream, type DecodeSummary, type StreamOptions } from '../../../src/engine/dbn/decoder.ts';
import type { DbnRecord } from '../../../src/engine/dbn/records.ts';
import type { Mbp1Columns, TradeColumns } from '../../../src/engine/dbn/columns.ts';

/** One row copied out of a columnar batch (timestamps as BigInt, from the U32 aliases). */
export interface TradeRow {
  publisherId: number;
  instrumentId: number;
  tsEvent: bigint;
  tsRecv: bigint;
  price: number;
  size: number;
  action: string;
  side: string;
  flags: number;
  depth: number;
  tsInDelta: number;
  sequence: number;
  bidPx?: number;
  askPx?: number;
  bidSz?: number;
  askSz?: number;
  bidCt?: number;
  askCt?: number;
}

function u64(a: Uint32Array, i: number): bigint {
  return (BigInt(a[2 * i + 1]!) << 32n) | BigInt(a[2 * i]!);
}

export function tradeRows(b: TradeColumns): TradeRow[] {
  const rows: TradeRow[] = [];
  for (let i = 0; i < b.length; i++) {
    assert.equal(b.tsEvent[i], u64(b.tsEventU32, i), 'BigUint64 and U32 alias agree');
    const row: TradeRow = {
      publisherId: b.publisherId[i]!,
      instrumentId: b.instrumentId[i]!,
      tsEvent: u64(b.tsEventU32, i),
      tsRecv: u64(b.tsRecvU32, i),
      price: b.price[i]!,
      size: b.size[i]!,
      action: String.fromCharCode(b.action[i]!),
      side: String.fromCharCode(b.side[i]!),
      flags: b.flags[i]!,
      depth: b.depth[i]!,
      tsInDelta: b.tsInDelta[i]!,
      sequence: b.sequence[i]!,
    };
    if ('bidPx' in b) {
      const m = b as Mbp1Columns;
      Object.assign(row, {
        bidPx: m.bidPx[i],
        askPx: m.askPx[i],
        bidSz: m.bidSz[i],
        askSz: m.askSz[i],
        bidCt: m.bidCt[i],
        askCt: m.askCt[i],
      });
    }
    rows.push(row);
  }
  return rows;
}

export interface Decoded {
  summary: DecodeSummary;
  records: DbnRecord[];
  trades: TradeRow[];
  mbp1: TradeRow[];
  /** Sequence of batch kinds in delivery order, e.g. ['T', 'M']. */
  batches: string[];
}

/** Decodes everything (small batches by default: tests decode many tiny inputs). */
export async function decodeAll(
  input: string | Uint8Array | AsyncIterable<Uint8Array>,
  options: StreamOptions & { objects?: boolean } = {},
): Promise<Decoded> {
  const opts = { batchSize: 7, ...options };
  const out: Decoded = { summary: undefined as unknown as DecodeSummary, records: [], trades: [], mbp1: [], batches: [] };
  const sink = {
    onTrades: (b: TradeColumns) => {
      out.trades.push(...tradeRows(b));
      out.batches.push('T');
    },
    onMbp1: (b: Mbp1Columns) => {
      out.mbp1.push(...tradeRows(b));
      out.batches.push('M');
    },
    ...(opts.objects === false
      ? {}
      : {
          onRecord: (r: DbnRecord) => {
            out.records.push(r);
          },
        }),
  };
  if (typeof input === 'string') out.summary = await decodeFile(input, sink, opts);
  else if (input instanceof Uint8Array) out.summary = await decodeStream(chunked(input, [input.length]), 'mem.dbn', sink, opts);
  else out.summary = await decodeStream(input, 'mem.dbn', sink, opts);
  return out;
}

/** Yields `bytes` in pieces of the given sizes (cycled); each piece copied into a fresh buffer at a random-ish byte offset. */
export async function* chunked(bytes: Uint8Array, sizes: number[], misalign = 0): AsyncGenerator<Uint8Array> {
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    const piece = bytes.subarray(i, i + n);
    const host = new Uint8Array(piece.length + misalign);
    host.set(piece, misalign);
    yield host.subarray(misalign);
    i += n;
  }
}

/** Deterministic uniform [0, 1) source (the project's Sfc32). */
export const prng = uniformSource;
