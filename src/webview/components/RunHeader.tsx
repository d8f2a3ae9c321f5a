/** Who a run is: strategy and params, dataset, seed, session, costs, status and times (display zone named). */
import type { RunInfo } from '../../engine/views/protocol.ts';
import { fmtCosts, fmtDuration } from '../lib/format.ts';
import { paramsText } from '../../engine/backtest/paramText.ts';
import { fmtIso } from '../lib/time.ts';
import { Icon } from './Icon.tsx';

export function StatusBadge(props: { status: string }) {
  return <span class={`status status-${props.status}`}>{props.status}</span>;
}

export function RunHeader(props: {
  run: RunInfo;
  tz: string;
  onCopyId: () => void;
  walkForwardId: string | null;
  onOpenSweep?: () => void;
}) {
  const r = props.run;
  const dur = r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null;
  return (
    <header class="run-header">
      <div class="title-row">
        <h1>
          {r.strategy_id} <span class="params">{paramsText(r.params, 12)}</span>
        </h1>
        <StatusBadge status={r.status} />
      </div>
      <dl class="identity">
        <div>
          <dt>Symbol</dt>
          <dd>
            {r.symbol ?? '—'} <code class="muted">{r.dataset_id}</code>
          </dd>
        </div>
        <div>
          <dt>Seed · session</dt>
          <dd>
            {r.seed} · {r.session === 'rth' ? 'RTH (XNYS 09:30–16:00)' : 'all bars'}
          </dd>
        </div>
        <div>
          <dt>Costs</dt>
          <dd>{fmtCosts(r.costs)}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{fmtIso(r.created_at, props.tz)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            {fmtIso(r.finished_at, props.tz)}
            {dur !== null ? ` (${fmtDuration(dur)})` : ''}
          </dd>
        </div>
        <div>
          <dt>Run</dt>
          <dd>
            <code data-run-id>{r.run_id}</code>
            <button type="button" class="icon-button small" aria-label="Copy run id" title="Copy run id" onClick={props.onCopyId}>
              <Icon name="copy" />
            </button>
          </dd>
        </div>
        {r.sweep_id && props.onOpenSweep ? (
          <div>
            <dt>{props.walkForwardId ? 'Walk-forward' : 'Sweep'}</dt>
            <dd>
              <button type="button" class="link" onClick={props.onOpenSweep}>
                {r.sweep_id.slice(-8)} — open results
              </button>
            </dd>
          </div>
        ) : null}
        {r.tags.length ? (
          <div>
            <dt>Tags</dt>
            <dd>
              {r.tags.map((t) => (
                <span class="tag" key={t}>
                  {t}
                </span>
              ))}
            </dd>
          </div>
        ) : null}
      </dl>
      <p class="tz-note">Times in {props.tz}; artifacts are UTC.</p>
      {r.error ? (
        <pre class="run-error" role="alert">
          {r.error}
        </pre>
      ) : null}
    </header>
  );
}
