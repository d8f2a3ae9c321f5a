/**
 * NYSE (XNYS) trading calendar 2018–2027: regular session 09:30–16:00 America/New_York,
 * full-day holidays by rule, special closures, and 13:00 early closes.
 *
 * Rules (NYSE Rule 7.2 as applied in its published holiday schedules):
 * - New Year's Day: Sunday → Monday; Saturday → not observed (no Friday Dec 31 closure).
 * - Juneteenth (from 2022), Independence Day, Christmas: Saturday → Friday, Sunday → Monday.
 * - MLK (3rd Mon Jan), Washington's Birthday (3rd Mon Feb), Good Friday (Easter − 2),
 *   Memorial (last Mon May), Labor (1st Mon Sep), Thanksgiving (4th Thu Nov).
 * - Special closures: 2018-12-05 (President G.H.W. Bush), 2025-01-09 (President Carter).
 * - Early closes (13:00): July 3 when it falls Monday–Thursday (July 4 a weekday holiday on the
 *   next day; no early close when the holiday is observed on Friday July 3 or Monday July 5),
 *   the day after Thanksgiving, and December 24 when it is a trading weekday.
 */
import { dayNumber, weekday, nthWeekday, civil, isoDate, localToUtcNs, NyDayCursor } from './newYork.ts';

/** Goes into every run manifest; bump when any rule or date changes. */
export const CALENDAR_VERSION = 'XNYS-2018-2027.1';
export const CALENDAR_FIRST_YEAR = 2018;
export const CALENDAR_LAST_YEAR = 2027;

const OPEN_MINUTE = 9 * 60 + 30;
const CLOSE_MINUTE = 16 * 60;
const EARLY_CLOSE_MINUTE = 13 * 60;

const SPECIAL_CLOSURES: readonly [number, number, number][] = [
  [2018, 12, 5],
  [2025, 1, 9],
];

/** Easter Sunday (Gregorian), anonymous Gregorian computus (Meeus/Jones/Butcher). */
export function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumber(year, month, day);
}

/** Saturday → Friday, Sunday → Monday. */
function observed(day: number): number {
  const wd = weekday(day);
  return wd === 6 ? day - 1 : wd === 0 ? day + 1 : day;
}

interface YearTable {
  holidays: Set<number>;
  earlyCloses: Set<number>;
}
const years = new Map<number, YearTable>();

function yearTable(year: number): YearTable {
  let t = years.get(year);
  if (t) return t;
  if (year < CALENDAR_FIRST_YEAR || year > CALENDAR_LAST_YEAR) {
    throw new RangeError(
      `XNYS calendar ${CALENDAR_VERSION} covers ${CALENDAR_FIRST_YEAR}-01-01..${CALENDAR_LAST_YEAR}-12-31; got a date in ${year}`,
    );
  }
  const holidays = new Set<number>();
  const ny = dayNumber(year, 1, 1);
  if (weekday(ny) === 0) holidays.add(ny + 1);
  else if (weekday(ny) !== 6) holidays.add(ny);
  holidays.add(nthWeekday(year, 1, 1, 3));
  holidays.add(nthWeekday(year, 2, 1, 3));
  holidays.add(easterSunday(year) - 2);
  holidays.add(nthWeekday(year, 5, 1, -1));
  if (year >= 2022) holidays.add(observed(dayNumber(year, 6, 19)));
  holidays.add(observed(dayNumber(year, 7, 4)));
  holidays.add(nthWeekday(year, 9, 1, 1));
  const thanksgiving = nthWeekday(year, 11, 4, 4);
  holidays.add(thanksgiving);
  holidays.add(observed(dayNumber(year, 12, 25)));
  for (const [y, m, d] of SPECIAL_CLOSURES) if (y === year) holidays.add(dayNumber(y, m, d));

  const earlyCloses = new Set<number>();
  const jul3 = dayNumber(year, 7, 3);
  if (weekday(jul3) >= 1 && weekday(jul3) <= 4) earlyCloses.add(jul3);
  earlyCloses.add(thanksgiving + 1);
  const dec24 = dayNumber(year, 12, 24);
  if (weekday(dec24) >= 1 && weekday(dec24) <= 5 && !holidays.has(dec24)) earlyCloses.add(dec24);
  t = { holidays, earlyCloses };
  years.set(year, t);
  return t;
}

/** True when the local New York date (day number) is an XNYS trading day. */
export function isTradingDay(dayNum: number): boolean {
  const wd = weekday(dayNum);
  if (wd === 0 || wd === 6) return false;
  return !yearTable(civil(dayNum).year).holidays.has(dayNum);
}

export function isEarlyClose(dayNum: number): boolean {
  return isTradingDay(dayNum) && yearTable(civil(dayNum).year).earlyCloses.has(dayNum);
}

/** Regular session bounds in UTC ns [open, close) of a trading day, or null on a closed day. */
export function sessionBoundsNs(dayNum: number): { openNs: number; closeNs: number } | null {
  if (!isTradingDay(dayNum)) return null;
  const closeMinute = isEarlyClose(dayNum) ? EARLY_CLOSE_MINUTE : CLOSE_MINUTE;
  return { openNs: localToUtcNs(dayNum, OPEN_MINUTE), closeNs: localToUtcNs(dayNum, closeMinute) };
}

/** Holidays (full closures) of a year as YYYY-MM-DD, sorted. */
export function holidays(year: number): string[] {
  return [...yearTable(year).holidays].sort((a, b) => a - b).map(isoDate);
}

export function earlyCloses(year: number): string[] {
  return [...yearTable(year).earlyCloses]
    .filter(isTradingDay)
    .sort((a, b) => a - b)
    .map(isoDate);
}

/**
 * Marks the bars whose minute start lies in the regular session (docs/times.md, session `rth`):
 * a trading day and 09:30 ≤ start < close. One calendar lookup per New York date.
 */
export function rthMask(ts: Float64Array, length = ts.length): Uint8Array {
  const mask = new Uint8Array(length);
  const days = new NyDayCursor();
  let lastDay = NaN;
  let openNs = 0;
  let closeNs = 0;
  for (let i = 0; i < length; i++) {
    const t = ts[i]!;
    const day = days.dayOf(t);
    if (day !== lastDay) {
      lastDay = day;
      const b = sessionBoundsNs(day);
      openNs = b ? b.openNs : 0;
      closeNs = b ? b.closeNs : 0;
    }
    mask[i] = t >= openNs && t < closeNs ? 1 : 0;
  }
  return mask;
}
