/**
 * The run views in VS Code: one webview panel per runs list / run / comparison / sweep, each
 * wired to the host-neutral backend (engine/views) over postMessage, restored after a window
 * reload by a WebviewPanelSerializer, and told when the catalog, the display zone or a run's
 * progress change. Actions the views ask for (open, rerun, delete…) run the extension's commands.
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
import { bindRunViews, type RunViewsBinding } from '../../engine/views/bindRunViews.ts';
import { Notifications, ViewArgs, type RunAction } from '../../engine/views/protocol.ts';
import { RunViewsBackend } from '../../engine/views/runViewsBackend.ts';
import { keyParams, paramsText } from '../../engine/backtest/paramText.ts';
import { builtinDefaults } from '../../engine/strategies/index.ts';
import { LocalStreamer } from '../../engine/replay/localStreamer.ts';
import { systemClock } from '../../engine/replay/clock.ts';
import type { Services } from '../services.ts';
import { displayTimeZone } from '../settings.ts';
import * as ui from '../ui.ts';
import { ViewConnection, type TraceEntry } from './viewConnection.ts';
import { VIEW_TYPES } from './viewSerializers.ts';
import { readWebviewManifest, viewHtml } from '../../engine/views/viewHtml.ts';

export interface OpenView {
  key: string;
  args: ViewArgs;
  panel: vscode.WebviewPanel;
  connection: ViewConnection;
  binding: RunViewsBinding;
}

export function viewKey(a: ViewArgs): string {
  return a.view === 'runs'
    ? 'runs'
    : a.view === 'run'
      ? `run:${a.runId}`
      : a.view === 'compare'
        ? `compare:${a.runIds.join(',')}`
        : `sweep:${a.sweepId}`;
}

function title(a: ViewArgs): string {
  if (a.view === 'runs') return 'Backtest Runs';
  if (a.view === 'compare') return `Compare ${a.runIds.length} runs`;
  if (a.view === 'sweep') return `Sweep …${a.sweepId.slice(-6)}`;
  return `Run …${a.runId.slice(-6)}`;
}

export class RunViews implements vscode.Disposable {
  readonly #s: Services;
  readonly #views = new Map<string, OpenView>();
  readonly backend: RunViewsBackend;
  readonly streamer: LocalStreamer;
  readonly #subs: vscode.Disposable[] = [];
  readonly #root: vscode.Uri;

  constructor(s: Services) {
    this.#s = s;
    this.#root = vscode.Uri.file(join(s.context.extensionPath, 'dist', 'webview'));
    this.backend = new RunViewsBackend({
      dataDir: () => s.catalog.dataDir,
      catalog: async () => (await s.catalog.get())?.port,
      materialize: (dataDir, runId) => s.jobs.materialize(dataDir, runId),
    });
    this.streamer = new LocalStreamer((id) => this.backend.series(id), systemClock);
    this.#subs.push(
      s.catalog.onDidChange(() => {
        let counter = 0;
        void s.catalog.get().then((r) => {
          try {
            counter = r?.changeCounter() ?? 0;
          } catch {
            /* closed */
          }
          for (const v of this.#views.values()) v.connection.ipc.notify(Notifications.catalogChanged, { counter });
        });
      }),
      s.jobs.onDidProgressRun((p) => {
        for (const v of this.#views.values()) v.connection.ipc.notify(Notifications.runProgress, p);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('btnb.displayTimeZone'))
          for (const v of this.#views.values()) v.connection.ipc.notify(Notifications.settings, { displayTz: displayTimeZone() });
        if (e.affectsConfiguration('btnb.dataDir'))
          for (const id of this.#views.keys()) if (id.startsWith('run:')) this.backend.evict(id.slice(4));
      }),
    );
  }

  /** Opens (or reveals) the view for `args`. */
  open(args: ViewArgs): OpenView {
    const key = viewKey(args);
    const existing = this.#views.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPES[args.view], title(args), vscode.ViewColumn.Active, this.#options());
    return this.#attach(panel, args);
  }

  /** A panel VS Code restored after a reload: its saved state says which view it was. */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    const parsed = ViewArgs.safeParse((state as { args?: unknown } | undefined)?.args);
    if (!parsed.success) {
      panel.webview.html =
        '<!DOCTYPE html><html><body><p>This view could not be restored (its saved state is missing). Close it and open the run again.</p></body></html>';
      return;
    }
    const key = viewKey(parsed.data);
    if (this.#views.has(key)) {
      panel.dispose();
      this.#views.get(key)!.panel.reveal();
      return;
    }
    panel.webview.options = this.#options();
    this.#attach(panel, parsed.data);
  }

  #options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [this.#root], retainContextWhenHidden: false, enableFindWidget: true };
  }

  #attach(panel: vscode.WebviewPanel, args: ViewArgs): OpenView {
    const key = viewKey(args);
    // start reading the run's artifacts now: the webview loads its bundle meanwhile
    if (args.view === 'run') void this.backend.series(args.runId).catch(() => undefined);
    panel.iconPath = vscode.Uri.file(join(this.#s.context.extensionPath, 'media', 'backtest.svg'));
    const log = (t: string) => this.#s.jobs.output.warn(t);
    const connection = new ViewConnection(panel.webview, log, () => {
      // a (re)loaded page starts fresh: replays of the previous page are gone with it
      binding.closeReplays();
      connection.ipc.notify(Notifications.settings, { displayTz: displayTimeZone() });
    });
    const binding: RunViewsBinding = bindRunViews(connection.ipc, this.backend, this.streamer, {
      act: (a, ids) => this.act(a, ids),
      copy: (t) => Promise.resolve(vscode.env.clipboard.writeText(t)),
      displayTz: displayTimeZone,
    });
    const view: OpenView = { key, args, panel, connection, binding };
    this.#views.set(key, view);
    panel.onDidChangeViewState(() => {
      // hidden webviews are torn down (state is saved in the page): stop their replays, hold messages
      if (!panel.visible) {
        binding.closeReplays();
        connection.reset();
      }
    });
    panel.onDidDispose(() => {
      binding.dispose();
      connection.dispose();
      this.#views.delete(key);
    });
    if (args.view === 'run' || args.view === 'sweep') void this.#nameAfterRun(panel, args);
    const wv = panel.webview;
    const m = readWebviewManifest(this.#root.fsPath);
    const uri = (f: string) => wv.asWebviewUri(vscode.Uri.joinPath(this.#root, f)).toString();
    wv.html = viewHtml({
      cspSource: wv.cspSource,
      script: uri(m.main),
      style: uri(m.css),
      preload: [...m.preload, ...(args.view === 'runs' ? [] : m.charts)].map(uri),
      args,
      displayTz: displayTimeZone(),
      title: title(args),
    });
    return view;
  }

  /** "Run sma-cross fast=10 slow=30 …ABC123": the title says which run without opening it. */
  async #nameAfterRun(panel: vscode.WebviewPanel, args: Extract<ViewArgs, { view: 'run' | 'sweep' }>): Promise<void> {
    const port = (await this.#s.catalog.get())?.port;
    if (!port) return;
    if (args.view === 'run') {
      const r = port.getRun(args.runId);
      if (r)
        panel.title =
          `Run ${r.strategy_id} ${paramsText(keyParams(r.params, builtinDefaults(r.strategy_id)), 3)} …${r.run_id.slice(-6)}`.replace(
            / {2}/g,
            ' ',
          );
    } else {
      const r = port.listRuns({ sweepId: args.sweepId, limit: 1 })[0];
      if (r) panel.title = `Sweep ${r.strategy_id} …${args.sweepId.slice(-6)}`;
    }
  }

  /** A run action from a view or a notebook output (open, compare, rerun, delete, …). */
  async act(action: RunAction, runIds: string[]): Promise<{ ok: boolean; message?: string }> {
    const run = (cmd: string, arg: unknown) => vscode.commands.executeCommand<{ ok?: boolean; error?: string } | undefined>(cmd, arg);
    switch (action) {
      case 'open':
        for (const id of runIds) await run('btnb.openRun', id);
        return { ok: true };
      case 'compare':
        await run('btnb.compareRuns', { runIds });
        return { ok: true };
      case 'openSweep': {
        const r = (await this.#s.catalog.get())?.port.getRun(runIds[0]!);
        if (!r?.sweep_id) return { ok: false, message: `run ${runIds[0]} is not part of a sweep` };
        this.open({ view: 'sweep', sweepId: r.sweep_id });
        return { ok: true };
      }
      case 'rerun':
        for (const id of runIds) void run('btnb.rerun', { runId: id, wait: false });
        return { ok: true, message: `Rerunning ${runIds.length} run${runIds.length > 1 ? 's' : ''}` };
      case 'reveal':
        await run('btnb.revealArtifacts', runIds[0]);
        return { ok: true };
      case 'copyId':
        await vscode.env.clipboard.writeText(runIds.join('\n'));
        return { ok: true, message: `Copied ${runIds.length > 1 ? `${runIds.length} run ids` : runIds[0]}` };
      case 'delete': {
        const sure = await ui.confirm(
          `Delete ${runIds.length} run${runIds.length > 1 ? 's' : ''} and ${runIds.length > 1 ? 'their' : 'its'} artifacts?`,
          'Delete',
        );
        if (!sure) return { ok: false, message: 'Nothing deleted' };
        let deleted = 0;
        const errors: string[] = [];
        for (const id of runIds) {
          const r = await run('btnb.deleteRun', { runId: id, confirm: true });
          if (r?.ok) deleted++;
          else errors.push(r?.error ?? id);
          this.backend.evict(id);
        }
        return {
          ok: errors.length === 0,
          message: `Deleted ${deleted} run${deleted === 1 ? '' : 's'}${errors.length ? `; not deleted: ${errors.join('; ')}` : ''}`,
        };
      }
    }
  }

  /** Open views and their message traces (integration tests). */
  list(): { key: string; args: ViewArgs; ready: boolean; replays: number; trace: TraceEntry[] }[] {
    return [...this.#views.values()].map((v) => ({
      key: v.key,
      args: v.args,
      ready: v.connection.ready,
      replays: v.binding.replays,
      trace: v.connection.trace,
    }));
  }

  dispose(): void {
    for (const v of [...this.#views.values()]) v.panel.dispose();
    this.streamer.closeAll();
    for (const s of this.#subs) s.dispose();
  }
}
