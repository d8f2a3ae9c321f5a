/**
 * The "Runs" tree of the Backtest sidebar: Datasets (symbol, range, bar count) → Runs, or
 * Strategies → Runs (toggle), optionally filtered by status. Rebuilt from the catalog on every
 * change event (the catalog service decides when something changed).
 */
import * as vscode from 'vscode';
import type { CatalogService } from '../catalog/catalogService.ts';
import { keyParams, paramsText } from '../../engine/backtest/paramText.ts';
import { fmtDate, fmtNum, fmtPct, fmtTime, RUN_STATUSES, type DatasetView, type RunStatus, type RunView } from '../catalog/model.ts';

export type GroupBy = 'dataset' | 'strategy';

export type Node =
  | { kind: 'dataset'; dataset: DatasetView; runs: RunView[] }
  | { kind: 'strategy'; strategyId: string; runs: RunView[] }
  | { kind: 'run'; run: RunView; datasetLabel: string }
  | { kind: 'note'; text: string };

const STATUS_ICON: Record<RunStatus, [string, string | undefined]> = {
  queued: ['clock', 'charts.yellow'],
  running: ['loading~spin', undefined],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  canceled: ['circle-slash', 'disabledForeground'],
};

export function datasetLabel(d: DatasetView, tz: string): string {
  return `${d.symbol} ${d.start ? `${fmtDate(d.start, tz)} → ${fmtDate(lastDay(d.end), tz)}` : '(not derived)'}`;
}

/** The exclusive end minus 1 ns gives the last day the dataset covers. */
function lastDay(end: string | null): string | null {
  if (!end) return null;
  const t = Date.parse(end);
  return Number.isNaN(t) ? end : new Date(t - 1).toISOString();
}

