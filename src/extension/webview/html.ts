/**
 * Server-rendered HTML for the minimal run views (list, one run, comparison). No remote
 * content: a strict CSP with a per-render nonce; the only script posts clicks back to the host.
 */
import { randomBytes } from 'node:crypto';
import { fmtNum, fmtPct, fmtTime, paramSummary, type RunView } from '../catalog/model.ts';

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function nonce(): string {
  return randomBytes(16).toString('base64');
}

const STYLE = `
body{font-family:var(--vscode-font-family);font-size:var(--vscode-font-size);color:var(--vscode-foreground);padding:0 16px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid var(--vscode-panel-border);text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.run{cursor:pointer}tr.run:hover{background:var(--vscode-list-hoverBackground)}
code,pre{font-family:var(--vscode-editor-font-family)}pre{background:var(--vscode-textCodeBlock-background);padding:8px;overflow:auto}
.s-failed{color:var(--vscode-testing-iconFailed)}.s-succeeded{color:var(--vscode-testing-iconPassed)}.muted{opacity:.7}`;

function page(title: string, body: string, cspSource: string): string {
  const n = nonce();
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource}; style-src 'nonce-${n}'; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style nonce="${n}">${STYLE}</style></head>
<body>${body}<script nonce="${n}">
const vscode = acquireVsCodeApi();
document.addEventListener('click', (e) => {
  const row = e.target.closest('[data-run]');
  if (row) vscode.postMessage({ type: 'openRun', runId: row.dataset.run });
});
</script></body></html>`;
}

/** Metric rows in contracts §4 order, with how each is shown. */
export const METRIC_ROWS: [key: string, label: string, fmt: (v: number | null | undefined) => string][] = [
  ['final_equity', 'Final equity', (v) => fmtNum(v, 2)],
  ['total_return', 'Total return', fmtPct],
  ['cagr', 'CAGR', fmtPct],
  ['volatility', 'Volatility (ann.)', (v) => fmtPct(v, false)],
  ['sharpe', 'Sharpe', (v) => fmtNum(v, 3)],
  ['sortino', 'Sortino', (v) => fmtNum(v, 3)],
  ['max_drawdown', 'Max drawdown', (v) => fmtPct(v, false)],
  ['calmar', 'Calmar', (v) => fmtNum(v, 3)],
  ['num_trades', 'Trades', (v) => fmtNum(v, 0)],
  ['win_rate', 'Win rate', (v) => fmtPct(v, false)],
  ['profit_factor', 'Profit factor', (v) => fmtNum(v, 3)],
  ['avg_trade_pnl', 'Avg trade P&L', (v) => fmtNum(v, 2)],
  ['exposure', 'Exposure', (v) => fmtPct(v, false)],
  ['num_fills', 'Fills', (v) => fmtNum(v, 0)],
  ['fees_total', 'Fees', (v) => fmtNum(v, 2)],
  ['turnover', 'Turnover', (v) => fmtNum(v, 2)],
];

export function runsListHtml(runs: RunView[], tz: string, cspSource: string): string {
  const rows = runs.map((r) => `<tr class="run" data-run="${esc(r.id)}"><td><code>${esc(r.id)}</code></td><td>${esc(r.symbol ?? r.datasetId)}</td><td>${esc(r.strategyId)} <span class="muted">${esc(paramSummary(r.params))}</span></td><td class="s-${esc(r.status)}">${esc(r.status)}</td><td class="n">${fmtPct(r.metrics?.total_return)}</td><td class="n">${fmtNum(r.metrics?.sharpe, 3)}</td><td class="n">${fmtPct(r.metrics?.max_drawdown, false)}</td><td>${esc(fmtTime(r.finishedAt ?? r.createdAt, tz))}</td></tr>`).join('\n');
  return page('Backtest runs', `<h2>Runs (${runs.length})</h2><p class="muted">Times in ${esc(tz)}. Click a run to open it.</p>
<table id="runs"><thead><tr><th>Run</th><th>Symbol</th><th>Strategy</th><th>Status</th><th>Return</th><th>Sharpe</th><th>Max DD</th><th>Finished</th></tr></thead><tbody>${rows}</tbody></table>`, cspSource);
}

export function runHtml(r: RunView, manifest: unknown, tz: string, cspSource: string): string {
  const m = r.metrics ?? {};
  const metrics = METRIC_ROWS.map(([k, label, f]) => `<tr><th>${esc(label)}</th><td class="n" data-metric="${k}">${esc(f(m[k]))}</td></tr>`).join('');
  return page(`Run ${r.id}`, `<h2>${esc(r.strategyId)} <span class="muted">${esc(paramSummary(r.params, 12))}</span></h2>
<p>Run <code>${esc(r.id)}</code> · <span class="s-${esc(r.status)}">${esc(r.status)}</span> · ${esc(r.symbol ?? '')} <code>${esc(r.datasetId)}</code> · finished ${esc(fmtTime(r.finishedAt, tz))} (${esc(tz)})</p>
${r.error ? `<p class="s-failed">${esc(r.error)}</p>` : ''}
<h3>Metrics</h3><table id="metrics">${metrics}</table>
<h3>Manifest</h3><pre id="manifest">${esc(manifest === undefined ? '(no run-manifest.json)' : JSON.stringify(manifest, null, 2))}</pre>`, cspSource);
}

export function compareHtml(runs: RunView[], cspSource: string): string {
  const head = runs.map((r) => `<th data-run="${esc(r.id)}">${esc(r.strategyId)}<br><span class="muted">${esc(paramSummary(r.params))}</span><br><code>${esc(r.id.slice(-8))}</code></th>`).join('');
  const rows = METRIC_ROWS.map(([k, label, f]) => `<tr><th>${esc(label)}</th>${runs.map((r) => `<td class="n">${esc(f(r.metrics?.[k]))}</td>`).join('')}</tr>`).join('');
  const setting = (label: string, get: (r: RunView) => string) => `<tr><th>${esc(label)}</th>${runs.map((r) => `<td>${esc(get(r))}</td>`).join('')}</tr>`;
  return page('Compare runs', `<h2>Compare ${runs.length} runs</h2><table id="compare"><thead><tr><th></th>${head}</tr></thead><tbody>${rows}
${setting('Dataset', (r) => r.symbol ?? r.datasetId)}${setting('Seed · session', (r) => `${r.seed} · ${r.session}`)}${setting('Costs', (r) => JSON.stringify(r.costs))}</tbody></table>`, cspSource);
}
