// The WebAssembly fill kernel (fillKernel.ts, kernel/fill.wat) against the JS loops of
// columnar.ts, which are written independently: every column, bit for bit (NaN payloads
// included), over the trades/mbp-1/tbbo fixtures of every version and over records of random
// bytes (prices of every magnitude and sign, UNDEF_PRICE, all byte values), at batch sizes and
// chunkings that cut runs anywhere, chunks at odd addresses, full and bar-fields-only fills.
// Also: the batch ring's promise (a kept batch is not rewritten), the embedded binary matches
// its .wat source, and the fallbacks.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mbp1Columns, TradeColumns } from '../../../src/engine/dbn/columns.ts';
import { decodeFile, decodeStream, type DecodeOptions } from '../../../src/engine/dbn/decoder.ts';
import { defaultKernel, FillKernel } from '../../../src/engine/dbn/fillKernel.ts';
import { WASM_BASE64 } from '../../../src/engine/dbn/kernel/fillWasm.ts';
import { DbnStreamDecoder } from '../../../src/engine/dbn/streamDecoder.ts';
import { chunked, fixtureBytes, prng } from './helpers.ts';

const TRADE_COLS = [
  'publisherId',
  'instrumentId',
  'tsEvent',
  'tsRecv',
  'price',
  'size',
  'action',
  'side',
  'flags',
  'depth',
  'tsInDelta',
  'sequence',
] as const;
const MBP1_COLS = [...TRADE_COLS, 'bidPx', 'askPx', 'bidSz', 'askSz', 'bidCt', 'askCt'] as const;
const BAR_TRADE_COLS = ['instrumentId', 'tsRecv', 'price', 'size', 'side'] as const;
const BAR_MBP1_COLS = [...BAR_TRADE_COLS, 'bidPx', 'askPx', 'bidSz', 'askSz'] as const;

type Cols = Record<string, number[]>;

/** The bytes of each column's valid rows, per batch kind, as hex-free number lists (bit-exact). */
async function decodeColumns(
  chunks: AsyncIterable<Uint8Array>,
  opts: DecodeOptions,
): Promise<{ trades: Cols; mbp1: Cols; batches: string }> {
  const full = !opts.barFieldsOnly;
  const out = { trades: {} as Cols, mbp1: {} as Cols, batches: '' };
  const take = (into: Cols, cols: readonly string[]) => (b: TradeColumns | Mbp1Columns) => {
    for (const c of cols) {
      const a = (b as unknown as Record<string, ArrayBufferView & { BYTES_PER_ELEMENT: number }>)[c]!;
      const bytes = new Uint8Array(a.buffer, a.byteOffset, b.length * a.BYTES_PER_ELEMENT);
      (into[c] ??= []).push(...bytes);
    }
  };
  const onTrades = take(out.trades, full ? TRADE_COLS : BAR_TRADE_COLS);
  const onMbp1 = take(out.mbp1, full ? MBP1_COLS : BAR_MBP1_COLS);
  await decodeStream(
    chunks,
    'k.dbn',
    {
      onTrades: (b) => {
        out.batches += 'T';
        onTrades(b);
      },
      onMbp1: (b) => {
        out.batches += 'M';
        onMbp1(b);
      },
    },
    opts,
  );
  return out;
}

/** A DBN fragment (no metadata) of `n` records of random bytes: trades, mbp-1 and unknown rtypes in runs. */
function randomRecords(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  const parts: Uint8Array[] = [];
  // The first record decides the fragment's kind: a trade.
  let kind = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && r() < 0.15) kind = r() < 0.45 ? 0 : r() < 0.9 ? 1 : 2;
    const len = kind === 0 ? 48 : kind === 1 ? 80 : 32;
    const rec = new Uint8Array(len);
    for (let j = 0; j < len; j++) rec[j] = Math.floor(r() * 256);
    rec[0] = len / 4;
    rec[1] = kind === 2 ? 0xee : kind;
    const v = new DataView(rec.buffer);
    if (kind !== 2) {
      // Prices: UNDEF_PRICE, small exact values of both signs, and raw bytes (any magnitude).
      for (const at of kind === 1 ? [16, 48, 56] : [16]) {
        const p = r();
        if (p < 0.2) v.setBigInt64(at, 0x7fffffffffffffffn, true);
        else if (p < 0.5) v.setBigInt64(at, BigInt(Math.floor((r() - 0.5) * 2 ** 52)), true);
        else if (p < 0.55) v.setBigInt64(at, -0x8000000000000000n, true);
      }
    }
    parts.push(rec);
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function assertKernelsAgree(bytes: Uint8Array, sizes: number[], misalign: number, opts: DecodeOptions, what: string): Promise<void> {
  const js = await decodeColumns(chunked(bytes, sizes, misalign), { ...opts, kernel: 'js' });
  const wasm = await decodeColumns(chunked(bytes, sizes, misalign), { ...opts, kernel: 'wasm' });
  assert.equal(wasm.batches, js.batches, `${what}: batch sequence`);
  for (const kind of ['trades', 'mbp1'] as const) {
    for (const c of Object.keys(js[kind])) assert.deepEqual(wasm[kind][c], js[kind][c], `${what}: ${kind}.${c}`);
    assert.deepEqual(Object.keys(wasm[kind]).sort(), Object.keys(js[kind]).sort(), `${what}: ${kind} columns`);
  }
}

