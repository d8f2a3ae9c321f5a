/**
 * Promise 5 (docs/reliability.md): hostile messages are answered, not obeyed. For every message
 * of every boundary, generated malformed variants (support/malformed.ts) go to the real handlers:
 *   - host ↔ view (and ↔ notebook renderer, which carries the same envelopes): a real
 *     IpcEndpoint bound to the real RunViewsBackend + LocalStreamer over a real catalog. Every
 *     request gets exactly one reply; bad ones an error reply; nothing throws; a path or an
 *     unknown run id never reads a file; a valid request is still answered afterwards.
 *   - host ↔ job child: malformed `start`/`cancel` sent to a real forked backtest job child: it
 *     answers `error` and exits, no run is created; the host's parser refuses malformed
 *     child messages with a ProtocolError.
 *   - sweep parent ↔ worker, renderer envelope: every variant parses or is refused with the
 *     protocol's own error, never anything else.
 */
import { strict as assert } from 'node:assert';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IpcEndpoint, type Envelope } from '../../src/engine/views/ipc.ts';
import { Notifications, Requests } from '../../src/engine/views/protocol.ts';
import { RunViewsBackend } from '../../src/engine/views/runViewsBackend.ts';
import { bindRunViews } from '../../src/engine/views/bindRunViews.ts';
import { LocalStreamer } from '../../src/engine/replay/localStreamer.ts';
import { systemClock } from '../../src/engine/replay/clock.ts';
import { openCatalog } from '../../src/engine/catalog/sqliteCatalog.ts';
import {
  parseToChild,
  parseToHost,
  ProtocolError,
  StartMsg,
  ProgressMsg,
  ResultMsg,
  ErrorMsg,
  ReadyMsg,
  LogMsg,
  BacktestParams,
} from '../../src/engine/jobs/protocol.ts';
import {
  parseToParent,
  parseToWorker,
  RunMsg,
  ScoreMsg,
  RunResult,
  ScoreResult,
  StartMsg as SweepStart,
} from '../../src/engine/sweep/protocol.ts';
import { RendererToHost } from '../../src/notebook/rendererProtocol.ts';
import { variants, HOSTILE_VALUES } from './support/malformed.ts';
import { btnb } from './support/processes.ts';
import { Probe } from './support/report.ts';
import { buildWorld, caseDir, disposeWorld, type World } from './support/scenarios.ts';
import type { z } from 'zod';

const BACKTEST_JOB = fileURLToPath(new URL('../../src/engine/jobs/backtestJob.ts', import.meta.url));

