/**
 * America/New_York wall-clock arithmetic without Intl in the hot path.
 *
 * From 2007 on, US DST runs from the second Sunday of March at 02:00 local (07:00 UTC) to the
 * first Sunday of November at 02:00 local (06:00 UTC). Those rules are applied directly; for
 * years before 2007 a per-date Intl lookup is cached (never per bar).
 *
 * Days are identified by a day number: days since 1970-01-01 of the *local* date.
 */

export const MS_PER_DAY = 86_400_000;
export const NS_PER_MS = 1_000_000;
const NS_PER_DAY = 86_400_000_000_000;

/** Day number (days since 1970-01-01) of a civil date. */
export function dayNumber(year: number, month1: number, day: number): number {
  return Date.UTC(year, month1 - 1, day) / MS_PER_DAY;
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(dayNum: number): number {
  return (((dayNum + 4) % 7) + 7) % 7;
}

/** YYYY-MM-DD of a day number. */
export function isoDate(dayNum: number): string {
  return new Date(dayNum * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * Gregorian year of a day number, in integer arithmetic (H. Hinnant's civil_from_days): the
 * offset lookups run once per New York date over millions of bars, and a Date per call was
 * most of their cost.
 */
export function yearOfDay(dayNum: number): number {
  const z = dayNum + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097; // [0, 146096]
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365); // [0, 399]
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100)); // [0, 365], from March 1
  const mp = Math.floor((5 * doy + 2) / 153); // [0, 11], March = 0
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

export function civil(dayNum: number): { year: number; month: number; day: number } {
  const d = new Date(dayNum * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Day number of the n-th (1-based) weekday `wd` of a month; n = -1 for the last one. */
export function nthWeekday(year: number, month1: number, wd: number, n: number): number {
  if (n > 0) {
    const first = dayNumber(year, month1, 1);
    return first + ((wd - weekday(first) + 7) % 7) + (n - 1) * 7;
  }
  const last = dayNumber(year, month1 + 1, 1) - 1;
  return last - ((weekday(last) - wd + 7) % 7);
}

// DST transition days of the last year asked for (2007+ rules): lookups come in date order.
let dstYear = NaN;
let dstStart = 0;
let dstEnd = 0;

const intlCache = new Map<number, number>();
let intlFmt: Intl.DateTimeFormat | undefined;
/** UTC offset in minutes (negative west) at a UTC instant, via Intl (pre-2007 fallback, cached by caller). */
function intlOffsetMinutes(utcMs: number): number {
  intlFmt ??= new Intl.DateTimeFormat('en-US', {
    timeZone: 'America/New_York',
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const p: Record<string, number> = {};
  for (const part of intlFmt.formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/**
 * UTC offset in minutes (−240 or −300) in effect at local time `localMinute` (minutes after
 * local midnight, 0 ≤ m < 1440) of local day `dayNum`. Only called for hours away from the
 * 01:00–03:00 transition window in practice (midnight and 09:30–16:00).
 */
export function offsetAtLocal(dayNum: number, localMinute: number): number {
  const year = yearOfDay(dayNum);
  if (year < 2007) {
    const key = dayNum * 1440 + localMinute;
    let v = intlCache.get(key);
    if (v === undefined) {
      // Guess EST, then correct once with the offset found there.
      const guess = (dayNum * 1440 + localMinute + 300) * 60_000;
      const off = intlOffsetMinutes(guess);
      v = intlOffsetMinutes((dayNum * 1440 + localMinute - off) * 60_000);
      intlCache.set(key, v);
    }
    return v;
  }
  if (year !== dstYear) {
    dstStart = nthWeekday(year, 3, 0, 2);
    dstEnd = nthWeekday(year, 11, 0, 1);
    dstYear = year;
  }
  const afterStart = dayNum > dstStart || (dayNum === dstStart && localMinute >= 120);
  const beforeEnd = dayNum < dstEnd || (dayNum === dstEnd && localMinute < 120);
  return afterStart && beforeEnd ? -240 : -300;
}

/** UTC epoch ns of local time (dayNum, localMinute) in New York. */
export function localToUtcNs(dayNum: number, localMinute: number): number {
  return (dayNum * 1440 + localMinute - offsetAtLocal(dayNum, localMinute)) * 60_000 * NS_PER_MS;
}

/** Local (New York) day number of a UTC instant in ns. */
export function nyDayOfUtcNs(tsNs: number): number {
  // The NY date is the UTC date of (ts − 4 h) or (ts − 5 h); probe the candidate day's bounds.
  let day = Math.floor((tsNs - 5 * 3_600_000_000_000) / NS_PER_DAY);
  if (tsNs >= localToUtcNs(day + 1, 0)) day += 1;
  return day;
}

/**
 * Streams New York day numbers over ascending timestamps with one boundary computation per
 * local day: `dayOf(ts)` is O(1) amortized while ts is non-decreasing (any order still works).
 */
export class NyDayCursor {
  day = NaN;
  /** UTC ns bounds [startNs, endNs) of `day` (after the last dayOf call). */
  startNs = Infinity;
  endNs = -Infinity;

  dayOf(tsNs: number): number {
    if (tsNs >= this.startNs && tsNs < this.endNs) return this.day;
    const day = nyDayOfUtcNs(tsNs);
    // the next date starts where this one ended: one boundary computation per date in order
    this.startNs = day === this.day + 1 ? this.endNs : localToUtcNs(day, 0);
    this.day = day;
    this.endNs = localToUtcNs(day + 1, 0);
    return day;
  }
}