export function runDescription(r: RunView): string {
  if (r.status === 'succeeded') {
    const m = r.metrics ?? {};
    return `${fmtPct(m.total_return)} · Sharpe ${fmtNum(m.sharpe)}`;
  }
  return r.status === 'failed' && r.error ? `failed: ${r.error.slice(0, 60)}` : r.status;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  groupBy: GroupBy;
  statusFilter: Set<RunStatus>;
  private roots: Node[] | undefined;
  /** Bumped by refresh(): a build that started before the latest refresh is not cached. */
  private generation = 0;
  private readonly sub: vscode.Disposable;
  /** Resolves the next time the roots were rebuilt; tests use it to wait for a refresh. */
  private waiters: (() => void)[] = [];

  private readonly catalog: CatalogService;
  private readonly tz: () => string;
  private readonly state: vscode.Memento;

  constructor(catalog: CatalogService, tz: () => string, state: vscode.Memento) {
    this.catalog = catalog;
    this.tz = tz;
    this.state = state;
    this.groupBy = state.get<GroupBy>('btnb.groupBy', 'dataset');
    this.statusFilter = new Set(state.get<RunStatus[]>('btnb.statusFilter', [...RUN_STATUSES]));
    this.sub = catalog.onDidChange(() => this.refresh());
    void vscode.commands.executeCommand('setContext', 'btnb.groupBy', this.groupBy);
  }

  refresh(): void {
    this.generation++;
    this.roots = undefined;
    this.changed.fire(undefined);
    // Rebuild now even if the view is hidden: the palette's when-clauses read hasDatasets/hasRuns.
    void this.rootNodes().catch(() => undefined);
  }

  setGroupBy(g: GroupBy): void {
    this.groupBy = g;
    void this.state.update('btnb.groupBy', g);
    void vscode.commands.executeCommand('setContext', 'btnb.groupBy', g);
    this.refresh();
  }

  setStatusFilter(s: RunStatus[]): void {
    this.statusFilter = new Set(s);
    void this.state.update('btnb.statusFilter', s);
    this.refresh();
  }

  /** Builds (or returns) the root nodes; also sets the hasDatasets/hasRuns context keys. */
  async rootNodes(): Promise<Node[]> {
    if (this.roots) return this.roots;
    const gen = this.generation;
    const roots = await this.buildRoots();
    if (gen === this.generation) {
      this.roots = roots;
      for (const w of this.waiters.splice(0)) w();
    }
    return roots;
  }

  /** Built-in strategies' parameter defaults, so run labels show only what was changed. Loaded once, off the activation path. */
  private defaults: Promise<Map<string, Record<string, unknown>>> | undefined;
  private defaultsLoaded = new Map<string, Record<string, unknown>>();
  private loadDefaults(): Promise<Map<string, Record<string, unknown>>> {
    this.defaults ??= import('../strategyChoices.ts').then(
      async ({ builtinChoices, paramFields }) => {
        for (const c of await builtinChoices()) {
          this.defaultsLoaded.set(
            c.id,
            Object.fromEntries(
              paramFields(c.schema)
                .filter((f) => f.default !== undefined)
                .map((f) => [f.name, f.default]),
            ),
          );
        }
        return this.defaultsLoaded;
      },
      () => this.defaultsLoaded,
    );
    return this.defaults;
  }

  private async buildRoots(): Promise<Node[]> {
    await this.loadDefaults();
    const reader = await this.catalog.get();
    let datasets: DatasetView[] = [];
    let runs: RunView[] = [];
    if (reader) {
      try {
        datasets = reader.listDatasets();
        runs = reader.listRuns();
      } catch (err) {
        return [{ kind: 'note', text: `Cannot read the catalog: ${(err as Error).message}` }];
      }
    }
    void vscode.commands.executeCommand('setContext', 'btnb.hasDatasets', datasets.length > 0);
    void vscode.commands.executeCommand('setContext', 'btnb.hasRuns', runs.length > 0);
    const tz = this.tz();
    this.datasetLabels = new Map(datasets.map((d) => [d.id, datasetLabel(d, tz)]));
    // One pass over the (up to 5000) runs, not one filter per dataset or strategy.
    const byKey = new Map<string, RunView[]>();
    for (const r of runs) {
      if (!this.statusFilter.has(r.status)) continue;
      const key = this.groupBy === 'dataset' ? r.datasetId : r.strategyId;
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push(r);
    }
    if (this.groupBy === 'dataset') {
      return datasets.map((d) => ({ kind: 'dataset', dataset: d, runs: byKey.get(d.id) ?? [] }));
    }
    return [...byKey.keys()].sort().map((s) => ({ kind: 'strategy', strategyId: s, runs: byKey.get(s)! }));
  }
  private datasetLabels = new Map<string, string>();

  /** Resolves after the next rebuild of the tree (a test hook for live refresh). */
  nextRebuild(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return this.rootNodes();
    if (node.kind === 'dataset' || node.kind === 'strategy') {
      return node.runs.map((run) => ({ kind: 'run', run, datasetLabel: this.datasetLabels.get(run.datasetId) ?? run.datasetId }));
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const tz = this.tz();
    switch (node.kind) {
      case 'note':
        return new vscode.TreeItem(node.text);
      case 'dataset': {
        const d = node.dataset;
        const item = new vscode.TreeItem(
          datasetLabel(d, tz),
          node.runs.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `dataset:${d.id}`;
        item.description =
          d.barCount !== null
            ? `${d.barCount.toLocaleString('en-US')} bars · ${node.runs.length} runs`
            : `not derived · ${node.runs.length} runs`;
        item.iconPath = new vscode.ThemeIcon('database');
        item.contextValue = d.barCount !== null ? 'dataset.ready' : 'dataset.raw';
        const md = new vscode.MarkdownString(undefined, true);
        md.appendMarkdown(`**${d.symbol}** \`${d.id}\`\n\n`);
        md.appendMarkdown(
          `| | |\n|---|---|\n| range | ${fmtTime(d.start, tz)} → ${fmtTime(d.end, tz)} (end exclusive) |\n| bars (1 min) | ${d.barCount ?? '—'} |\n| schemas | ${d.schemas.join(', ') || '—'} |\n| source | ${d.databentoDataset ?? 'synthetic / local'} |\n`,
        );
        item.tooltip = md;
        return item;
      }
      case 'strategy': {
        const item = new vscode.TreeItem(node.strategyId, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `strategy:${node.strategyId}`;
        item.description = `${node.runs.length} runs`;
        item.iconPath = new vscode.ThemeIcon('symbol-class');
        item.contextValue = 'strategy';
        return item;
      }
      case 'run': {
        const r = node.run;
        const shown = keyParams(r.params, this.defaultsLoaded.get(r.strategyId));
        const label = `${r.strategyId} ${Object.keys(shown).length ? paramsText(shown, 4) : '(defaults)'}`;
        const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
        item.id = `run:${r.id}:${this.groupBy}`;
        item.description = runDescription(r) + (this.groupBy === 'strategy' ? ` · ${node.datasetLabel}` : '');
        const [icon, color] = STATUS_ICON[r.status];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = `run.${r.status}${r.sweepId ? '.sweep' : ''}`;
        item.tooltip = runTooltip(r, node.datasetLabel, tz);
        if (r.status === 'succeeded') item.command = { command: 'btnb.openRun', title: 'Open Run', arguments: [r.id] };
        return item;
      }
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

export function runTooltip(r: RunView, datasetLabel: string, tz: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  const m = r.metrics;
  md.appendMarkdown(`**${r.strategyId}** — ${r.status}\n\n`);
  md.appendMarkdown('| | |\n|---|---|\n');
  const row = (k: string, v: string) => md.appendMarkdown(`| ${k} | ${v.replaceAll('|', '\\|')} |\n`);
  row('run', `\`${r.id}\``);
  row('dataset', datasetLabel);
  row('params', `\`${JSON.stringify(r.params)}\``);
  row('costs', `\`${JSON.stringify(r.costs)}\``);
  row('seed · session', `${r.seed} · ${r.session}`);
  row('input hash', `\`${r.inputHash.slice(0, 16)}…\``);
  row('started', fmtTime(r.startedAt, tz));
  row('finished', fmtTime(r.finishedAt, tz));
  if (m) {
    row('total return', fmtPct(m.total_return));
    row('Sharpe · Sortino', `${fmtNum(m.sharpe)} · ${fmtNum(m.sortino)}`);
    row('max drawdown', fmtPct(m.max_drawdown, false));
    row('trades · win rate', `${m.num_trades ?? '—'} · ${fmtPct(m.win_rate, false)}`);
  }
  if (r.error) row('error', r.error);
  return md;
}