describe('chaos: protocol abuse, promise 5', function () {
  this.timeout(0);
  let world: World | undefined;
  let dir = '';
  let runId = '';
  before(async () => {
    world = await buildWorld();
    dir = caseDir(
      world,
      world.scenarios.find((s) => s.name === 'backtest')!,
      'protocol',
    );
    const r = await btnb([
      'backtest',
      '--dataset',
      world.datasetId,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5',
      '--param',
      'slow=20',
      '--json',
      '--data-dir',
      dir,
    ]);
    runId = (JSON.parse(r.stdout) as { run_id: string }).run_id;
  });
  after(() => disposeWorld(world));

  it('host ↔ view IPC: every malformed request gets one error reply, nothing throws, nothing outside the data dir is read', async () => {
    const probe = new Probe('protocol abuse: host ↔ view');
    const catalog = openCatalog(join(dir, 'catalog.sqlite'));
    const backend = new RunViewsBackend({ dataDir: () => dir, catalog: async () => catalog });
    const streamer = new LocalStreamer((id) => backend.series(id), systemClock);
    const replies = new Map<number, Envelope>();
    const faults: string[] = [];
    const acted: string[][] = [];
    const ipc = new IpcEndpoint({
      post: (m) => {
        if (m.kind === 'response') {
          if (replies.has(m.id)) probe.fail(`request ${m.id} answered twice`);
          replies.set(m.id, m);
        }
      },
      onFault: (f) => faults.push(f),
    });
    const binding = bindRunViews(ipc, backend, streamer, {
      act: async (_a, ids) => {
        acted.push(ids);
        return { ok: true };
      },
      copy: async () => undefined,
      displayTz: () => 'America/New_York',
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      let id = 1;
      const sent = new Map<number, string>();
      const valid: Record<string, Record<string, unknown>> = {
        'run/get': { runId },
        'run/series': { runId, from: null, to: null, points: 2000 },
        'run/table': { runId, table: 'fills', offset: 0, limit: 10 },
        'replay/open': { runId },
      };
      for (const [name, type] of Object.entries(Requests)) {
        for (const v of variants(type.params as z.ZodType, valid[type.method] ?? {})) {
          const ok = type.params.safeParse(v.params).success;
          sent.set(id, `${name}: ${v.label}${ok ? ' (valid)' : ''}`);
          try {
            ipc.receive({ kind: 'request', id: id++, method: type.method, params: v.params });
          } catch (e) {
            probe.fail(`${name} ${v.label}: receive threw ${(e as Error).message}`);
          }
          probe.cases++;
        }
      }
      // notifications the view sends, and envelopes that are not envelopes
      for (const type of [Notifications.ready, Notifications.replayCtrl])
        for (const v of variants(type.params as z.ZodType)) {
          probe.cases++;
          try {
            ipc.receive({ kind: 'notify', method: type.method, params: v.params });
          } catch (e) {
            probe.fail(`${type.method} ${v.label}: threw ${(e as Error).message}`);
          }
        }
      for (const raw of [
        ...HOSTILE_VALUES,
        { kind: 'request', id: -1, method: 'run/get', params: {} },
        { kind: 'request', id: id++, method: 'fs/read', params: { path: '/etc/passwd' } },
      ]) {
        probe.cases++;
        try {
          ipc.receive(raw);
        } catch (e) {
          probe.fail(`envelope ${JSON.stringify(raw)?.slice(0, 60)}: threw ${(e as Error).message}`);
        }
      }
      sent.set(id - 1, 'unknown method fs/read');
      await new Promise((r) => setTimeout(r, 2000));
      for (const [rid, label] of sent) {
        const r = replies.get(rid);
        if (!r) probe.fail(`${label}: no reply`);
        else if (r.kind === 'response' && r.ok && !label.endsWith('(valid)')) probe.fail(`${label}: answered ok`);
      }
      for (const ids of acted)
        if (ids.some((x) => !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(x))) probe.fail(`runs/act reached the host with ids ${ids.join(',')}`);
      if (unhandled.length) probe.fail(`${unhandled.length} unhandled rejections: ${String(unhandled[0])}`);
      // still responsive
      const before = replies.size;
      ipc.receive({ kind: 'request', id: 999_999, method: Requests.runGet.method, params: { runId } });
      await new Promise((r) => setTimeout(r, 300));
      const last = replies.get(999_999);
      if (!last || last.kind !== 'response' || !last.ok)
        probe.fail(`a valid run/get after the abuse: ${JSON.stringify(last)?.slice(0, 200)}`);
      probe.notes.push(
        `${sent.size} requests → ${before} replies (${[...replies.values()].filter((r) => r.kind === 'response' && !r.ok).length} errors); ${faults.length} notifications/envelopes dropped and logged`,
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
      binding.dispose();
      catalog.close();
    }
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });

  it('host ↔ job child: a real backtest job child answers malformed start/cancel with an error and exits; the host refuses malformed child messages', async () => {
    const probe = new Probe('protocol abuse: host ↔ job child');
    const runsBefore = new Database(join(dir, 'catalog.sqlite'), { readonly: true }).prepare('SELECT count(*) AS n FROM runs').get() as {
      n: number;
    };
    const good = { dataDir: dir, datasetId: world!.datasetId, strategyId: 'sma-cross', params: { fast: 5, slow: 20 } };
    const childVariants = [
      ...HOSTILE_VALUES.filter((v) => v !== undefined).map((v, i) => ({ label: `message = hostile #${i}`, msg: v })),
      { label: 'unknown type', msg: { type: 'shutdown-host' } },
      { label: 'start of another kind', msg: { type: 'start', kind: 'query', params: good } },
      ...variants(BacktestParams as unknown as z.ZodType, good)
        .filter((v) => !BacktestParams.safeParse(v.params).success)
        .filter((_, i) => i % 6 === 0)
        .map((v) => ({ label: `start, params ${v.label}`, msg: { type: 'start', kind: 'backtest', params: v.params } })),
      {
        label: 'start, dataDir elsewhere',
        msg: { type: 'start', kind: 'backtest', params: { ...good, dataDir: join(dir, '..', 'elsewhere'), datasetId: '../x' } },
      },
    ];
    for (const v of childVariants) {
      probe.cases++;
      const c = fork(BACKTEST_JOB, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      const got: { type: string; message?: string }[] = [];
      const exit = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
      c.on('message', (m: { type: string }) => {
        got.push(m);
        if (m.type === 'ready') c.send(v.msg as never);
      });
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      const code = await exit;
      clearTimeout(timer);
      const err = got.find((m) => m.type === 'error');
      if (code === null) probe.fail(`${v.label}: the child hung (killed after 15 s)`);
      else if (!err && !got.some((m) => m.type === 'result'))
        probe.fail(`${v.label}: exited ${code} without an error reply (${JSON.stringify(got).slice(0, 200)})`);
      else if (got.some((m) => m.type === 'result')) probe.fail(`${v.label}: was obeyed`);
    }
    const runsAfter = new Database(join(dir, 'catalog.sqlite'), { readonly: true }).prepare('SELECT count(*) AS n FROM runs').get() as {
      n: number;
    };
    if (runsAfter.n !== runsBefore.n) probe.fail(`${runsAfter.n - runsBefore.n} runs created by malformed starts`);
    if (existsSync(join(dir, '..', 'elsewhere'))) probe.fail('a malformed start created a data dir elsewhere');
    // host side: what a child may send
    const hostParsers: [string, (x: unknown) => unknown, z.ZodType[]][] = [
      ['job child → host', parseToHost, [ReadyMsg, ProgressMsg, LogMsg, ResultMsg, ErrorMsg]],
      ['host → job child', parseToChild, [StartMsg]],
      ['sweep parent → worker', parseToWorker, [SweepStart, RunMsg, ScoreMsg]],
      ['sweep worker → parent', parseToParent, [RunResult, ScoreResult]],
    ];
    for (const [label, parse, schemas] of hostParsers)
      for (const s of schemas)
        for (const v of variants(s)) {
          probe.cases++;
          try {
            parse(v.params);
          } catch (e) {
            if (!(e instanceof ProtocolError)) probe.fail(`${label} ${v.label}: ${(e as Error).name} instead of a ProtocolError`);
          }
        }
    for (const v of variants(RendererToHost, { type: 'ipc', connection: 'c1' })) {
      probe.cases++;
      try {
        RendererToHost.safeParse(v.params);
      } catch (e) {
        probe.fail(`renderer → host ${v.label}: threw ${(e as Error).message}`);
      }
    }
    probe.notes.push(`${childVariants.length} malformed messages to real job children`);
    const row = probe.done();
    assert.equal(row.failures, 0, probe.failures.join('\n'));
  });
});
