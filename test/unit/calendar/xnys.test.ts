import { strict as assert } from 'node:assert';
import {
  CALENDAR_VERSION,
  holidays,
  earlyCloses,
  isTradingDay,
  isEarlyClose,
  sessionBoundsNs,
  rthMask,
  easterSunday,
} from '../../../src/engine/calendar/xnys.ts';
import { dayNumber, nyDayOfUtcNs, localToUtcNs, isoDate, NyDayCursor } from '../../../src/engine/calendar/newYork.ts';

const ns = (iso: string) => Date.parse(iso) * 1e6;
const d = (iso: string) => dayNumber(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), Number(iso.slice(8, 10)));

describe('XNYS calendar', () => {
  it('has a version string', () => assert.match(CALENDAR_VERSION, /^XNYS-2018-2027\.\d+$/));

  // Expected lists copied from NYSE's published holiday schedules.
  const published: Record<number, [string[], string[]]> = {
    2018: [
      [
        '2018-01-01',
        '2018-01-15',
        '2018-02-19',
        '2018-03-30',
        '2018-05-28',
        '2018-07-04',
        '2018-09-03',
        '2018-11-22',
        '2018-12-05',
        '2018-12-25',
      ],
      ['2018-07-03', '2018-11-23', '2018-12-24'],
    ],
    2020: [
      ['2020-01-01', '2020-01-20', '2020-02-17', '2020-04-10', '2020-05-25', '2020-07-03', '2020-09-07', '2020-11-26', '2020-12-25'],
      ['2020-11-27', '2020-12-24'],
    ],
    2021: [
      ['2021-01-01', '2021-01-18', '2021-02-15', '2021-04-02', '2021-05-31', '2021-07-05', '2021-09-06', '2021-11-25', '2021-12-24'],
      ['2021-11-26'],
    ],
    2022: [
      ['2022-01-17', '2022-02-21', '2022-04-15', '2022-05-30', '2022-06-20', '2022-07-04', '2022-09-05', '2022-11-24', '2022-12-26'],
      ['2022-11-25'],
    ],
    2023: [
      [
        '2023-01-02',
        '2023-01-16',
        '2023-02-20',
        '2023-04-07',
        '2023-05-29',
        '2023-06-19',
        '2023-07-04',
        '2023-09-04',
        '2023-11-23',
        '2023-12-25',
      ],
      ['2023-07-03', '2023-11-24'],
    ],
    2024: [
      [
        '2024-01-01',
        '2024-01-15',
        '2024-02-19',
        '2024-03-29',
        '2024-05-27',
        '2024-06-19',
        '2024-07-04',
        '2024-09-02',
        '2024-11-28',
        '2024-12-25',
      ],
      ['2024-07-03', '2024-11-29', '2024-12-24'],
    ],
    2025: [
      [
        '2025-01-01',
        '2025-01-09',
        '2025-01-20',
        '2025-02-17',
        '2025-04-18',
        '2025-05-26',
        '2025-06-19',
        '2025-07-04',
        '2025-09-01',
        '2025-11-27',
        '2025-12-25',
      ],
      ['2025-07-03', '2025-11-28', '2025-12-24'],
    ],
    2026: [
      [
        '2026-01-01',
        '2026-01-19',
        '2026-02-16',
        '2026-04-03',
        '2026-05-25',
        '2026-06-19',
        '2026-07-03',
        '2026-09-07',
        '2026-11-26',
        '2026-12-25',
      ],
      ['2026-11-27', '2026-12-24'],
    ],
    2027: [
      [
        '2027-01-01',
        '2027-01-18',
        '2027-02-15',
        '2027-03-26',
        '2027-05-31',
        '2027-06-18',
        '2027-07-05',
        '2027-09-06',
        '2027-11-25',
        '2027-12-24',
      ],
      ['2027-11-26'],
    ],
  };
  for (const [year, [hol, early]] of Object.entries(published)) {
    it(`matches NYSE's published ${year} holidays and early closes`, () => {
      assert.deepEqual(holidays(Number(year)), hol);
      assert.deepEqual(earlyCloses(Number(year)), early);
    });
  }

  it('computes Easter by the Gregorian computus', () => {
    assert.equal(isoDate(easterSunday(2019)), '2019-04-21');
    assert.equal(isoDate(easterSunday(2024)), '2024-03-31');
    assert.equal(isoDate(easterSunday(2038)), '2038-04-25');
  });

  it('Good Friday and Juneteenth-observed are closed; the weekday after is open', () => {
    assert.equal(isTradingDay(d('2024-03-29')), false);
    assert.equal(isTradingDay(d('2024-04-01')), true);
    assert.equal(isTradingDay(d('2022-06-20')), false);
    assert.equal(isTradingDay(d('2022-06-21')), true);
    assert.equal(isTradingDay(d('2021-06-18')), true, 'Juneteenth is not an NYSE holiday before 2022');
    assert.equal(isTradingDay(d('2021-12-31')), true, 'Saturday New Year is not observed on Friday');
  });

  it('early close: 13:00 New York on 2024-11-29 (EST) and 2024-07-03 (EDT)', () => {
    assert.equal(isEarlyClose(d('2024-11-29')), true);
    assert.deepEqual(sessionBoundsNs(d('2024-11-29')), { openNs: ns('2024-11-29T14:30:00Z'), closeNs: ns('2024-11-29T18:00:00Z') });
    assert.deepEqual(sessionBoundsNs(d('2024-07-03')), { openNs: ns('2024-07-03T13:30:00Z'), closeNs: ns('2024-07-03T17:00:00Z') });
    assert.equal(sessionBoundsNs(d('2024-07-04')), null);
  });

  it('session bounds follow DST on the transition weeks', () => {
    assert.equal(sessionBoundsNs(d('2024-03-08'))!.openNs, ns('2024-03-08T14:30:00Z'));
    assert.equal(sessionBoundsNs(d('2024-03-11'))!.openNs, ns('2024-03-11T13:30:00Z'));
    assert.equal(sessionBoundsNs(d('2024-11-01'))!.closeNs, ns('2024-11-01T20:00:00Z'));
    assert.equal(sessionBoundsNs(d('2024-11-04'))!.closeNs, ns('2024-11-04T21:00:00Z'));
    assert.equal(sessionBoundsNs(d('2024-03-10')), null);
  });

  it('New York dates around the DST midnights', () => {
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-03-10T04:59:00Z'))), '2024-03-09');
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-03-10T05:00:00Z'))), '2024-03-10');
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-03-11T03:59:00Z'))), '2024-03-10');
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-03-11T04:00:00Z'))), '2024-03-11');
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-11-03T03:59:00Z'))), '2024-11-02');
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-11-03T04:00:00Z'))), '2024-11-03');
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-11-04T04:59:00Z'))), '2024-11-03');
    assert.equal(isoDate(nyDayOfUtcNs(ns('2024-11-04T05:00:00Z'))), '2024-11-04');
  });

  it('agrees with Intl (America/New_York) on every hour of 2018–2027 and on pre-2007 dates', () => {
    const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });
    const cursor = new NyDayCursor();
    for (let t = Date.parse('2018-01-01T00:30:00Z'); t < Date.parse('2028-01-01T00:00:00Z'); t += 3_600_000) {
      const expected = fmt.format(new Date(t));
      assert.equal(isoDate(cursor.dayOf(t * 1e6)), expected, new Date(t).toISOString());
    }
    assert.equal(localToUtcNs(d('2005-07-01'), 9 * 60 + 30), ns('2005-07-01T13:30:00Z'));
    assert.equal(localToUtcNs(d('2005-01-03'), 9 * 60 + 30), ns('2005-01-03T14:30:00Z'));
  });

  it('rthMask keeps 09:30 ≤ start < close on trading days only (16:00 bar out, early close at 13:00)', () => {
    const ts = Float64Array.from(
      [
        '2024-03-08T14:29:00Z',
        '2024-03-08T14:30:00Z',
        '2024-03-08T20:59:00Z',
        '2024-03-08T21:00:00Z',
        '2024-03-11T13:30:00Z',
        '2024-03-29T15:00:00Z',
        '2024-11-29T17:59:00Z',
        '2024-11-29T18:00:00Z',
      ].map(ns),
    );
    assert.deepEqual([...rthMask(ts)], [0, 1, 1, 0, 1, 0, 1, 0]);
  });

  it('refuses dates outside the calendar range with a clear error', () => {
    assert.throws(() => isTradingDay(d('2017-06-01')), /covers 2018-01-01\.\.2027-12-31; got a date in 2017/);
  });
});
