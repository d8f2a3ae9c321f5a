/**
 * The strategy sandbox's thread (sandbox.ts): loads a strategy file once, keeps the bars it was
 * sent, runs backtests on request and answers with the result columns (transferred, not copied;
 * the bars stay with the caller). Errors travel as name, message and mapped stack.
 */
import { parentPort } from 'node:worker_threads';
import type { BarSeries } from '../bars/barSeries.ts';
import { runBacktest } from './engine.ts';
import { applySession } from './session.ts';
import type { Session } from './types.ts';
import { loadStrategyFile } from './userStrategy.ts';
import type { StrategyDefinition } from './strategy.ts';

const port = parentPort!;
const bars = new Map<number, BarSeries>();
const strategies = new Map<string, Promise<StrategyDefinition>>();
/** Runs canceled while queued here. */
const skipped = new Set<number>();

/** The underlying buffers of every typed array in `v` (to transfer them). */
function buffers(v: unknown, out: Set<ArrayBuffer> = new Set()): Set<ArrayBuffer> {
  if (ArrayBuffer.isView(v)) {
    if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  } else if (v && typeof v === 'object') for (const x of Object.values(v)) buffers(x, out);
  return out;
}

port.on('message', (m: { type: string; barsId: number; bars?: BarSeries; id: number; strategyPath: string } & Record<string, unknown>) => {
  if (m.type === 'bars') {
    bars.set(m.barsId, m.bars!);
    return;
  }
  if (m.type === 'skip') {
    skipped.add(m.id);
    return;
  }
  void (async () => {
    try {
      let def = strategies.get(m.strategyPath);
      if (!def) strategies.set(m.strategyPath, (def = loadStrategyFile(m.strategyPath).then((l) => l.def)));
      const input = bars.get(m.barsId);
      if (!input) throw new Error(`sandbox: bars ${m.barsId} were not sent`);
      const strategy = await def;
      if (skipped.delete(m.id)) return;
      port.postMessage({ type: 'started', id: m.id });
      const result = runBacktest(input, {
        strategy,
        params: m.params,
        seed: m.seed as number,
        costs: m.costs as never,
        session: m.session as never,
      });
      // the caller has the bars: only the computed columns travel back. Columns that share a
      // buffer with the kept bars (a result may hold a bars column itself) are copied, not
      // transferred — a transfer would detach them here for the next run.
      const { bars: _bars, ...rest } = result;
      // the session-filtered bars are kept too (session.ts makes them once per input)
      const kept = new Set([...buffers(input), ...buffers(applySession(input, (m.session ?? 'all') as Session))]);
      const transfer = [...buffers(rest)].filter((b) => !kept.has(b));
      port.postMessage({ type: 'result', id: m.id, result: rest }, transfer);
    } catch (err) {
      const e = err as Error;
      port.postMessage({ type: 'error', id: m.id, name: e.name, message: e.message, stack: e.stack });
    }
  })();
});
