/** Random RunSeries for property tests: bars, fills and limit/stop/market orders with cancels. */
import type { RunRow } from '../../../../src/engine/ports/catalog.ts';
import type { RunSeries } from '../../../../src/engine/replay/runSeries.ts';
import { Sfc32 } from '../../../../src/engine/util/prng.ts';

export function randomSeries(seed: number, n: number, eventRate = 0.2): RunSeries {
  const rng = new Sfc32(seed);
  const tsMs = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  const spread = new Float64Array(n).fill(NaN);
  const equity = new Float64Array(n);
  const drawdown = new Float64Array(n);
  const position = new Float64Array(n);
  const cash = new Float64Array(n);
  let t = Date.parse('2024-03-04T14:30:00Z');
  let px = 100;
  for (let i = 0; i < n; i++) {
    tsMs[i] = t;
    t += rng.next() < 0.02 ? 3_600_000 * 17 : 60_000;
    open[i] = px;
    px = Math.max(1, px + (rng.next() - 0.5));
    close[i] = px;
    high[i] = Math.max(open[i]!, close[i]!) + rng.next() * 0.2;
    low[i] = Math.min(open[i]!, close[i]!) - rng.next() * 0.2;
    volume[i] = Math.floor(rng.next() * 1000);
    if (rng.next() < 0.8) spread[i] = 0.01 + rng.next() * 0.02;
  }
  // orders: submitted at bar b; market fills at b+1; limit/stop fill later or get canceled
  const o = {
    id: [] as number[],
    bar: [] as number[],
    side: [] as number[],
    type: [] as number[],
    lim: [] as number[],
    stop: [] as number[],
    status: [] as number[],
    fillId: [] as number[],
    fillBar: [] as number[],
    cancel: [] as number[],
  };
  const fillsByBar: { bar: number; order: number }[] = [];
  for (let b = 0; b < n - 1; b++) {
    if (rng.next() >= eventRate) continue;
    const k = o.id.length;
    const type = Math.floor(rng.next() * 3);
    o.id.push(k + 1);
    o.bar.push(b);
    o.side.push(rng.next() < 0.5 ? 0 : 1);
    o.type.push(type);
    o.lim.push(type === 1 ? close[b]! - 0.5 : NaN);
    o.stop.push(type === 2 ? close[b]! + 0.5 : NaN);
    const end = Math.min(n - 1, b + 1 + Math.floor(rng.next() * 5));
    const fate = type === 0 ? 0 : rng.next();
    if (fate < 0.5) {
      const fb = type === 0 ? b + 1 : end;
      o.status.push(1);
      o.fillBar.push(fb);
      o.cancel.push(-1);
      o.fillId.push(0);
      fillsByBar.push({ bar: fb, order: k });
    } else if (fate < 0.9) {
      o.status.push(2);
      o.fillBar.push(-1);
      o.cancel.push(end);
      o.fillId.push(0);
    } else {
      o.status.push(0);
      o.fillBar.push(-1);
      o.cancel.push(-1);
      o.fillId.push(0);
    }
  }
  fillsByBar.sort((a, b) => a.bar - b.bar || a.order - b.order);
  const nf = fillsByBar.length;
  const fills = {
    length: nf,
    fillId: new Int32Array(nf),
    orderId: new Int32Array(nf),
    bar: new Int32Array(nf),
    side: new Uint8Array(nf),
    qty: new Float64Array(nf),
    price: new Float64Array(nf),
    fee: new Float64Array(nf),
    slippage: new Float64Array(nf),
    positionAfter: new Float64Array(nf),
    avgPriceAfter: new Float64Array(nf),
  };
  let pos = 0;
  let c = 100_000;
  let fk = 0;
  for (let i = 0; i < n; i++) {
    while (fk < nf && fillsByBar[fk]!.bar === i) {
      const { order } = fillsByBar[fk]!;
      fills.fillId[fk] = fk + 1;
      fills.orderId[fk] = order + 1;
      fills.bar[fk] = i;
      fills.side[fk] = o.side[order]!;
      fills.qty[fk] = 10;
      fills.price[fk] = open[i]!;
      fills.fee[fk] = 0.1;
      o.fillId[order] = fk + 1;
      const q = o.side[order] === 0 ? 10 : -10;
      pos += q;
      c -= q * open[i]! + 0.1;
      fills.positionAfter[fk] = pos;
      fills.avgPriceAfter[fk] = pos === 0 ? NaN : open[i]!;
      fk++;
    }
    position[i] = pos;
    cash[i] = c;
    equity[i] = c + pos * close[i]!;
  }
  let peak = 100_000;
  for (let i = 0; i < n; i++) {
    peak = Math.max(peak, equity[i]!);
    drawdown[i] = 1 - equity[i]! / peak;
  }
  const m = o.id.length;
  const canceledBar = Int32Array.from(o.cancel);
  const orders = {
    length: m,
    orderId: Int32Array.from(o.id),
    bar: Int32Array.from(o.bar),
    side: Uint8Array.from(o.side),
    qty: new Float64Array(m).fill(10),
    type: Uint8Array.from(o.type),
    limitPrice: Float64Array.from(o.lim),
    stopPrice: Float64Array.from(o.stop),
    status: Uint8Array.from(o.status),
    fillId: Int32Array.from(o.fillId),
    fillBar: Int32Array.from(o.fillBar),
    canceledBar,
    cancelOrder: Int32Array.from([...canceledBar.keys()].filter((k) => canceledBar[k]! >= 0)).sort(
      (a, b) => canceledBar[a]! - canceledBar[b]! || a - b,
    ),
  };
  const run = {
    run_id: '01TESTRUN0000000000000000' + String(seed % 10),
    status: 'succeeded',
    metrics: { final_equity: equity[n - 1]! },
    symbol: 'RND',
  } as unknown as RunRow;
  const trades = {
    length: 0,
    tradeId: new Int32Array(0),
    direction: new Uint8Array(0),
    qty: new Float64Array(0),
    entryBar: new Int32Array(0),
    entryPrice: new Float64Array(0),
    exitBar: new Int32Array(0),
    exitPrice: new Float64Array(0),
    pnl: new Float64Array(0),
    ret: new Float64Array(0),
    fees: new Float64Array(0),
    barsHeld: new Int32Array(0),
  };
  return {
    run,
    manifest: null,
    symbol: 'RND',
    length: n,
    tsMs,
    open,
    high,
    low,
    close,
    volume,
    spread,
    hasQuotes: true,
    barsSource: 'dataset',
    equity,
    drawdown,
    position,
    cash,
    initialCash: 100_000,
    fills,
    orders,
    trades,
    cancelTimesKnown: true,
  };
}
