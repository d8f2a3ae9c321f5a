/**
 * Incremental indicators, O(1) per bar (amortized for rolling high/low), no allocation after
 * construction. The engine calls `update(i)` for every bar before the strategy's onBar, so a
 * value at bar i includes bar i. `value` is NaN until enough bars have been seen. These classes
 * are the one definition of each indicator: the strategy context's factories hand out series
 * that indicatorCache.ts recorded by running them once over a dataset's bars.
 */
export interface Indicator {
  readonly value: number;
  readonly ready: boolean;
  update(i: number): void;
}

/** What `ctx.bollinger` hands out: value = middle band. */
export interface BollingerBands extends Indicator {
  readonly upper: number;
  readonly lower: number;
  readonly std: number;
  readonly middle: number;
}

/** Simple moving average over n values; the running sum is re-summed every 4096 steps to bound drift. */
export class Sma implements Indicator {
  value = NaN;
  private readonly src: Float64Array;
  private readonly n: number;
  private readonly ring: Float64Array;
  private sum = 0;
  private count = 0;
  constructor(src: Float64Array, n: number) {
    this.src = src;
    this.n = n;
    this.ring = new Float64Array(n);
  }
  get ready(): boolean {
    return this.count >= this.n;
  }
  update(i: number): void {
    const x = this.src[i]!;
    const slot = this.count % this.n;
    this.sum += x - (this.count >= this.n ? this.ring[slot]! : 0);
    this.ring[slot] = x;
    this.count++;
    if ((this.count & 4095) === 0) {
      let s = 0;
      for (let k = 0; k < this.n; k++) s += this.ring[k]!;
      this.sum = s;
    }
    if (this.count >= this.n) this.value = this.sum / this.n;
  }
}

/** Exponential moving average, alpha = 2/(n+1), seeded with the SMA of the first n values. */
export class Ema implements Indicator {
  value = NaN;
  private readonly src: Float64Array;
  private readonly n: number;
  private readonly alpha: number;
  private seedSum = 0;
  private count = 0;
  constructor(src: Float64Array, n: number) {
    this.src = src;
    this.n = n;
    this.alpha = 2 / (n + 1);
  }
  get ready(): boolean {
    return this.count >= this.n;
  }
  update(i: number): void {
    const x = this.src[i]!;
    this.count++;
    if (this.count < this.n) this.seedSum += x;
    else if (this.count === this.n) this.value = (this.seedSum + x) / this.n;
    else this.value += this.alpha * (x - this.value);
  }
}

/** Wilder's RSI: the first averages are simple means of n changes, then (avg·(n−1) + x)/n. */
export class Rsi implements Indicator {
  value = NaN;
  private readonly src: Float64Array;
  private readonly n: number;
  private prev = NaN;
  private gain = 0;
  private loss = 0;
  private changes = 0;
  constructor(src: Float64Array, n: number) {
    this.src = src;
    this.n = n;
  }
  get ready(): boolean {
    return this.changes >= this.n;
  }
  update(i: number): void {
    const x = this.src[i]!;
    if (this.prev === this.prev) {
      const d = x - this.prev;
      const g = d > 0 ? d : 0;
      const l = d < 0 ? -d : 0;
      this.changes++;
      if (this.changes <= this.n) {
        this.gain += g / this.n;
        this.loss += l / this.n;
      } else {
        this.gain = (this.gain * (this.n - 1) + g) / this.n;
        this.loss = (this.loss * (this.n - 1) + l) / this.n;
      }
      if (this.changes >= this.n) this.value = this.loss === 0 ? (this.gain === 0 ? 50 : 100) : 100 - 100 / (1 + this.gain / this.loss);
    }
    this.prev = x;
  }
}

