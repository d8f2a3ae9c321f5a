/**
 * Growable typed-array columns for the engine's event logs (orders, fills, trades, events):
 * one push per event, no per-event objects; `trim()` hands out exact-length views at the end.
 */
type TypedArray = Float64Array | Int32Array | Uint8Array;
type Ctor<T extends TypedArray> = { new (n: number): T };

export class GrowableColumn<T extends TypedArray> {
  data: T;
  private readonly ctor: Ctor<T>;
  constructor(ctor: Ctor<T>, capacity = 64) {
    this.ctor = ctor;
    this.data = new ctor(capacity);
  }
  ensure(length: number): void {
    if (length <= this.data.length) return;
    // ×4 growth: a quarter of the copying and allocation of doubling, for ≤ 4× slack on logs
    // that are small next to the per-bar equity columns.
    let cap = this.data.length * 4;
    while (cap < length) cap *= 4;
    const next = new this.ctor(cap);
    next.set(this.data as never);
    this.data = next;
  }
  trim(length: number): T {
    return this.data.subarray(0, length) as T;
  }
}

export const f64 = (cap?: number) => new GrowableColumn(Float64Array, cap);
export const i32 = (cap?: number) => new GrowableColumn(Int32Array, cap);
export const u8 = (cap?: number) => new GrowableColumn(Uint8Array, cap);
