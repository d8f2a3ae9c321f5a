// One grammar per concept: sweep grids and run costs parse the same way from every entry point
// (CLI flags, job protocol objects, the extension's text boxes) and give the same results.
import { strict as assert } from 'node:assert';
import { CostsError, costsFromFlags, costsText, parseCostsText, toCosts } from '../../../src/engine/backtest/costs.ts';
import {
  GridError,
  MAX_GRID_POINTS,
  gridFromRecord,
  gridPoints,
  gridSize,
  parseGrid,
  parseGridText,
} from '../../../src/engine/sweep/grid.ts';
import { ProtocolError, parseJobParams } from '../../../src/engine/jobs/protocol.ts';
import { parseArgs } from '../../../src/engine/cli/args.ts';
import { RUN_OPTIONS, costsOption as cliCosts } from '../../../src/engine/cli/backtestOptions.ts';
import { DEFAULT_COSTS } from '../../../src/engine/backtest/types.ts';

const sweepJob = (grid: unknown, costs: unknown = {}) =>
  parseJobParams('sweep', { dataDir: '/d', datasetId: 'ds_0000000000000001', strategyId: 'sma-cross', grid, costs });

describe('one grid grammar', () => {
  it('the same grid through the CLI, the job protocol and the extension text box: same points, same order', () => {
    const cli = gridPoints(parseGrid(['slow=30:90:30', 'fast=5,10']));
    const job = gridPoints(gridFromRecord(sweepJob({ slow: '30:90:30', fast: [5, 10] }).grid));
    const ext = gridPoints(parseGridText('fast=5,10   slow=30:90:30'));
    assert.deepEqual(cli, [
      { fast: 5, slow: 30 },
      { fast: 5, slow: 60 },
      { fast: 5, slow: 90 },
      { fast: 10, slow: 30 },
      { fast: 10, slow: 60 },
      { fast: 10, slow: 90 },
    ]);
    assert.deepEqual(job, cli);
    assert.deepEqual(ext, cli);
    // the job's record in another key order and with explicit values: still the same
    assert.deepEqual(gridPoints(gridFromRecord({ fast: [5, 10], slow: [30, 60, 90] })), cli);
  });

  it('decimal ranges are exact; values keep their order; text and booleans pass through', () => {
    assert.deepEqual(parseGridText('k=0.1:0.5:0.1')[0]![1], [0.1, 0.2, 0.3, 0.4, 0.5]);
    assert.deepEqual(parseGridText('k=1.05:1.25:0.05')[0]![1], [1.05, 1.1, 1.15, 1.2, 1.25]);
    assert.deepEqual(parseGridText('k=-1:1:0.5')[0]![1], [-1, -0.5, 0, 0.5, 1]);
    assert.deepEqual(parseGridText('k=30,10,20 flag=true,false mode=a,b')[1]![1], [30, 10, 20]);
    assert.deepEqual(parseGridText('flag=true,false')[0]![1], [true, false]);
    assert.deepEqual(gridPoints(parseGridText('a=1,2'), { size: 7 }), [
      { size: 7, a: 1 },
      { size: 7, a: 2 },
    ]);
  });

  it('one limit and errors that name the key, from every entry point', () => {
    assert.throws(
      () => parseGridText(`a=1:1000:1 b=1:${Math.ceil(MAX_GRID_POINTS / 1000) + 1}:1`),
      (e: GridError) => e instanceof GridError && /combinations; at most 100,000/.test(e.message),
    );
    assert.equal(gridSize(parseGridText('a=1:1000:1 b=1:100:1')), MAX_GRID_POINTS);
    for (const [text, re] of [
      ['fast', /expected name=/],
      ['fast=', /fast: no values/],
      ['fast=5:1:1', /fast: end 1 is below start 5/],
      ['fast=1:5:0', /step must be > 0/],
      ['fast=1,2 fast=3', /fast given twice/],
      ['fast=1:x:2', /a range is a:b:step/],
      ['9x=1', /expected name=/],
    ] as const) {
      assert.throws(() => parseGridText(text), re, text);
    }
    assert.throws(
      () => sweepJob({ fast: [] }),
      (e: ProtocolError) => e instanceof ProtocolError && /grid/.test(e.message),
    );
    assert.throws(() => sweepJob({ fast: '5:1:1' }), /fast: end 1 is below start 5/);
    assert.throws(() => gridFromRecord({ fast: [{}] }), /fast: values must be numbers/);
  });
});