/** Wilder's average true range; the first true range is high − low. */
export class Atr implements Indicator {
  value = NaN;
  private readonly high: Float64Array;
  private readonly low: Float64Array;
  private readonly close: Float64Array;
  private readonly n: number;
  private count = 0;
  private acc = 0;
  constructor(high: Float64Array, low: Float64Array, close: Float64Array, n: number) {
    this.high = high;
    this.low = low;
    this.close = close;
    this.n = n;
  }
  get ready(): boolean {
    return this.count >= this.n;
  }
  update(i: number): void {
    const h = this.high[i]!;
    const l = this.low[i]!;
    let tr = h - l;
    if (this.count > 0) {
      const pc = this.close[i - 1]!;
      const a = h > pc ? h - pc : pc - h;
      const b = l > pc ? l - pc : pc - l;
      if (a > tr) tr = a;
      if (b > tr) tr = b;
    }
    this.count++;
    if (this.count < this.n) this.acc += tr;
    else if (this.count === this.n) this.value = (this.acc + tr) / this.n;
    else this.value = (this.value * (this.n - 1) + tr) / this.n;
  }
}

/**
 * Bollinger bands: middle = SMA(n), upper/lower = middle ± k · population std over the window.
 * Rolling sums of (x − shift) and its square, shift = the first value seen (keeps the sum of
 * squares well conditioned); re-summed from the window every 4096 steps to bound drift.
 */
export class Bollinger implements BollingerBands {
  value = NaN;
  upper = NaN;
  lower = NaN;
  std = NaN;
  private readonly src: Float64Array;
  private readonly n: number;
  private readonly k: number;
  private readonly ring: Float64Array;
  private count = 0;
  private shift = NaN;
  private s = 0;
  private s2 = 0;
  constructor(src: Float64Array, n: number, k: number) {
    this.src = src;
    this.n = n;
    this.k = k;
    this.ring = new Float64Array(n);
  }
  get ready(): boolean {
    return this.count >= this.n;
  }
  get middle(): number {
    return this.value;
  }
  update(i: number): void {
    const n = this.n;
    if (this.count === 0) this.shift = this.src[i]!;
    const d = this.src[i]! - this.shift;
    const slot = this.count % n;
    if (this.count >= n) {
      const old = this.ring[slot]!;
      this.s -= old;
      this.s2 -= old * old;
    }
    this.ring[slot] = d;
    this.s += d;
    this.s2 += d * d;
    this.count++;
    if ((this.count & 4095) === 0) {
      let s = 0;
      let s2 = 0;
      const m = this.count < n ? this.count : n;
      for (let j = 0; j < m; j++) {
        const v = this.ring[j]!;
        s += v;
        s2 += v * v;
      }
      this.s = s;
      this.s2 = s2;
    }
    if (this.count < n) return;
    const mean = this.s / n;
    const variance = this.s2 / n - mean * mean;
    this.value = this.shift + mean;
    this.std = Math.sqrt(variance > 0 ? variance : 0);
    this.upper = upperBand(this.value, this.k, this.std);
    this.lower = lowerBand(this.value, this.k, this.std);
  }
}

/** Bollinger's outer bands around the middle, k standard deviations away (the cached bands use them too). */
export function upperBand(middle: number, k: number, std: number): number {
  return middle + k * std;
}
export function lowerBand(middle: number, k: number, std: number): number {
  return middle - k * std;
}

/** Rolling maximum (sign = 1) or minimum (sign = −1) over n bars with a monotonic deque. */
export class RollingExtreme implements Indicator {
  value = NaN;
  private readonly src: Float64Array;
  private readonly n: number;
  private readonly sign: number;
  private readonly idx: Int32Array;
  private head = 0;
  private tail = 0;
  private count = 0;
  constructor(src: Float64Array, n: number, sign: 1 | -1) {
    this.src = src;
    this.n = n;
    this.sign = sign;
    this.idx = new Int32Array(n + 1);
  }
  get ready(): boolean {
    return this.count >= this.n;
  }
  update(i: number): void {
    const cap = this.n + 1;
    const x = this.src[i]! * this.sign;
    while (this.tail !== this.head) {
      const last = (this.tail + cap - 1) % cap;
      if (this.src[this.idx[last]!]! * this.sign <= x) this.tail = last;
      else break;
    }
    this.idx[this.tail] = i;
    this.tail = (this.tail + 1) % cap;
    if (this.idx[this.head]! <= i - this.n) this.head = (this.head + 1) % cap;
    this.count++;
    if (this.count >= this.n) this.value = this.src[this.idx[this.head]!]!;
  }
}
