/**
 * The notebook renderer (an ES module in the notebook's webview; no `vscode`): draws the custom
 * outputs with the run views' components. With renderer messaging (the extension is running),
 * each run or sweep output opens its own connection to the host — the run views' IPC over
 * rendererProtocol.ts — for the run's series and an independent replay; disposing the output
 * closes it (and its replay). Without messaging (an exported or read-only notebook) an output
 * shows the summary the file kept and says that charts and replay need the extension.
 */
import '../webview/lib/zodConfig.ts';
import type { ActivationFunction, OutputItem, RendererContext } from 'vscode-notebook-renderer';
import { render, type ComponentChildren } from 'preact';
import { Notifications } from '../engine/views/protocol.ts';
import { HostContext } from '../webview/containers/hooks.ts';
import { RunOutputContainer } from '../webview/containers/RunOutputContainer.tsx';
import { SweepContainer } from '../webview/containers/SweepContainer.tsx';
import { transportClient, type HostClient } from '../webview/services/hostClient.ts';
import { RunOutputView } from '../webview/views/RunOutput.tsx';
import { DatasetOutputView, StrategyOutputView, SweepStaticView, TableOutputView } from '../webview/views/NotebookOutputs.tsx';
import { readTheme } from '../webview/lib/theme.ts';
import { emptyModel } from '../webview/lib/chartModel.ts';
import { Notice } from '../webview/components/Notice.tsx';
import { setChartDefaults } from '../webview/components/PlotlyChart.tsx';
import { MIME } from './format.ts';
import { DatasetOutput, RunOutput, StrategyOutput, SweepOutput, TableOutput } from './outputs.ts';
import { HostToRenderer } from './rendererProtocol.ts';
import '../webview/styles.css';

const DEFAULT_TZ = 'America/New_York';

function ensureStyles(): void {
  if (document.querySelector('link[data-btnb-renderer]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('./renderer.css', import.meta.url).href;
  link.dataset.btnbRenderer = '';
  document.head.appendChild(link);
}

let seq = 0;

/** A HostClient for one output over renderer messaging; `close` tells the host to drop it. */
function outputClient(ctx: RendererContext<unknown>, outputId: string): (HostClient & { close(): void }) | null {
  if (!ctx.postMessage || !ctx.onDidReceiveMessage) return null;
  const post = (m: unknown) => ctx.postMessage!(m);
  const onMessage = ctx.onDidReceiveMessage;
  const connection = `${outputId}#${++seq}`;
  let state: unknown;
  const client = transportClient(
    {
      post: (msg) => void post({ type: 'ipc', connection, msg }),
      subscribe: (fn) => {
        const sub = onMessage((raw) => {
          const m = HostToRenderer.safeParse(raw);
          if (m.success && m.data.connection === connection) fn(m.data.msg);
        });
        return () => sub.dispose();
      },
      getState: () => state,
      setState: (s) => (state = s),
    },
    (fault) => console.warn(`btnb output: ${fault}`),
  );
  return {
    ...client,
    close: () => {
      client.close();
      void post({ type: 'close', connection });
    },
  };
}

function Static(props: { children: ComponentChildren }) {
  return <>{props.children}</>;
}

const STATIC_NOTE = 'Charts and replay need the Backtest Notebook extension: this is the summary saved with the notebook.';

function view(item: OutputItem, host: HostClient | null): ComponentChildren {
  const raw = item.json() as unknown;
  const bad = (what: string, err: { message: string }) => (
    <Notice kind="error">{`This ${what} output cannot be shown: ${err.message}`}</Notice>
  );
  switch (item.mime) {
    case MIME.run: {
      const r = RunOutput.safeParse(raw);
      if (!r.success) return bad('run', r.error);
      if (host) return <RunOutputContainer data={r.data} tz={DEFAULT_TZ} />;
      return (
        <RunOutputView
          data={r.data}
          mode="static"
          missing={null}
          error={null}
          metrics={r.data.metrics}
          hasSeries={false}
          hasQuotes={false}
          tz={DEFAULT_TZ}
          theme={readTheme(document)}
          chartRef={{ current: null }}
          model={emptyModel()}
          modelRevision={0}
          range={[0, 1]}
          barCount={0}
          replay={{
            state: 'idle',
            cursor: 0,
            speed: 60,
            cursorTime: '',
            account: null,
            onPlay: () => undefined,
            onPause: () => undefined,
            onStep: () => undefined,
            onNextFill: () => undefined,
            onPrevFill: () => undefined,
            onSeek: () => undefined,
            onSpeed: () => undefined,
            onExit: () => undefined,
          }}
          onRange={() => undefined}
          onOpen={() => undefined}
        />
      );
    }
    case MIME.sweep: {
      const r = SweepOutput.safeParse(raw);
      if (!r.success) return bad('sweep', r.error);
      if (!host) return <SweepStaticView data={r.data} note={STATIC_NOTE} />;
      return (
        <section class="nb-output sweep-output" aria-label={`Sweep ${r.data.sweep_id}`}>
          <SweepContainer sweepId={r.data.sweep_id} tz={DEFAULT_TZ} />
        </section>
      );
    }
    case MIME.dataset: {
      const r = DatasetOutput.safeParse(raw);
      return r.success ? <DatasetOutputView data={r.data} /> : bad('dataset', r.error);
    }
    case MIME.table: {
      const r = TableOutput.safeParse(raw);
      return r.success ? <TableOutputView data={r.data} /> : bad('table', r.error);
    }
    case MIME.strategy: {
      const r = StrategyOutput.safeParse(raw);
      return r.success ? <StrategyOutputView data={r.data} /> : bad('strategy', r.error);
    }
    default:
      return <Notice kind="error">{`Unknown output type ${item.mime}`}</Notice>;
  }
}

export const activate: ActivationFunction = (ctx) => {
  ensureStyles();
  // In a notebook the wheel scrolls the notebook; charts zoom by dragging (double-click resets).
  setChartDefaults({ scrollZoom: false });
  const outputs = new Map<string, { root: HTMLElement; client: (HostClient & { close(): void }) | null }>();
  const dispose = (id: string) => {
    const o = outputs.get(id);
    if (!o) return;
    outputs.delete(id);
    render(null, o.root);
    o.client?.close();
  };
  return {
    renderOutputItem(item, element) {
      dispose(item.id);
      const root = document.createElement('div');
      root.className = 'btnb btnb-output';
      element.replaceChildren(root);
      const live = item.mime === MIME.run || item.mime === MIME.sweep;
      const client = live ? outputClient(ctx, item.id) : null;
      outputs.set(item.id, { root, client });
      render(
        client ? <HostContext.Provider value={client}>{view(item, client)}</HostContext.Provider> : <Static>{view(item, null)}</Static>,
        root,
      );
      client?.notify(Notifications.ready, {
        args:
          item.mime === MIME.run
            ? { view: 'run', runId: (item.json() as RunOutput).run_id }
            : { view: 'sweep', sweepId: (item.json() as SweepOutput).sweep_id },
      });
    },
    disposeOutputItem(id) {
      if (id) dispose(id);
      else for (const k of [...outputs.keys()]) dispose(k);
    },
  };
};
