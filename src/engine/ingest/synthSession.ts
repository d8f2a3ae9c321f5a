/**
 * The market model behind `btnb data synth`: one trading day of trades with the BBO in force
 * just before each one, as columns. Deterministic for a given PRNG state.
 *
 * - Regular session 09:30–close (XNYS calendar, early closes included) with U-shaped activity
 *   (intensity 0.5 + 3x², x ∈ [-1, 1] across the session, times a lognormal per-minute shock);
 *   a few trades 04:00–09:30 and close–20:00 New York time.
 * - Mid price: a per-minute GARCH(1,1) (α 0.08, β 0.90) log random walk with a small drift and
 *   a U-shaped volatility profile; within a minute, one normal step per trade; overnight gap.
 * - Tick 0.01; spreads of 1–5 ticks, wider at the open, in volatile minutes and off-hours.
 * - Aggressors: B trades at the ask, A at the bid, N (≈3%, midpoint-style) inside the spread.
 *   Short order-flow momentum. Some aggressive orders fill against two resting orders at the
 *   same price and ts_recv (the second sees the first's size already taken from the book).
 * - Off-hours books are thin: ~3% of quotes have one side empty (UNDEF_PRICE); the trade is
 *   then on the side that exists.
 */
import { localToUtcNs } from '../calendar/newYork.ts';
import type { Sfc32 } from '../util/prng.ts';

export const TICK_RAW = 10_000_000; // 0.01 in 1e-9 units
const NS_MIN = 60_000_000_000;

export interface DayTape {
  length: number;
  /** ts_recv in ns since the New York local midnight of the day (exact integers < 2^53). */
  tsRecv: Float64Array;
  /** ts_recv − ts_event, ns. */
  latency: Float64Array;
  tsInDelta: Int32Array;
  sequence: Uint32Array;
  /** Prices in ticks (0.01). bid/ask −1 = empty side (UNDEF_PRICE). */
  price: Float64Array;
  size: Uint32Array;
  side: Uint8Array;
  flags: Uint8Array;
  bid: Float64Array;
  ask: Float64Array;
  bidSz: Uint32Array;
  askSz: Uint32Array;
  bidCt: Uint32Array;
  askCt: Uint32Array;
}

function allocTape(n: number): DayTape {
  return {
    length: 0,
    tsRecv: new Float64Array(n),
    latency: new Float64Array(n),
    tsInDelta: new Int32Array(n),
    sequence: new Uint32Array(n),
    price: new Float64Array(n),
    size: new Uint32Array(n),
    side: new Uint8Array(n),
    flags: new Uint8Array(n),
    bid: new Float64Array(n),
    ask: new Float64Array(n),
    bidSz: new Uint32Array(n),
    askSz: new Uint32Array(n),
    bidCt: new Uint32Array(n),
    askCt: new Uint32Array(n),
  };
}

/** State carried from day to day. */
export interface MarketState {
  mid: number; // dollars
  h: number; // per-minute variance of log returns
  momentum: number;
}

const SIGMA_MIN = 0.25 / Math.sqrt(252 * 390); // 25% annualised
const H_BAR = SIGMA_MIN * SIGMA_MIN;
const ALPHA = 0.08;
const BETA = 0.9;
const OMEGA = H_BAR * (1 - ALPHA - BETA);
const DRIFT_MIN = 0.06 / (252 * 390);

export function initialState(rng: Sfc32): MarketState {
  return { mid: 80 + rng.int(12000) / 100, h: H_BAR, momentum: 0 };
}

const SPREAD_CDF = [0.45, 0.72, 0.87, 0.96, 1];
function spreadTicks(rng: Sfc32, widen: number): number {
  const u = rng.next();
  let s = 1;
  while (u >= SPREAD_CDF[s - 1]!) s++;
  return Math.min(5, s + widen);
}

function tradeSize(rng: Sfc32): number {
  const u = rng.next();
  if (u < 0.5) return 1 + rng.int(99); // odd lots
  if (u < 0.95) return 100 * (1 + rng.geometric(0.45));
  return 100 * (10 + rng.int(90)); // blocks
}

function bookSize(rng: Sfc32): number {
  return 100 * (1 + rng.geometric(0.3)) + (rng.next() < 0.3 ? rng.int(100) : 0);
}

/**
 * Simulates New York trading day `day` (day number) with regular session [openNs, closeNs)
 * (UTC ns) and about `trades` trades. Mutates `state`.
 */
