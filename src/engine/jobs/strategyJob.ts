/**
 * Child process: loads a strategy file (a notebook `typescript` cell is materialized to one
 * first) — bundle, evaluate, check it is a strategy — and describes it: id, code hash (as a run
 * of it would record), parameters with their defaults. Errors name the file, line and column.
 */
import { runJobChild } from './childRuntime.ts';

runJobChild('strategy', async (p) => {
  const [{ resolveStrategy }, { paramFields }] = await Promise.all([import('../backtest/runner.ts'), import('../backtest/paramFields.ts')]);
  const s = await resolveStrategy(p.path);
  return {
    strategyId: s.strategyId,
    description: s.def.description ?? null,
    codeHash: s.codeHash,
    params: paramFields(s.def.params).map((f) => ({
      name: f.name,
      type: f.type,
      default: f.default ?? null,
      description: f.description ?? null,
    })),
  };
});
