import { strict as assert } from 'node:assert';
import { ManualClock } from '../../../src/engine/replay/clock.ts';
import { ReplayStream } from '../../../src/engine/replay/streamer.ts';
import type { ServerMsg } from '../../../src/engine/replay/protocol.ts';
import { seriesWindow, restEnd } from '../../../src/engine/views/seriesWindow.ts';
import { modelFromWindow, ReplayModel } from '../../../src/webview/lib/chartModel.ts';
import { randomSeries } from '../replay/support/randomSeries.ts';

describe('chart models (what the run chart draws)', () => {
  it('a replay model grown from frames ends with the same fills and order segments as the run', () => {
    const s = randomSeries(31, 1500, 0.4);
    const clock = new ManualClock();
    const model = new ReplayModel();
    const stream = new ReplayStream(
      s,
      (m: ServerMsg) => {
        if (m.type === 'frame') model.apply(m);
      },
      { clock, speed: 2000, play: true, maxEventsPerFrame: 50 },
    );
    stream.start();
    clock.advance(10_000);
    assert.equal(stream.state, 'ended');
    const m = model.model;
    assert.deepEqual(m.fills.fillId, Array.from(s.fills.fillId));
    // every limit/stop order that rested becomes one segment [bar + 1, last bar it rested]
    const want: string[] = [];
    for (let k = 0; k < s.orders.length; k++) {
      if (s.orders.type[k] === 0) continue;
      const end = restEnd(s, k);
      want.push(`${s.orders.bar[k]! + 1}-${end < 0 ? s.length - 1 : end}`);
    }
    const got = m.segments.a.map((a, k) => `${a}-${m.segments.b[k]}`);
    assert.deepEqual(got, want);
    assert.equal(m.cursor, s.length - 1);
    const covered = m.candles.n.reduce((x, y) => x + y, 0);
    assert.equal(covered, s.length);
  });

  it('a static window becomes candles, equity, fills and level segments', () => {
    const s = randomSeries(5, 800, 0.3);
    const w = seriesWindow(s, 100, 500, 100);
    const m = modelFromWindow(w);
    assert.equal(m.candles.i.length, w.candles.i.length);
    assert.ok(m.fills.bar.every((b) => b >= 100 && b < 500));
    for (let k = 0; k < m.segments.a.length; k++) assert.ok(m.segments.a[k]! <= m.segments.b[k]! && !Number.isNaN(m.segments.y[k]));
  });
});
