/**
 * The replay frame protocol (docs/replay.md): the messages a replay stream exchanges with a
 * view (webview, notebook renderer, `btnb replay` on stdout/stdin). One module for every side:
 * each message is a `type` plus a zod schema, checked where it arrives. Browser-safe (zod only).
 *
 * Series travel as columns (one array per field), never one object per bar; fills and order
 * events as columns too. Times are UTC epoch milliseconds (`ts_ms`), exact for minute bars.
 */
import { z } from 'zod';

/** A frame never carries more OHLC buckets than this, whatever the speed. */
export const MAX_BARS_PER_FRAME = 500;
/** Frames are at least this far apart (at most 30 frames a second). */
export const MIN_FRAME_INTERVAL_MS = 1000 / 30;
/** Heartbeat period while a stream is open. */
export const HEARTBEAT_MS = 5000;

export const ReplayState = z.enum(['playing', 'paused', 'ended']);
export type ReplayState = z.infer<typeof ReplayState>;
/** Bars per second, or `max` (as fast as frames allow). */
export const Speed = z.union([z.number().positive().max(1e9), z.literal('max')]);
export type Speed = z.infer<typeof Speed>;

/**
 * A seek target: an integer is a bar index; a string is a UTC time (ISO-8601, e.g.
 * `2024-03-04T14:30:00Z`) or decimal nanoseconds since the epoch — the bar at or after it.
 */
export const SeekTarget = z.union([z.number().int().nonnegative(), z.string().min(1).max(64)]);
export type SeekTarget = z.infer<typeof SeekTarget>;

// ---- view → host -----------------------------------------------------------------------

export const CtrlCommand = z.discriminatedUnion('cmd', [
  z.strictObject({ type: z.literal('ctrl'), cmd: z.literal('play') }),
  z.strictObject({ type: z.literal('ctrl'), cmd: z.literal('pause') }),
  z.strictObject({
    type: z.literal('ctrl'),
    cmd: z.literal('step'),
    value: z
      .number()
      .int()
      .min(-1_000_000_000)
      .max(1_000_000_000)
      .refine((v) => v !== 0, 'step of 0 bars')
      .optional(),
  }),
  z.strictObject({ type: z.literal('ctrl'), cmd: z.literal('seek'), value: SeekTarget }),
  z.strictObject({ type: z.literal('ctrl'), cmd: z.literal('speed'), value: Speed }),
  z.strictObject({ type: z.literal('ctrl'), cmd: z.literal('next-fill') }),
  z.strictObject({ type: z.literal('ctrl'), cmd: z.literal('prev-fill') }),
]);
export type CtrlCommand = z.infer<typeof CtrlCommand>;
/** A command without its `type` (what a view's buttons produce). */
export type CtrlBody = CtrlCommand extends infer C ? (C extends unknown ? Omit<C, 'type'> : never) : never;

// ---- host → view -----------------------------------------------------------------------

const num = z.number();
const nullableNum = z.number().nullable();

export const MetaMsg = z.strictObject({
  type: z.literal('meta'),
  run_id: z.string(),
  symbol: z.string(),
  bar_count: z.number().int().nonnegative(),
  /** First and last bar start of the run, ISO UTC. */
  start: z.string().nullable(),
  end: z.string().nullable(),
  display_tz: z.string(),
  metrics: z.record(z.string(), nullableNum),
  /** The replayed range [from, to] (bar indices) and the numbers of events in the whole run. */
  from: z.number().int(),
  to: z.number().int(),
  fill_count: z.number().int(),
  order_count: z.number().int(),
  initial_cash: num,
  max_bars_per_frame: z.number().int(),
});
export type MetaMsg = z.infer<typeof MetaMsg>;

export const CtrlStateMsg = z.strictObject({
  type: z.literal('ctrl'),
  state: ReplayState,
  speed: Speed,
  cursor: z.number().int(),
});
export type CtrlStateMsg = z.infer<typeof CtrlStateMsg>;

/** OHLC buckets: bucket k covers bars [i[k], i[k] + n[k]). */
export const FrameBars = z.strictObject({
  i: z.array(z.number().int()),
  n: z.array(z.number().int()),
  ts_ms: z.array(num),
  open: z.array(num),
  high: z.array(num),
  low: z.array(num),
  close: z.array(num),
  volume: z.array(num),
});
export type FrameBars = z.infer<typeof FrameBars>;

