/** Position and P&L at the replay cursor (or the run's last bar). */
import type { AccountState } from '../../engine/replay/protocol.ts';
import { fmtNum, fmtPct, fmtPrice, fmtQty } from '../lib/format.ts';

export function AccountPanel(props: { account: AccountState | null; initialCash: number }) {
  const a = props.account;
  const tone = (x: number | undefined) => (x === undefined ? '' : x > 0 ? 'pos' : x < 0 ? 'neg' : '');
  const rows: [string, string, string][] = a
    ? [
        ['Position', fmtQty(a.position), a.position > 0 ? 'pos' : a.position < 0 ? 'neg' : ''],
        ['Avg price', fmtPrice(a.avg_price), ''],
        ['Unrealized P&L', fmtNum(a.unrealized_pnl, 2), tone(a.unrealized_pnl)],
        ['Realized P&L', fmtNum(a.realized_pnl, 2), tone(a.realized_pnl)],
        ['Cash', fmtNum(a.cash, 2), ''],
        ['Equity', fmtNum(a.equity, 2), ''],
        ['Return', fmtPct(a.equity / props.initialCash - 1, true), tone(a.equity - props.initialCash)],
        ['Drawdown', fmtPct(a.drawdown), a.drawdown > 0 ? 'neg' : ''],
      ]
    : [];
  return (
    <section class="account" aria-label="Position and P&L">
      {rows.map(([label, value, t]) => (
        <div class="account-item" key={label}>
          <span class="account-label">{label}</span>
          <span class={`account-value ${t}`} data-account={label.toLowerCase().replace(/[^a-z]+/g, '-')}>
            {value}
          </span>
        </div>
      ))}
    </section>
  );
}
