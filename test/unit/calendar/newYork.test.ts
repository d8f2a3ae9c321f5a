import { strict as assert } from 'node:assert';
import { localToUtcNs, NyDayCursor, nyDayOfUtcNs, yearOfDay } from '../../../src/engine/calendar/newYork.ts';

describe('New York day arithmetic', () => {
  it('yearOfDay equals the UTC year of a Date on every day from 1600 to 2400 and around the epoch', () => {
    for (let day = -135_000; day <= 157_000; day++) {
      assert.equal(yearOfDay(day), new Date(day * 86_400_000).getUTCFullYear(), `day ${day}`);
    }
  });

  it('NyDayCursor bounds are the New York midnights of its day (in order, with gaps and going back; 2005–2008 and 2024 DST changes)', () => {
    const cursor = new NyDayCursor();
    const check = (t: number) => {
      const day = cursor.dayOf(t);
      assert.equal(day, nyDayOfUtcNs(t));
      assert.equal(cursor.startNs, localToUtcNs(day, 0), new Date(t / 1e6).toISOString());
      assert.equal(cursor.endNs, localToUtcNs(day + 1, 0), new Date(t / 1e6).toISOString());
      assert.ok(t >= cursor.startNs && t < cursor.endNs);
    };
    const H = 3_600_000_000_000;
    for (const [from, to] of [
      ['2005-01-01', '2008-12-31'],
      ['2024-03-01', '2024-11-30'],
    ] as const) {
      for (let t = Date.parse(`${from}T00:30:00Z`) * 1e6; t < Date.parse(`${to}T00:00:00Z`) * 1e6; t += 7 * H) check(t);
    }
    for (const iso of [
      '2024-03-10T06:59:00Z',
      '2024-03-10T07:00:00Z',
      '2024-03-11T03:59:00Z',
      '2024-03-12T04:00:00Z',
      '2023-11-05T04:00:00Z',
      '2025-01-01T05:00:00Z',
    ]) {
      check(Date.parse(iso) * 1e6);
    }
  });
});
