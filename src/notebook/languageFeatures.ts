/**
 * Editor help for the configuration cells (btnb-backtest, btnb-sweep, btnb-data): diagnostics
 * for unknown keys and invalid values, completion of keys and values, and hover docs — all from
 * cellConfig.ts, the schemas the controller runs. Registered at activation; the schemas load on
 * the first cell they look at.
 */
import * as vscode from 'vscode';
import type { Services } from '../extension/services.ts';

const LANGUAGES = ['btnb-backtest', 'btnb-sweep', 'btnb-data'] as const;
type Lang = (typeof LANGUAGES)[number];
const isConfig = (doc: vscode.TextDocument): doc is vscode.TextDocument & { languageId: Lang } =>
  (LANGUAGES as readonly string[]).includes(doc.languageId);

const load = () => import('./cellConfig.ts');

export function registerCellLanguageFeatures(s: Services): vscode.Disposable {
  const diagnostics = vscode.languages.createDiagnosticCollection('btnb-cells');
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const check = (doc: vscode.TextDocument, delay = 250) => {
    if (!isConfig(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        void load().then(({ analyzeCell }) => {
          if (doc.isClosed) return;
          const a = analyzeCell(doc.languageId, doc.getText());
          diagnostics.set(
            doc.uri,
            a.issues.map((i) => {
              const d = new vscode.Diagnostic(
                new vscode.Range(doc.positionAt(i.start), doc.positionAt(i.end)),
                i.message,
                i.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
              );
              d.source = doc.languageId;
              return d;
            }),
          );
        });
      }, delay),
    );
  };
  for (const doc of vscode.workspace.textDocuments) check(doc, 0);
  const selector = LANGUAGES.map((language) => ({ language }));

  const completion = vscode.languages.registerCompletionItemProvider(
    selector,
    {
      async provideCompletionItems(doc, pos) {
        if (!isConfig(doc)) return [];
        const { cursorContext, docsAt } = await load();
        const cx = cursorContext(doc.getText(), doc.offsetAt(pos));
        if (!cx.inValue) {
          const docs = docsAt(doc.languageId, cx.path) ?? {};
          return Object.entries(docs).map(([key, d]) => {
            const item = new vscode.CompletionItem(key, vscode.CompletionItemKind.Property);
            item.insertText = d.keys ? new vscode.SnippetString(`${key}:\n  $0`) : `${key}: `;
            item.documentation = new vscode.MarkdownString(d.doc);
            if (d.keys) item.command = { title: 'suggest', command: 'editor.action.triggerSuggest' };
            return item;
          });
        }
        const key = cx.lineKey ?? '';
        const docs = docsAt(doc.languageId, cx.path)?.[key];
        const values = new Map<string, string>();
        for (const v of docs?.values ?? []) values.set(v, docs!.doc);
        if (key === 'strategy' && cx.path.length === 0) await strategyValues(doc, values);
        if (key === 'dataset' || (key === 'derive' && doc.languageId === 'btnb-data')) {
          for (const d of (await s.catalog.get())?.port.listDatasets() ?? [])
            values.set(d.dataset_id, `${d.symbol} ${d.start?.slice(0, 10) ?? '?'} → ${d.end?.slice(0, 10) ?? '?'} (${d.status})`);
        }
        if (key === 'sort') {
          const { METRIC_DEFS } = await import('../engine/views/metricDefs.ts');
          for (const m of METRIC_DEFS) values.set(m.key, `${m.label}: ${m.definition}`);
        }
        return [...values].map(([v, detail]) => {
          const item = new vscode.CompletionItem(v, vscode.CompletionItemKind.Value);
          item.detail = detail;
          return item;
        });
      },
    },
    ':',
    ' ',
  );

  const hover = vscode.languages.registerHoverProvider(selector, {
    async provideHover(doc, pos) {
      if (!isConfig(doc)) return undefined;
      const range = doc.getWordRangeAtPosition(pos, /[A-Za-z_][\w-]*/);
      if (!range) return undefined;
      const word = doc.getText(range);
      const { cursorContext, docsAt } = await load();
      const line = doc.lineAt(pos.line).text;
      // only the key of a line (before its colon), not a value that happens to match a key
      if (line.indexOf(':') >= 0 && range.start.character > line.indexOf(':')) return undefined;
      const cx = cursorContext(doc.getText(), doc.offsetAt(range.start));
      const d = docsAt(doc.languageId, cx.path)?.[word];
      return d ? new vscode.Hover(new vscode.MarkdownString(`**${word}** — ${d.doc}`), range) : undefined;
    },
  });

  return vscode.Disposable.from(
    diagnostics,
    completion,
    hover,
    vscode.workspace.onDidOpenTextDocument((d) => check(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => check(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => diagnostics.delete(d.uri)),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );
}

/** Built-in strategies and the strategy cells above this cell. */
async function strategyValues(doc: vscode.TextDocument, values: Map<string, string>): Promise<void> {
  const [{ BUILTIN_STRATEGIES }, { strategyCells }] = await Promise.all([
    import('../engine/strategies/index.ts'),
    import('./strategyCells.ts'),
  ]);
  for (const d of Object.values(BUILTIN_STRATEGIES)) values.set(d.id, d.description ?? 'built-in strategy');
  const nb = vscode.workspace.notebookDocuments.find((n) => n.getCells().some((c) => c.document === doc));
  if (!nb) return;
  const me = nb.getCells().find((c) => c.document === doc)!.index;
  const cells = strategyCells(
    nb.getCells().map((c) => ({ index: c.index, language: c.document.languageId, source: c.document.getText(), metadata: c.metadata })),
    me,
  );
  for (const name of cells.keys()) values.set(name, 'strategy cell in this notebook');
}