describe('WebAssembly fill kernel', () => {
  it('is the default on this runtime; BTNB_DBN_KERNEL=js selects the JS loops', () => {
    assert.equal(defaultKernel({}), 'wasm');
    assert.equal(defaultKernel({ BTNB_DBN_KERNEL: 'js' }), 'js');
    assert.equal(new DbnStreamDecoder('x', { onTrades() {} }).kernel, 'wasm');
    assert.equal(new DbnStreamDecoder('x', { onTrades() {} }, { kernel: 'js' }).kernel, 'js');
  });

  for (const name of [
    'test_data.trades.dbn',
    'test_data.trades.v1.dbn.zst',
    'test_data.trades.v3.dbn.zst',
    'test_data.mbp-1.v1.dbn.zst',
    'test_data.mbp-1.v3.dbn.zst',
    'test_data.tbbo.dbn',
    'test_data.tbbo.v2.dbn.zst',
  ]) {
    it(`${name}: every column equals the JS kernel's, full and bar fields, any batch size and chunking`, async () => {
      const bytes = fixtureBytes(name);
      for (const barFieldsOnly of [false, true]) {
        for (const batchSize of [1, 3, 16384]) {
          for (const [sizes, misalign] of [
            [[bytes.length], 0],
            [[13, 7, 100], 1],
            [[1000], 2],
          ] as const) {
            await assertKernelsAgree(
              bytes,
              [...sizes],
              misalign,
              { batchSize, barFieldsOnly },
              `${name} bar=${barFieldsOnly} batch=${batchSize} chunks=${sizes} misalign=${misalign}`,
            );
          }
        }
      }
      const js = await decodeColumns(chunked(bytes, [bytes.length]), { kernel: 'js' });
      assert.ok((js.trades.price?.length ?? 0) + (js.mbp1.price?.length ?? 0) > 0, 'the fixture has rows');
    });
  }

  it('random record bytes (every price magnitude, UNDEF_PRICE, i64::MIN, all byte values): bit-identical to the JS kernel', async function () {
    this.timeout(60_000);
    for (const seed of [1, 2, 3]) {
      const bytes = randomRecords(3000, seed);
      for (const barFieldsOnly of [false, true]) {
        for (const batchSize of [5, 16384]) {
          for (const [sizes, misalign] of [
            [[bytes.length], 0],
            [[4093, 77], 3],
            [[300 * 1024], 0],
          ] as const) {
            await assertKernelsAgree(
              bytes,
              [...sizes],
              misalign,
              { batchSize, barFieldsOnly },
              `seed ${seed} bar=${barFieldsOnly} batch=${batchSize} chunks=${sizes}`,
            );
          }
        }
      }
    }
    // The fixture of random bytes really has NaN prices and prices beyond 2^53.
    const cols = await decodeColumns(chunked(randomRecords(3000, 1), [1 << 20]), {});
    const px = new Float64Array(new Uint8Array(cols.trades.price!).buffer);
    assert.ok(px.some(Number.isNaN) && px.some((p) => Math.abs(p) > 2 ** 53) && px.some((p) => p < 0));
  });

  it('mutated inputs (500 seeded cases): the same columns or the same error as the JS kernel', async function () {
    this.timeout(60_000);
    const r = prng(77);
    const sources = [
      fixtureBytes('test_data.trades.dbn'),
      fixtureBytes('test_data.tbbo.v3.dbn.zst'),
      fixtureBytes('test_data.mbp-1.v2.dbn.zst'),
      randomRecords(400, 5),
    ];
    const outcome = async (input: Uint8Array, sizes: number[], kernel: 'js' | 'wasm') => {
      try {
        return JSON.stringify(await decodeColumns(chunked(input, sizes, 1), { kernel, batchSize: 9 }));
      } catch (e) {
        return `error: ${(e as Error).message}`;
      }
    };
    let errors = 0;
    for (let i = 0; i < 500; i++) {
      const b = sources[i % sources.length]!.slice();
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
        const at = Math.floor(r() * b.length);
        // Length bytes, rtypes and plain bytes: runs broken, records cut or skipped.
        b[at] = r() < 0.5 ? [0, 1, 4, 12, 20, 255][Math.floor(r() * 6)]! : Math.floor(r() * 256);
      }
      const input = r() < 0.3 ? b.subarray(0, Math.floor(r() * b.length)) : b;
      const sizes = [1 + Math.floor(r() * 300), 1 + Math.floor(r() * 5000)];
      const js = await outcome(input, sizes, 'js');
      assert.equal(await outcome(input, sizes, 'wasm'), js, `case ${i}`);
      if (js.startsWith('error')) errors++;
    }
    assert.ok(errors > 50 && errors < 450, `both outcomes exercised (${errors} errors)`);
  });

  it('decodes a file straight from its read slots across 4 MiB reads, like the JS kernel', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'btnb-kernel-'));
    try {
      // 9 MiB of records: three reads into the two alternating slots, records cut between them.
      const path = join(dir, 'big.dbn');
      writeFileSync(path, randomRecords(150_000, 9));
      const sums: Record<string, number[]> = {};
      for (const kernel of ['js', 'wasm'] as const) {
        const acc = [0, 0, 0, 0];
        await decodeFile(
          path,
          {
            onTrades(b) {
              for (let i = 0; i < b.length; i++) {
                acc[0] = (acc[0]! * 31 + b.tsRecvU32[2 * i]! + b.sequence[i]!) % 1e9;
                acc[1]! += b.length;
              }
            },
            onMbp1(b) {
              for (let i = 0; i < b.length; i++) {
                acc[2] = (acc[2]! * 31 + b.askCt[i]! + b.flags[i]!) % 1e9;
                acc[3]! += b.length;
              }
            },
          },
          { kernel },
        );
        sums[kernel] = acc;
      }
      assert.deepEqual(sums.wasm, sums.js);
      assert.ok(sums.js![1]! > 50_000 && sums.js![3]! > 50_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batchRing: a batch is not rewritten until batchRing - 1 further batches were handed over', async () => {
    const bytes = randomRecords(2000, 4);
    for (const kernel of ['js', 'wasm'] as const) {
      const held: { b: TradeColumns; snapshot: number[] }[] = [];
      const seen = new Set<TradeColumns>();
      const snap = (b: TradeColumns) => [
        ...new Uint8Array(b.price.buffer, b.price.byteOffset, 8 * b.length),
        ...b.sequence.subarray(0, b.length),
      ];
      await decodeStream(
        chunked(bytes, [bytes.length]),
        'ring.dbn',
        {
          onTrades(b) {
            seen.add(b);
            // The two batches handed over before this one are intact.
            for (const h of held) assert.deepEqual(snap(h.b), h.snapshot, `${kernel}: a kept batch changed`);
            held.push({ b, snapshot: snap(b) });
            if (held.length > 2) held.shift();
          },
        },
        { kernel, batchSize: 16, batchRing: 3 },
      );
      assert.equal(seen.size, 3, `${kernel}: three batches rotate`);
    }
  });

  it('lays out descriptors, the carry record, staging, input slots and columns without overlap', () => {
    const k = new FillKernel({ capacity: 1000, tradeSets: 2, mbp1Sets: 3, inputBytes: 1 << 20 });
    const regions: [string, number, number][] = [
      ['carry', k.carryAt, k.carryAt + k.carryBytes],
      ['stage', k.stageAt, k.stageAt + k.stageBytes],
      ...k.inputSlots(4, 1 << 18)!.map((s, i) => [`slot ${i}`, s.byteOffset, s.byteOffset + s.length] as [string, number, number]),
    ];
    assert.ok(k.carryBytes >= 1020, 'the longest record fits the carry');
    assert.equal(k.inputSlots(5, 1 << 18), null, 'slots beyond the input region are refused');
    for (const [i, set] of [...k.tradeSets, ...k.mbp1Sets].entries()) {
      for (const [name, col] of Object.entries(set)) {
        if (!ArrayBuffer.isView(col) || name.endsWith('U32')) continue;
        assert.equal(col.buffer, k.memory.buffer);
        assert.equal(col.byteOffset % (col as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT, 0, `${name} aligned`);
        regions.push([`set ${i} ${name}`, col.byteOffset, col.byteOffset + col.byteLength]);
      }
    }
    regions.sort((a, b) => a[1] - b[1]);
    assert.ok(regions[0]![1] >= 18 * 4 * 5, 'descriptors come first');
    for (let i = 1; i < regions.length; i++)
      assert.ok(regions[i]![1] >= regions[i - 1]![2], `${regions[i - 1]![0]} overlaps ${regions[i]![0]}`);
    assert.ok(regions.at(-1)![2] <= k.memory.buffer.byteLength);
  });

  it('refuses a layout beyond wasm32 memory (the decoder then uses the JS loops), and an explicit wasm request fails', () => {
    // Checked before any memory is reserved; the decoder's fallback catches this RangeError.
    assert.throws(
      () => new FillKernel({ capacity: 2 ** 24, tradeSets: 4, mbp1Sets: 4, inputBytes: 1 << 23 }),
      (e: unknown) => e instanceof RangeError && /exceeds 4 GiB/.test(e.message),
    );
    assert.throws(
      () => new DbnStreamDecoder('x', { onTrades() {}, onMbp1() {} }, { batchSize: 2 ** 24, batchRing: 16, kernel: 'wasm' }),
      /exceeds 4 GiB/,
    );
  });

  it('the embedded binary is what npm run gen:wasm builds from kernel/fill.wat', async () => {
    const gen = await import('../../../scripts/gen-wasm.mjs');
    const root = join(import.meta.dirname, '..', '..', '..');
    const wat = gen.watSources(root).find((p) => p.endsWith('fill.wat'))!;
    const text = await gen.wasmModuleText(wat);
    assert.ok(text.includes(`'${WASM_BASE64}'`), 'src/engine/dbn/kernel/fillWasm.ts is stale: run npm run gen:wasm');
  });
});