/** Equity points at bar indices (one per bar, or a bucket's extremes in time order). */
export const FrameEquity = z.strictObject({
  i: z.array(z.number().int()),
  equity: z.array(num),
  drawdown: z.array(num),
});
export type FrameEquity = z.infer<typeof FrameEquity>;

export const FrameFills = z.strictObject({
  fill_id: z.array(z.number().int()),
  order_id: z.array(z.number().int()),
  bar: z.array(z.number().int()),
  ts_ms: z.array(num),
  side: z.array(z.enum(['buy', 'sell'])),
  qty: z.array(num),
  price: z.array(num),
  fee: z.array(num),
  slippage: z.array(num),
});
export type FrameFills = z.infer<typeof FrameFills>;

export const OrderEvent = z.enum(['submitted', 'filled', 'canceled']);
export type OrderEvent = z.infer<typeof OrderEvent>;
/** Order events in the order they happened; prices null where the order type has none. */
export const FrameOrders = z.strictObject({
  order_id: z.array(z.number().int()),
  event: z.array(OrderEvent),
  bar: z.array(z.number().int()),
  ts_ms: z.array(num),
  side: z.array(z.enum(['buy', 'sell'])),
  qty: z.array(num),
  type: z.array(z.enum(['market', 'limit', 'stop'])),
  limit_price: z.array(nullableNum),
  stop_price: z.array(nullableNum),
  fill_id: z.array(z.number().int().nullable()),
});
export type FrameOrders = z.infer<typeof FrameOrders>;

/** The account at the cursor's bar close (what a position/P&L panel shows). */
export const AccountState = z.strictObject({
  bar: z.number().int(),
  ts_ms: num,
  position: num,
  /** Mean entry price of the open position; null when flat. */
  avg_price: nullableNum,
  cash: num,
  equity: num,
  /** Everything that is not unrealized: equity − initial cash − unrealized (fees included). */
  realized_pnl: num,
  unrealized_pnl: num,
  drawdown: num,
});
export type AccountState = z.infer<typeof AccountState>;

export const FrameMsg = z.strictObject({
  type: z.literal('frame'),
  seq: z.number().int().nonnegative(),
  cursor: z.number().int(),
  /** true after a seek (and first): bars/equity/fills are the history up to the cursor, orders those resting at it. */
  reset: z.literal(true).optional(),
  bars: FrameBars,
  equity: FrameEquity,
  fills: FrameFills,
  orders: FrameOrders,
  account: AccountState.nullable(),
});
export type FrameMsg = z.infer<typeof FrameMsg>;

export const HeartbeatMsg = z.strictObject({ type: z.literal('hb'), cursor: z.number().int(), state: ReplayState });
export type HeartbeatMsg = z.infer<typeof HeartbeatMsg>;

export const EndMsg = z.strictObject({ type: z.literal('end'), cursor: z.number().int(), reason: z.enum(['complete', 'stopped']) });
export type EndMsg = z.infer<typeof EndMsg>;

export const ERR_CODES = ['bad_message', 'bad_value', 'not_found', 'internal'] as const;
export const ErrMsg = z.strictObject({ type: z.literal('err'), code: z.enum(ERR_CODES), message: z.string() });
export type ErrMsg = z.infer<typeof ErrMsg>;

export const ServerMsg = z.union([MetaMsg, CtrlStateMsg, FrameMsg, HeartbeatMsg, EndMsg, ErrMsg]);
export type ServerMsg = z.infer<typeof ServerMsg>;

/** Checks a view's message; the error text names the field and what was expected. */
export function parseCtrl(raw: unknown): { ok: true; cmd: CtrlCommand } | { ok: false; err: ErrMsg } {
  const r = CtrlCommand.safeParse(raw);
  if (r.success) return { ok: true, cmd: r.data };
  const where = (p: readonly PropertyKey[]) => (p.length ? p.map(String).join('.') : 'message');
  const message = r.error.issues
    .slice(0, 3)
    .map((i) => `${where(i.path)}: ${i.message}`)
    .join('; ');
  const known = typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'ctrl';
  return { ok: false, err: { type: 'err', code: known ? 'bad_value' : 'bad_message', message: `invalid ctrl message: ${message}` } };
}

export function emptyFills(): FrameFills {
  return { fill_id: [], order_id: [], bar: [], ts_ms: [], side: [], qty: [], price: [], fee: [], slippage: [] };
}
export function emptyOrders(): FrameOrders {
  return { order_id: [], event: [], bar: [], ts_ms: [], side: [], qty: [], type: [], limit_price: [], stop_price: [], fill_id: [] };
}
