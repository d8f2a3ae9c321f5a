// DecodeOptions.barFieldsOnly fills only the columns bars use, through the wasm kernel's
// bar-field loops: those columns must equal a full decode's, record for record, at any batch
// size and chunking (runs cut by batch and chunk boundaries), for trades and TBBO, and with
// records at unaligned offsets.
import { strict as assert } from 'node:assert';
import type { Mbp1Columns, TradeColumns } from '../../../src/engine/dbn/columns.ts';
import { decodeStream, type DecodeOptions } from '../../../src/engine/dbn/decoder.ts';
import { dbnBytes, T0, type QuoteSpec } from '../bars/dbnBuild.ts';
import { fixtureBytes } from './helpers.ts';

const TRADE_FIELDS = ['instrumentId', 'tsRecvU32', 'price', 'size', 'side'] as const;
const MBP1_FIELDS = [...TRADE_FIELDS, 'bidPx', 'askPx', 'bidSz', 'askSz'] as const;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

async function* chunked(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.slice(i, i + size);
}

/** Every decoded batch's `fields`, concatenated per field as plain numbers (NaN kept). */
async function columns(
  bytes: Uint8Array,
  fields: readonly string[],
  opts: DecodeOptions,
  chunk: number,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(fields.map((f) => [f, []]));
  const take = (b: TradeColumns | Mbp1Columns) => {
    for (const f of fields) {
      const col = (b as unknown as Record<string, ArrayLike<number>>)[f]!;
      const n = f === 'tsRecvU32' ? 2 * b.length : b.length;
      for (let i = 0; i < n; i++) out[f]!.push(col[i]!);
    }
  };
  await decodeStream(chunked(bytes, chunk), 'x.dbn', { onTrades: take, onMbp1: take }, opts);
  return out;
}

describe('barFieldsOnly decoding', () => {
  const r = rng(11);
  const recs: QuoteSpec[] = Array.from({ length: 700 }, (_, i) => ({
    ts: T0 + BigInt(i) * 1_000_000n,
    px: 4800 + Math.floor(r() * 40) / 4,
    sz: 1 + Math.floor(r() * 20),
    side: (['A', 'B', 'N'] as const)[i % 3]!,
    id: i % 5 === 0 ? 7 : 42,
    bid: i % 50 === 0 ? null : 4799.75,
    ask: 4800.25,
    bsz: Math.floor(r() * 9),
    asz: Math.floor(r() * 9),
  }));
  const inputs = [
    ['trades v3 (aligned)', dbnBytes({ schema: 'trades' }, recs), TRADE_FIELDS],
    ['tbbo v3 (aligned)', dbnBytes({ schema: 'tbbo' }, recs), MBP1_FIELDS],
    ['trades fixture v2 (records at odd offsets)', fixtureBytes('test_data.trades.dbn'), TRADE_FIELDS],
    ['tbbo fixture', fixtureBytes('test_data.tbbo.dbn'), MBP1_FIELDS],
  ] as const;
  for (const [name, bytes, fields] of inputs) {
    it(`${name}: the bar columns equal a full decode's at batch sizes 1, 7, 64, 65536 and chunks of 13, 1000, whole`, async () => {
      const full = await columns(bytes, fields, {}, bytes.length);
      assert.ok(full.price!.length > 0);
      for (const batchSize of [1, 7, 64, 65536]) {
        for (const chunk of [13, 1000, bytes.length]) {
          const lite = await columns(bytes, fields, { batchSize, barFieldsOnly: true }, chunk);
          for (const f of fields) assert.deepEqual(lite[f], full[f], `${f}, batch ${batchSize}, chunk ${chunk}`);
        }
      }
    });
  }
});
