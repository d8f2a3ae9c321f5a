// Mocha's spec reporter plus the plain closing line 'N passed, N failed' that CI reads,
// and (when BTNB_TEST_STATS is set) a JSON stats file the top-level runner adds up.
const Mocha = require('mocha');
const fs = require('node:fs');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const label = process.env.BTNB_TEST_LABEL || 'tests';
      if (process.env.BTNB_TEST_STATS) {
        fs.writeFileSync(process.env.BTNB_TEST_STATS, JSON.stringify({ passes: s.passes, failures: s.failures, pending: s.pending }));
      }
      process.stdout.write(`${label}: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}
module.exports = SummaryReporter;
