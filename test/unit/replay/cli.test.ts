import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { runBacktestToCatalog } from '../../../src/engine/backtest/runner.ts';
import { openCatalog } from '../../../src/engine/catalog/sqliteCatalog.ts';
import { dataPaths } from '../../../src/engine/dataDir.ts';
import { loadRunSeries } from '../../../src/engine/replay/runSeries.ts';
import { ServerMsg, type FrameMsg } from '../../../src/engine/replay/protocol.ts';
import { makeDataDir } from '../backtest/support/dataset.ts';

const MAIN = new URL('../../../src/engine/cli/main.ts', import.meta.url).pathname;

function lines(stdout: string): ServerMsg[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => ServerMsg.parse(JSON.parse(l)));
}

describe('btnb replay (CLI)', function () {
  this.timeout(60_000);
  let dataDir = '';
  let runId = '';
  before(async () => {
    const d = await makeDataDir(6000, 8);
    dataDir = d.dataDir;
    runId = (
      await runBacktestToCatalog({
        dataDir,
        datasetId: d.datasetId,
        strategy: 'donchian-breakout',
        params: { entry: 10, exit: 5, allow_short: true },
      })
    ).run.run_id;
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("--jsonl --speed max: meta, frames carrying every fill and order event with the artifacts' ids, end complete; byte-identical twice", async () => {
    const run = () =>
      spawnSync(process.execPath, [MAIN, 'replay', runId, '--data-dir', dataDir, '--jsonl', '--speed', 'max'], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
    const a = run();
    assert.equal(a.status, 0, a.stderr);
    assert.equal(run().stdout, a.stdout, 'repeatable output');
    const msgs = lines(a.stdout);
    assert.equal(msgs[0]!.type, 'meta');
    const cat = openCatalog(dataPaths(dataDir).catalog);
    const s = await loadRunSeries(dataDir, cat, runId);
    cat.close();
    assert.equal((msgs[0] as { bar_count: number }).bar_count, s.length);
    const frames = msgs.filter((m): m is FrameMsg => m.type === 'frame');
    assert.ok(frames.length > 3);
    const fills = frames.flatMap((f) => f.fills.fill_id);
    assert.deepEqual(fills, Array.from(s.fills.fillId));
    const submitted = frames.flatMap((f) => f.orders.order_id.filter((_, k) => f.orders.event[k] === 'submitted'));
    assert.deepEqual(submitted, Array.from(s.orders.orderId));
    for (const f of frames) assert.ok(f.bars.i.length <= 500);
    assert.deepEqual(msgs.at(-1), { type: 'end', cursor: s.length - 1, reason: 'complete' });
  });

  it('--from/--to by bar and time; without --jsonl prints one summary line', () => {
    const r = spawnSync(process.execPath, [MAIN, 'replay', runId, '--data-dir', dataDir, '--from', '100', '--to', '2024-03-05T16:00:00Z'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^replay ${runId}: \\d+ bars, \\d+ frames, \\d+ fills, \\d+ order events in [\\d.]+ s\\n$`));
    const bad = spawnSync(process.execPath, [MAIN, 'replay', runId, '--data-dir', dataDir, '--from', 'soon'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /from: 'soon' is neither a bar index/);
    const missing = spawnSync(process.execPath, [MAIN, 'replay', '01ZZZZZZZZZZZZZZZZZZZZZZZZ', '--data-dir', dataDir], {
      encoding: 'utf8',
    });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /not in the catalog/);
  });

  it('--control: starts paused, answers ctrl lines, err for a malformed line and goes on, end of stdin → end stopped, exit 0', async () => {
    const child = spawn(process.execPath, [MAIN, 'replay', runId, '--data-dir', dataDir, '--control'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const waitFor = async (pred: (m: ServerMsg[]) => boolean) => {
      for (let k = 0; k < 200 && !pred(out.trim() ? lines(out) : []); k++) await new Promise((r) => setTimeout(r, 25));
      return lines(out);
    };
    await waitFor((m) => m.some((x) => x.type === 'ctrl'));
    child.stdin.write('{"type":"ctrl","cmd":"step","value":25}\n');
    let msgs = await waitFor((m) => m.some((x) => x.type === 'ctrl' && x.cursor === 25));
    child.stdin.write('{oops\n');
    msgs = await waitFor((m) => m.some((x) => x.type === 'err'));
    assert.equal(msgs.find((x) => x.type === 'err')!.type, 'err');
    child.stdin.write('{"type":"ctrl","cmd":"seek","value":3000}\n{"type":"ctrl","cmd":"speed","value":"max"}\n');
    msgs = await waitFor((m) => m.some((x) => x.type === 'ctrl' && x.speed === 'max'));
    assert.ok(msgs.some((x) => x.type === 'frame' && x.reset === true && x.cursor === 3000));
    child.stdin.end();
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0);
    msgs = lines(out);
    assert.deepEqual(msgs.at(-1), { type: 'end', cursor: 3000, reason: 'stopped' });
    assert.equal(msgs.filter((x) => x.type === 'frame').length, 3, 'reset at 0, +25, reset at 3000');
  });
});
