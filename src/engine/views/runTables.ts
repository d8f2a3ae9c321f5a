/**
 * The orders, fills and round-trip tables of a run, paged and sorted for virtualised views.
 * Columns come straight from the RunSeries (no row objects); a sort is an index permutation,
 * computed once per (run, table, column, direction) and kept with the series.
 */
import { DIRECTION_NAMES, ORDER_TYPE_NAMES, SIDE_NAMES, STATUS_NAMES } from '../backtest/types.ts';
import type { RunSeries } from '../replay/runSeries.ts';
import type { TableName, TablePage } from './protocol.ts';

type Cell = number | string | null;
interface Column {
  name: string;
  /** Value of row k (for the page) … */
  get(k: number): Cell;
  /** … and its sort key (numbers sort numerically, NaN last). */
  key(k: number): number;
}

const nn = (v: number): number | null => (v === v ? v : null);

function numCol(name: string, col: ArrayLike<number>, nullIf?: (v: number) => boolean): Column {
  return { name, get: (k) => (nullIf?.(col[k]!) ? null : nn(col[k]!)), key: (k) => (nullIf?.(col[k]!) ? NaN : col[k]!) };
}
function enumCol(name: string, col: Uint8Array, names: readonly string[]): Column {
  return { name, get: (k) => names[col[k]!]!, key: (k) => col[k]! };
}
function tsCol(name: string, s: RunSeries, bars: Int32Array): Column {
  return { name, get: (k) => (bars[k]! >= 0 ? s.tsMs[bars[k]!]! : null), key: (k) => (bars[k]! >= 0 ? bars[k]! : NaN) };
}

function columnsOf(s: RunSeries, table: TableName): { columns: Column[]; length: number } {
  if (table === 'fills') {
    const f = s.fills;
    return {
      length: f.length,
      columns: [
        numCol('fill_id', f.fillId),
        numCol('order_id', f.orderId),
        numCol('bar', f.bar),
        tsCol('ts_ms', s, f.bar),
        enumCol('side', f.side, SIDE_NAMES),
        numCol('qty', f.qty),
        numCol('price', f.price),
        numCol('fee', f.fee),
        numCol('slippage', f.slippage),
        numCol('position', f.positionAfter),
      ],
    };
  }
  if (table === 'orders') {
    const o = s.orders;
    const endBar = new Int32Array(o.length);
    for (let k = 0; k < o.length; k++) endBar[k] = o.fillBar[k]! >= 0 ? o.fillBar[k]! : o.canceledBar[k]!;
    return {
      length: o.length,
      columns: [
        numCol('order_id', o.orderId),
        numCol('bar', o.bar),
        tsCol('ts_ms', s, o.bar),
        enumCol('side', o.side, SIDE_NAMES),
        enumCol('type', o.type, ORDER_TYPE_NAMES),
        numCol('qty', o.qty),
        numCol('limit_price', o.limitPrice),
        numCol('stop_price', o.stopPrice),
        enumCol('status', o.status, STATUS_NAMES),
        numCol('fill_id', o.fillId, (v) => v === 0),
        tsCol('closed_ms', s, endBar),
      ],
    };
  }
  const t = s.trades;
  return {
    length: t.length,
    columns: [
      numCol('trade_id', t.tradeId),
      enumCol('direction', t.direction, DIRECTION_NAMES),
      numCol('qty', t.qty),
      numCol('bar', t.entryBar),
      tsCol('entry_ms', s, t.entryBar),
      numCol('entry_price', t.entryPrice),
      tsCol('exit_ms', s, t.exitBar),
      numCol('exit_price', t.exitPrice),
      numCol('pnl', t.pnl),
      numCol('return', t.ret),
      numCol('fees', t.fees),
      numCol('bars_held', t.barsHeld, (v) => v < 0),
    ],
  };
}

const orders = new WeakMap<RunSeries, Map<string, Int32Array>>();

/** Row order for a sort (identity when unsorted); NaN keys last in either direction, ties by row. */
function permutation(
  s: RunSeries,
  table: TableName,
  cols: Column[],
  length: number,
  sort?: { column: string; dir: 'asc' | 'desc' },
): Int32Array | null {
  if (!sort) return null;
  const col = cols.find((c) => c.name === sort.column);
  if (!col) throw new RangeError(`table ${table}: no column '${sort.column}' (columns: ${cols.map((c) => c.name).join(', ')})`);
  let cache = orders.get(s);
  if (!cache) orders.set(s, (cache = new Map()));
  const id = `${table}:${sort.column}:${sort.dir}`;
  let perm = cache.get(id);
  if (!perm) {
    const keys = new Float64Array(length);
    for (let k = 0; k < length; k++) keys[k] = col.key(k);
    const sign = sort.dir === 'asc' ? 1 : -1;
    perm = Int32Array.from({ length }, (_, k) => k).sort((a, b) => {
      const x = keys[a]!;
      const y = keys[b]!;
      if (x !== x || y !== y) return x !== x ? (y !== y ? a - b : 1) : -1;
      return x === y ? a - b : (x < y ? -1 : 1) * sign;
    });
    cache.set(id, perm);
  }
  return perm;
}

export function tablePage(
  s: RunSeries,
  table: TableName,
  offset: number,
  limit: number,
  sort?: { column: string; dir: 'asc' | 'desc' },
): TablePage {
  const { columns, length } = columnsOf(s, table);
  const perm = permutation(s, table, columns, length, sort);
  const end = Math.min(length, offset + limit);
  const rows: Record<string, Cell[]> = {};
  for (const c of columns) {
    const out: Cell[] = [];
    for (let r = offset; r < end; r++) out.push(c.get(perm ? perm[r]! : r));
    rows[c.name] = out;
  }
  return { total: length, offset: Math.min(offset, length), columns: columns.map((c) => c.name), rows };
}

/** Position (in the table's order) of the first row whose bar is at or after `bar`, or of the nearest before it. */
export function locateRow(s: RunSeries, table: TableName, bar: number, sort?: { column: string; dir: 'asc' | 'desc' }): number {
  const { columns, length } = columnsOf(s, table);
  const perm = permutation(s, table, columns, length, sort);
  const barCol = columns.find((c) => c.name === 'bar')!;
  let best = -1;
  let bestDist = Infinity;
  for (let r = 0; r < length; r++) {
    const b = barCol.key(perm ? perm[r]! : r);
    const d = b >= bar ? b - bar : (bar - b) * 2 + 1; // prefer at-or-after
    if (d < bestDist) {
      bestDist = d;
      best = r;
      if (d === 0) break;
    }
  }
  return best;
}
