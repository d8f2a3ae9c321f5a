/**
 * The webview entry: reads which view to show from the page (the host writes it, a restored
 * panel included), mounts its container with the host client, then says `ready` — the host holds
 * its messages for this view until then.
 */
import './lib/zodConfig.ts';
import { render } from 'preact';
import { Notifications, ViewArgs } from '../engine/views/protocol.ts';
import { HostContext } from './containers/hooks.ts';
import { RunDetailContainer } from './containers/RunDetailContainer.tsx';
import { RunsListContainer } from './containers/RunsListContainer.tsx';
import { CompareContainer } from './containers/CompareContainer.tsx';
import { SweepContainer } from './containers/SweepContainer.tsx';
import { postMessageClient } from './services/hostClient.ts';
import { loadPlotly } from './components/PlotlyChart.tsx';
import { mark } from './lib/perf.ts';
import './page.css';
import './styles.css';

// A strict CSP is the contract: any violation is a bug worth seeing (tests watch the console).
document.addEventListener('securitypolicyviolation', (e) =>
  console.error(`btnb view: CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`),
);

mark('main');
const root = document.getElementById('root')!;
// every style of the views is scoped under .btnb (shared with notebook outputs)
root.classList.add('btnb');
const args = ViewArgs.parse(JSON.parse(root.dataset.args ?? '{"view":"runs"}'));
const tz = root.dataset.tz ?? 'America/New_York';
// Views that chart fetch Plotly (the big chunk) while they ask for their data, not after.
if (args.view !== 'runs') void loadPlotly();
const host = postMessageClient((fault) => console.warn(`btnb view: ${fault}`));
host.setState({ ...(host.getState<Record<string, unknown>>() ?? {}), args });

function App() {
  switch (args.view) {
    case 'run':
      return <RunDetailContainer runId={args.runId} tz={tz} />;
    case 'compare':
      return <CompareContainer runIds={args.runIds} tz={tz} />;
    case 'sweep':
      return <SweepContainer sweepId={args.sweepId} tz={tz} />;
    default:
      return <RunsListContainer tz={tz} />;
  }
}

render(
  <HostContext.Provider value={host}>
    <App />
  </HostContext.Provider>,
  root,
);
host.notify(Notifications.ready, { args });
