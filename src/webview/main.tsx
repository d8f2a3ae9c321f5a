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
import { postMessageClient, type HostClient } from './services/hostClient.ts';
import { webSocketClient } from './services/webSocketTransport.ts';
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
const fault = (f: string) => console.warn(`btnb view: ${f}`);
// Inside VS Code the page has acquireVsCodeApi; in a plain browser it talks to `btnb serve`.
const inVsCode = typeof (globalThis as { acquireVsCodeApi?: unknown }).acquireVsCodeApi === 'function';
const host: HostClient = inVsCode ? postMessageClient(fault) : webSocketClient(fault, () => host.notify(Notifications.ready, { args }));
host.setState({ ...(host.getState<Record<string, unknown>>() ?? {}), args });
// In a browser the page follows the system's light/dark setting through the body class VS Code
// would set, so the views' fallback colours and the charts' theme apply as in VS Code.
if (!inVsCode) {
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const apply = () => {
    document.body.classList.toggle('vscode-dark', scheme.matches);
    document.body.classList.toggle('vscode-light', !scheme.matches);
  };
  apply();
  scheme.addEventListener('change', apply);
}
// the browser shows another view by loading its page (the server says which)
if (!inVsCode)
  host.on(Notifications.navigate, (next) => {
    window.location.assign(`/?${new URLSearchParams({ args: JSON.stringify(next) }).toString()}`);
  });

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
