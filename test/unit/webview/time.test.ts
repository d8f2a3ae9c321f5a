import { strict as assert } from 'node:assert';
import { fmtDateTime, indexTicks, isValidTimeZone, offsetMs, wallClockMs, zoneAbbrev } from '../../../src/webview/lib/time.ts';

const ms = (iso: string) => Date.parse(iso);
const NY = 'America/New_York';

describe('webview time zones (display zone, DST)', () => {
  it('formats UTC instants in New York across the March and November DST changes, naming the zone', () => {
    assert.equal(fmtDateTime(ms('2024-03-10T06:59:00Z'), NY), '2024-03-10 01:59 EST');
    assert.equal(fmtDateTime(ms('2024-03-10T07:00:00Z'), NY), '2024-03-10 03:00 EDT');
    assert.equal(fmtDateTime(ms('2024-11-03T05:30:00Z'), NY), '2024-11-03 01:30 EDT');
    assert.equal(fmtDateTime(ms('2024-11-03T06:30:00Z'), NY), '2024-11-03 01:30 EST');
    assert.equal(fmtDateTime(ms('2024-03-04T14:30:00Z'), NY), '2024-03-04 09:30 EST');
    assert.equal(fmtDateTime(ms('2024-07-01T13:30:00Z'), NY), '2024-07-01 09:30 EDT');
    assert.equal(fmtDateTime(ms('2024-03-04T14:30:00Z'), 'UTC'), '2024-03-04 14:30 UTC');
    assert.equal(fmtDateTime(ms('2024-03-04T14:30:00Z'), 'Europe/London'), '2024-03-04 14:30 GMT');
    assert.equal(fmtDateTime(null, NY), '—');
  });

  it('offsets and "wall clock" milliseconds follow the zone at each instant', () => {
    assert.equal(offsetMs(ms('2024-03-10T06:59:00Z'), NY), -5 * 3_600_000);
    assert.equal(offsetMs(ms('2024-03-10T07:00:00Z'), NY), -4 * 3_600_000);
    assert.equal(offsetMs(ms('2024-11-03T06:00:00Z'), NY), -5 * 3_600_000);
    assert.equal(offsetMs(ms('2024-06-01T00:00:00Z'), 'Asia/Kolkata'), 5.5 * 3_600_000);
    // a Plotly date axis draws this number as UTC: 09:30 New York
    assert.equal(new Date(wallClockMs(ms('2024-07-01T13:30:00Z'), NY)).toISOString(), '2024-07-01T09:30:00.000Z');
    assert.equal(zoneAbbrev(ms('2024-07-01T13:30:00Z'), NY), 'EDT');
    assert.ok(isValidTimeZone(NY) && !isValidTimeZone('Mars/Olympus'));
  });

  it('index-axis ticks land on local day starts over days and on round local times within a day', () => {
    // 3 sessions of 390 one-minute bars from 09:30 New York, one day across the DST change
    const idx: number[] = [];
    const ts: number[] = [];
    for (const day of ['2024-03-08T14:30:00Z', '2024-03-11T13:30:00Z', '2024-03-12T13:30:00Z']) {
      for (let k = 0; k < 390; k++) {
        idx.push(idx.length);
        ts.push(ms(day) + k * 60_000);
      }
    }
    const days = indexTicks(idx, ts, 0, idx.length - 1, NY, 4);
    assert.deepEqual(days.vals, [0, 390, 780]);
    assert.deepEqual(days.text, ['Mar 8', 'Mar 11', 'Mar 12']);
    const intraday = indexTicks(idx, ts, 400, 600, NY, 8);
    assert.ok(intraday.vals.length >= 2 && intraday.vals.length <= 8, intraday.text.join(','));
    for (const t of intraday.text.slice(1)) assert.match(t, /^(\d\d:\d\d|Mar \d+ \d\d:\d\d)$/);
    // after the March change the session still starts at 09:30 local
    assert.equal(fmtDateTime(ts[390], NY), '2024-03-11 09:30 EDT');
  });
});