describe('one costs grammar', () => {
  it('text, CLI flags, job objects and stored costs all become the same engine Costs', () => {
    const full = { ...DEFAULT_COSTS, cash: 50_000, fee_per_unit: 0.005, fee_min: 1 };
    assert.deepEqual(toCosts(parseCostsText('cash=50000 fee_per_unit=0.005, fee_min=1')), full);
    assert.deepEqual(toCosts(cliCosts(parseArgs(['--cash', '50000', '--fee-per-unit', '0.005', '--fee-min', '1'], RUN_OPTIONS))), full);
    assert.deepEqual(toCosts(sweepJob({ a: [1] }, { cash: 50000, fee_per_unit: 0.005, fee_min: 1 }).costs), full);
    assert.deepEqual(toCosts(full), full, 'a stored Costs is valid input as it is');
    assert.deepEqual(toCosts(parseCostsText('slippage=half-spread')), { ...DEFAULT_COSTS, slippage_model: 'half-spread' });
    assert.deepEqual(toCosts(parseCostsText('slippage=random:3')), { ...DEFAULT_COSTS, slippage_model: 'random', slippage_bps: 3 });
    assert.deepEqual(toCosts({ slippage: 2 }), { ...DEFAULT_COSTS, slippage_bps: 2 });
    assert.deepEqual(toCosts(cliCosts(parseArgs(['--slippage', 'random:5'], RUN_OPTIONS))), {
      ...DEFAULT_COSTS,
      slippage_model: 'random',
      slippage_bps: 5,
    });
    for (const t of ['', 'cash=5 slippage=half-spread fee_bps=2', 'slippage=random:3 fee_min=1', 'slippage_bps=1.5']) {
      assert.deepEqual(toCosts(parseCostsText(costsText(toCosts(parseCostsText(t))))), toCosts(parseCostsText(t)), `round trip of '${t}'`);
    }
  });

  it('refusals name the field (or the flag) and what was expected', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => parseCostsText('cash=0'), /costs\.cash: expected a finite number > 0, got 0/],
      [() => parseCostsText('fee_bps=-1'), /costs\.fee_bps: expected a finite number ≥ 0, got -1/],
      [() => parseCostsText('slippage=sometimes'), /costs\.slippage: expected half-spread, random:MAXBPS or fixed:BPS/],
      [() => parseCostsText('slippage_bps=2 slippage=half-spread'), /exclusive/],
      [() => parseCostsText('commission=1'), /costs\.commission: unknown key; expected one of cash/],
      [() => parseCostsText('cash'), /'cash': expected key=value/],
      [() => parseCostsText('cash=1 cash=2'), /costs\.cash given twice/],
      [() => toCosts({ slippage_model: 'half-spread', slippage_bps: 3 }), /exclusive/],
      [() => toCosts({ fee: 1 }), /costs\.fee: expected one of cash/],
      [() => costsFromFlags(new Map([['fee-bps', 'x']])), /--fee-bps expects a number, got 'x'/],
      [() => costsFromFlags(new Map([['cash', '-5']])), /--cash: expected a finite number > 0, got -5/],
      [
        () =>
          costsFromFlags(
            new Map([
              ['slippage-bps', '1'],
              ['slippage', 'half-spread'],
            ]),
          ),
        /--slippage-bps and --slippage are exclusive/,
      ],
      [() => sweepJob({ a: [1] }, { fee_bps: -2 }), /costs.*fee_bps/],
    ];
    for (const [f, re] of cases)
      assert.throws(f, (e: Error) => (e instanceof CostsError || e instanceof ProtocolError) && re.test(e.message), String(re));
  });
});
