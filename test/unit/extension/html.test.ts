import { strict as assert } from 'node:assert';
import { compareHtml, runHtml, runsListHtml } from '../../../src/extension/webview/html.ts';
import type { RunView } from '../../../src/extension/catalog/model.ts';

const run = (over: Partial<RunView> = {}): RunView => ({
  id: '01HZZZZZZZZZZZZZZZZZZZZZZZ', datasetId: 'ds_00000000000000aa', symbol: 'AAPL', strategyId: 'sma-cross', params: { fast: 10, slow: 30 },
  seed: 0, session: 'all', costs: { cash: 100000 }, status: 'succeeded', inputHash: 'a'.repeat(64), createdAt: '2024-03-04T14:30:00.000Z',
  startedAt: '2024-03-04T14:30:00.000Z', finishedAt: '2024-03-04T14:30:01.000Z', error: null,
  metrics: { total_return: 0.123456, sharpe: 1.2345, max_drawdown: 0.05, num_trades: 7 }, tags: [], ...over,
});

function csp(html: string): { policy: string; nonce: string } {
  const policy = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
  return { policy, nonce: /script-src 'nonce-([^']+)'/.exec(policy)![1]! };
}

describe('run webview HTML', () => {
  it('has a strict CSP: nothing by default, scripts and styles only with this render\'s nonce', () => {
    const html = runHtml(run(), { run_id: 'x' }, 'America/New_York', 'vscode-resource:');
    const { policy, nonce } = csp(html);
    assert.match(policy, /^default-src 'none'; /);
    assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(policy), policy);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    assert.deepEqual(scripts, [` nonce="${nonce}"`]);
    assert.notEqual(csp(runHtml(run(), {}, 'UTC', 'x')).nonce, nonce, 'a fresh nonce per render');
    assert.ok(!/src="https?:|href="https?:/.test(html), 'no remote content');
  });

  it('escapes catalog text (a hostile strategy id, params or error cannot inject markup)', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const html = runHtml(run({ strategyId: evil, params: { p: evil }, error: evil, status: 'failed' }), { note: evil }, 'UTC', 'x');
    assert.ok(!html.includes('<img'), 'raw tag in the page');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(!runsListHtml([run({ strategyId: evil })], 'UTC', 'x').includes('<img'));
    assert.ok(!compareHtml([run({ strategyId: evil }), run()], 'x').includes('<img'));
  });

  it('renders metrics in contracts §4 order with signed returns and plain magnitudes', () => {
    const html = runHtml(run(), undefined, 'America/New_York', 'x');
    const keys = [...html.matchAll(/data-metric="([a-z_]+)"/g)].map((m) => m[1]);
    assert.deepEqual(keys, ['final_equity', 'total_return', 'cagr', 'volatility', 'sharpe', 'sortino', 'max_drawdown', 'calmar', 'num_trades', 'win_rate', 'profit_factor', 'avg_trade_pnl', 'exposure', 'num_fills', 'fees_total', 'turnover']);
    assert.match(html, /data-metric="total_return">\+12\.35%</);
    assert.match(html, /data-metric="max_drawdown">5\.00%</);
    assert.match(html, /data-metric="sharpe">1\.234</);
    assert.match(html, /data-metric="cagr">—</);
    assert.match(html, /\(no run-manifest\.json\)/);
    assert.match(html, /finished 2024-03-04 09:30 EST \(America\/New_York\)/);
  });
});
