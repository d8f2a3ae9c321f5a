import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strict as assert } from 'node:assert';
import { importFiles } from '../../../src/engine/ingest/importFiles.ts';
import { Sfc32 } from '../../../src/engine/util/prng.ts';
import { withTempDir } from '../../../src/engine/io/files.ts';
import { readBarsParquet } from '../../../src/engine/parquet/barsParquet.ts';
import { assertBars, dbnBytes, type FileSpec, type QuoteSpec, S } from './dbnBuild.ts';
import { referenceBars } from './referenceBars.ts';

/** 2024-03-04T23:57:00Z: the files cross UTC midnight, where the instrument ids swap. */
const T = 1_709_596_620_000_000_000n;
const MIN = 60n * S;
const MAPPINGS = [
  {
    rawSymbol: 'AAA',
    intervals: [
      { startDate: 20240304, endDate: 20240305, symbol: '11' },
      { startDate: 20240305, endDate: 20240306, symbol: '12' },
    ],
  },
  {
    rawSymbol: 'BBB',
    intervals: [
      { startDate: 20240304, endDate: 20240305, symbol: '12' },
      { startDate: 20240305, endDate: 20240306, symbol: '11' },
    ],
  },
];

/** Random sorted records in [start, end): ts on a 250 ms grid (many equal ts), ids 11/12/99, 10% UNDEF sides, zero sizes. */
function randomRecords(rng: Sfc32, start: bigint, end: bigint, n: number): QuoteSpec[] {
  const span = Number((end - start) / (250n * 1_000_000n));
  const ts = Array.from({ length: n }, () => start + BigInt(rng.int(span)) * 250_000_000n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const ids = [11, 11, 12, 12, 99];
  return ts.map((t) => {
    const mid = 100 + rng.int(200) / 100;
    const spread = (rng.int(7) - 1) / 100; // −0.01 … 0.05: crossed, locked and normal books
    return {
      ts: t,
      px: mid + (rng.int(5) - 2) / 100,
      sz: rng.int(4) === 0 ? 0 : 1 + rng.int(500),
      side: (['A', 'B', 'N'] as const)[rng.int(3)]!,
      id: ids[rng.int(ids.length)],
      bid: rng.next() < 0.1 ? null : mid,
      ask: rng.next() < 0.1 ? null : mid + spread,
      bsz: rng.int(3) === 0 ? 0 : rng.int(900),
      asz: rng.int(3) === 0 ? 0 : rng.int(900),
    };
  });
}

describe('derive on random multi-source, multi-symbol inputs equals the independent reference', function () {
  this.timeout(60_000);
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: two trades files + two tbbo files with partial spans, then the tbbo files alone`, async () => {
      await withTempDir(async (dir) => {
        const rng = new Sfc32(seed);
        const files: { name: string; spec: FileSpec; recs: QuoteSpec[] }[] = [
          {
            name: 't1.dbn',
            spec: { schema: 'trades', start: T, end: T + 3n * MIN, mappings: MAPPINGS },
            recs: randomRecords(rng, T, T + 3n * MIN, 400),
          },
          {
            name: 't2.dbn',
            spec: { schema: 'trades', start: T + 3n * MIN, end: T + 6n * MIN, mappings: MAPPINGS },
            recs: randomRecords(rng, T + 3n * MIN, T + 6n * MIN, 400),
          },
          {
            name: 'q1.dbn',
            spec: { schema: 'tbbo', start: T + MIN + 30n * S, end: T + 2n * MIN + 30n * S, mappings: MAPPINGS },
            recs: randomRecords(rng, T + MIN + 30n * S, T + 2n * MIN + 30n * S, 300),
          },
          {
            name: 'q2.dbn',
            spec: { schema: 'tbbo', start: T + 4n * MIN, end: T + 7n * MIN, mappings: MAPPINGS },
            recs: randomRecords(rng, T + 4n * MIN, T + 7n * MIN, 300),
          },
        ];
        const paths = files.map((f) => {
          const p = join(dir, f.name);
          writeFileSync(p, dbnBytes(f.spec, f.recs));
          return p;
        });
        for (const [label, subset] of [
          ['trades+tbbo', paths],
          ['tbbo only', paths.slice(2)],
        ] as const) {
          const dataDir = join(dir, `data-${label.replace(/\W/g, '')}`);
          const res = await importFiles([...subset], { dataDir, derive: true });
          assert.deepEqual(
            res.datasets.map((d) => d.symbol),
            ['AAA', 'BBB'],
          );
          for (const d of res.datasets) {
            const bars = await readBarsParquet(join(dataDir, d.bars_path!));
            const expected = await referenceBars([...subset], d.symbol);
            assert.ok(expected.length >= 5, `${label} ${d.symbol}: ${expected.length} bars`);
            assertBars(bars, expected);
          }
          // The unmapped instrument id is its own symbol.
          const other = await importFiles([...subset], { dataDir, symbol: '99', derive: true });
          assertBars(await readBarsParquet(join(dataDir, other.datasets[0]!.bars_path!)), await referenceBars([...subset], '99'));
        }
      });
    });
  }
});