export function simulateDay(rng: Sfc32, state: MarketState, day: number, openNs: number, closeNs: number, trades: number): DayTape {
  const midnight = localToUtcNs(day, 0);
  const preStart = localToUtcNs(day, 4 * 60) - midnight;
  const open = openNs - midnight;
  const close = closeNs - midnight;
  const postEnd = localToUtcNs(day, 20 * 60) - midnight;
  const rthMinutes = Math.round((close - open) / NS_MIN);
  const preMinutes = Math.round((open - preStart) / NS_MIN);
  const postMinutes = Math.round((postEnd - close) / NS_MIN);
  const nPre = Math.max(1, Math.round(trades * 0.006));
  const nPost = Math.max(1, Math.round(trades * 0.004));
  const nRth = Math.max(0, trades - nPre - nPost);

  // Expected trades per regular-session minute (U shape × lognormal shock).
  const w = new Float64Array(rthMinutes);
  let wSum = 0;
  for (let m = 0; m < rthMinutes; m++) {
    const x = (2 * (m + 0.5)) / rthMinutes - 1;
    w[m] = (0.5 + 3 * x * x) * Math.exp(0.35 * rng.normal() - 0.06);
    wSum += w[m]!;
  }
  let tape = allocTape(Math.ceil(trades * 1.1) + 64);
  state.mid *= Math.exp(0.008 * rng.normal()); // overnight gap
  let seq = 1000 + rng.int(100000);

  const totalMinutes = preMinutes + rthMinutes + postMinutes;
  let offsets = new Float64Array(256);
  for (let k = 0; k < totalMinutes; k++) {
    const inRth = k >= preMinutes && k < preMinutes + rthMinutes;
    const m = k - preMinutes;
    const minuteStart = preStart + k * NS_MIN;
    // Volatility: GARCH update on the previous minute's return, scaled by the intraday profile.
    const x = inRth ? (2 * (m + 0.5)) / rthMinutes - 1 : 1;
    const profile = inRth ? 0.6 + 1.2 * x * x : 0.8;
    const sigma = Math.sqrt(state.h * profile);
    let expected: number;
    if (inRth) expected = (nRth * w[m]!) / wSum;
    else expected = k < preMinutes ? nPre / preMinutes : nPost / postMinutes;
    const count = Math.floor(expected + rng.next());
    let ret = DRIFT_MIN;
    if (count === 0) {
      ret += sigma * rng.normal();
    } else {
      if (offsets.length < count) offsets = new Float64Array(count * 2);
      for (let i = 0; i < count; i++) offsets[i] = Math.floor(rng.next() * NS_MIN);
      const sorted = offsets.subarray(0, count).sort();
      const step = sigma / Math.sqrt(count);
      const widen = !inRth ? 2 : m < 15 ? 1 : state.h > 2 * H_BAR ? 1 : 0;
      for (let i = 0; i < count; i++) {
        const r = DRIFT_MIN / count + step * rng.normal();
        ret += r;
        state.mid *= Math.exp(r);
        state.momentum = 0.7 * state.momentum + (r > 0 ? 1 : r < 0 ? -1 : 0) * 0.3;
        if (state.mid < 1) state.mid = 1;
        seq += 1 + rng.int(40);
        if (tape.length + 2 > tape.tsRecv.length) tape = growTape(tape);
        emitTrade(rng, tape, minuteStart + sorted[i]!, seq, state, widen, !inRth);
      }
    }
    state.h = OMEGA + (ALPHA * (ret * ret)) / profile + BETA * state.h;
  }
  return tape;
}

function growTape(t: DayTape): DayTape {
  const next = allocTape(t.tsRecv.length * 2);
  next.length = t.length;
  for (const k of Object.keys(t) as (keyof DayTape)[]) {
    if (k !== 'length') (next[k] as Float64Array).set(t[k]);
  }
  return next;
}

function emitTrade(rng: Sfc32, t: DayTape, ts: number, seq: number, state: MarketState, widen: number, offHours: boolean): void {
  const s = spreadTicks(rng, widen);
  const midTicks = state.mid * 100;
  let bid = Math.round(midTicks - s / 2);
  if (bid < 1) bid = 1;
  let ask = bid + s;
  let bidSz = bookSize(rng);
  let askSz = bookSize(rng);
  if (offHours && rng.next() < 0.03) {
    if (rng.next() < 0.5) bid = -1;
    else ask = -1;
  }
  const u = rng.next();
  let side: number;
  if (bid < 0) side = 0x42;
  else if (ask < 0) side = 0x41;
  else if (u < 0.03) side = 0x4e;
  else side = rng.next() < 0.5 + 0.15 * state.momentum ? 0x42 : 0x41;
  const price = side === 0x42 ? ask : side === 0x41 ? bid : bid + Math.floor(s / 2);
  const total = tradeSize(rng);
  // Two fills at one price and one ts_recv when the order takes more than the first resting order.
  const split = !offHours && total >= 200 && rng.next() < 0.08;
  const first = split ? Math.max(1, Math.floor(total * (0.2 + 0.6 * rng.next()))) : total;
  const latency = 20_000 + rng.int(400_000);
  const inDelta = 2_000 + rng.int(30_000);
  const bidCt = 1 + rng.geometric(0.4);
  const askCt = 1 + rng.geometric(0.4);
  if (side === 0x42 && askSz < total) askSz = total + bookSize(rng);
  if (side === 0x41 && bidSz < total) bidSz = total + bookSize(rng);
  let i = t.length++;
  t.tsRecv[i] = ts;
  t.latency[i] = latency;
  t.tsInDelta[i] = inDelta;
  t.sequence[i] = seq;
  t.price[i] = price;
  t.size[i] = first;
  t.side[i] = side;
  t.flags[i] = split ? 0 : 0x80;
  t.bid[i] = bid;
  t.ask[i] = ask;
  t.bidSz[i] = bidSz;
  t.askSz[i] = askSz;
  t.bidCt[i] = bidCt;
  t.askCt[i] = askCt;
  if (!split) return;
  i = t.length++;
  t.tsRecv[i] = ts;
  t.latency[i] = latency;
  t.tsInDelta[i] = inDelta;
  t.sequence[i] = seq;
  t.price[i] = price;
  t.size[i] = total - first;
  t.side[i] = side;
  t.flags[i] = 0x80;
  t.bid[i] = bid;
  t.ask[i] = ask;
  t.bidSz[i] = side === 0x41 ? bidSz - first : bidSz;
  t.askSz[i] = side === 0x42 ? askSz - first : askSz;
  t.bidCt[i] = side === 0x41 ? Math.max(1, bidCt - 1) : bidCt;
  t.askCt[i] = side === 0x42 ? Math.max(1, askCt - 1) : askCt;
}
