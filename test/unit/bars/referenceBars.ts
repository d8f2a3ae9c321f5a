/** An independent reference for derive, written straight from docs/bars.md (test helper). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeFile, readMetadata } from '../../../src/engine/dbn/decoder.ts';
import type { DbnRecord } from '../../../src/engine/dbn/decoder.ts';
import { type ExpectedBar, NO_QUOTES } from './dbnBuild.ts';

const UNDEF = 9223372036854775807n;
const MINUTE = 60_000_000_000n;

interface Rec {
  ts: bigint;
  px: bigint;
  sz: number;
  side: string;
  bid: bigint;
  ask: bigint;
  bsz: number;
  asz: number;
  tbbo: boolean;
  src: number;
}

/**
 * Reference bars, written straight from the contract text with per-record objects and BigInt
 * (independent of the columnar decoder, the u32-half bucketing and the streaming merge).
 */
export async function referenceBars(files: string[], symbol: string): Promise<ExpectedBar[]> {
  const metas = await Promise.all(files.map((f) => readMetadata(f)));
  const all: Rec[] = [];
  const firstTs: bigint[] = [];
  for (const [src, f] of files.entries()) {
    const meta = metas[src]!;
    const tbbo = meta.schema === 3;
    await decodeFile(f, {
      onRecord: (r: DbnRecord) => {
        const ts = BigInt(r.ts_recv as string);
        const d = new Date(Number(ts / 1_000_000n)).toISOString().slice(0, 10).replaceAll('-', '');
        const sym =
          meta.mappings.find((m) =>
            m.intervals.some((iv) => Number(d) >= iv.startDate && Number(d) < iv.endDate && iv.symbol === String(r.hd.instrument_id)),
          )?.rawSymbol ?? String(r.hd.instrument_id);
        firstTs[src] ??= ts;
        if (sym !== symbol) return;
        const lv = tbbo ? (r.levels as Record<string, unknown>[])[0]! : null;
        all.push({
          ts,
          px: BigInt(r.price as string),
          sz: r.size as number,
          side: r.side as string,
          tbbo,
          src,
          bid: lv ? BigInt(lv.bid_px as string) : UNDEF,
          ask: lv ? BigInt(lv.ask_px as string) : UNDEF,
          bsz: lv ? (lv.bid_sz as number) : 0,
          asz: lv ? (lv.ask_sz as number) : 0,
        });
      },
    });
  }
  const shas = files.map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
  const order = files
    .map((_, i) => i)
    .sort((a, b) => (firstTs[a]! < firstTs[b]! ? -1 : firstTs[a]! > firstTs[b]! ? 1 : shas[a]! < shas[b]! ? -1 : 1));
  const rank = new Map(order.map((s, i) => [s, i]));
  all.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : rank.get(a.src)! - rank.get(b.src)!)); // stable: file order kept
  const hasTrades = metas.some((m) => m.schema === 4);
  const spans = metas.filter((m) => m.schema === 3).map((m) => [m.start, m.end ?? UNDEF] as const);
  const minutes = new Map<bigint, Rec[]>();
  for (const r of all) {
    const m = r.ts - (r.ts % MINUTE);
    if (!minutes.has(m)) minutes.set(m, []);
    minutes.get(m)!.push(r);
  }
  const out: ExpectedBar[] = [];
  for (const [m, recs] of [...minutes].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const trades = recs.filter((r) => r.tbbo === !hasTrades);
    if (trades.length === 0) continue;
    const px = trades.map((r) => Number(r.px) / 1e9);
    const vol = trades.reduce((s, r) => s + r.sz, 0);
    const inSpan = spans.some(([s, e]) => m + MINUTE > s && m < e);
    const q = recs.filter((r) => r.tbbo && r.bid !== UNDEF && r.ask !== UNDEF);
    const withSz = q.filter((r) => r.bsz + r.asz > 0);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    out.push({
      ts: m,
      open: px[0]!,
      high: Math.max(...px),
      low: Math.min(...px),
      close: px[px.length - 1]!,
      volume: vol,
      trade_count: trades.length,
      vwap: trades.reduce((s, r) => s + (Number(r.px) / 1e9) * r.sz, 0) / vol,
      buy_volume: trades.filter((r) => r.side === 'B').reduce((s, r) => s + r.sz, 0),
      sell_volume: trades.filter((r) => r.side === 'A').reduce((s, r) => s + r.sz, 0),
      ...(!inSpan
        ? NO_QUOTES
        : q.length === 0
          ? { ...NO_QUOTES, quote_count: 0 }
          : {
              quote_count: q.length,
              bid_close: Number(q[q.length - 1]!.bid) / 1e9,
              ask_close: Number(q[q.length - 1]!.ask) / 1e9,
              spread_mean: mean(q.map((r) => Number(r.ask - r.bid) / 1e9)),
              spread_max: Math.max(...q.map((r) => Number(r.ask - r.bid) / 1e9)),
              bid_size_mean: mean(q.map((r) => r.bsz)),
              ask_size_mean: mean(q.map((r) => r.asz)),
              imbalance_mean: withSz.length === 0 ? null : mean(withSz.map((r) => (r.bsz - r.asz) / (r.bsz + r.asz))),
            }),
    });
  }
  return out;
}
