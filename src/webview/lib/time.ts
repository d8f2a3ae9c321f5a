/**
 * Times in the display time zone (data stays UTC): labels that name the zone, correct across DST
 * changes (every conversion asks Intl for the offset at that instant), axis ticks for charts
 * whose x axis is the bar index, and "wall clock" milliseconds for Plotly date axes (which draw
 * a number as UTC: shifting by the zone's offset at each instant makes it draw local time).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function fmt(tz: string, kind: 'datetime' | 'date' | 'time' | 'parts' | 'zone' | 'month'): Intl.DateTimeFormat {
  const key = `${kind}|${tz}`;
  let f = formatters.get(key);
  if (!f) {
    const base: Intl.DateTimeFormatOptions = { timeZone: tz, hourCycle: 'h23' };
    const opts: Intl.DateTimeFormatOptions =
      kind === 'datetime'
        ? { ...base, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }
        : kind === 'date'
          ? { ...base, year: 'numeric', month: '2-digit', day: '2-digit' }
          : kind === 'time'
            ? { ...base, hour: '2-digit', minute: '2-digit' }
            : kind === 'month'
              ? { ...base, month: 'short', day: 'numeric' }
              : kind === 'zone'
                ? { ...base, timeZoneName: 'short', hour: '2-digit' }
                : { ...base, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' };
    f = new Intl.DateTimeFormat('en-CA', opts);
    formatters.set(key, f);
  }
  return f;
}

/** Is `tz` an IANA zone this runtime knows? */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The zone's abbreviation at an instant (EST / EDT, UTC, GMT+1 …). */
export function zoneAbbrev(ms: number, tz: string): string {
  const p = fmt(tz, 'zone')
    .formatToParts(new Date(ms))
    .find((x) => x.type === 'timeZoneName');
  return p?.value ?? tz;
}

/** Offset of the zone from UTC at an instant, in ms (EST: −5 h). */
export function offsetMs(ms: number, tz: string): number {
  const parts = fmt(tz, 'parts').formatToParts(new Date(ms));
  const v: Record<string, number> = {};
  for (const p of parts) if (p.type !== 'literal') v[p.type] = Number(p.value);
  const asUtc = Date.UTC(v.year!, v.month! - 1, v.day, v.hour === 24 ? 0 : v.hour!, v.minute, v.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** `2024-03-04 09:30 EST`: a UTC instant in the display zone, naming the zone. */
export function fmtDateTime(ms: number | null | undefined, tz: string, withZone = true): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = fmt(tz, 'datetime').format(new Date(ms)).replace(',', '');
  return withZone ? `${s} ${zoneAbbrev(ms, tz)}` : s;
}

export function fmtIso(iso: string | null | undefined, tz: string): string {
  return iso ? fmtDateTime(Date.parse(iso), tz) : '—';
}

export function fmtDate(ms: number, tz: string): string {
  return fmt(tz, 'date').format(new Date(ms));
}

export function fmtTime(ms: number, tz: string): string {
  return fmt(tz, 'time').format(new Date(ms));
}

/** Milliseconds that Plotly, drawing them as UTC, shows as the zone's wall clock. */
export function wallClockMs(ms: number, tz: string): number {
  return ms + offsetMs(ms, tz);
}

const MINUTE = 60_000;
/** Tick spacings tried, finest first: minutes, then days (local midnight), weeks, months. */
const STEPS_MIN = [1, 5, 15, 30, 60, 120, 240];

export interface IndexTicks {
  vals: number[];
  text: string[];
}

/**
 * Ticks for an axis whose x is the bar index: at most `max` ticks at the first bar of each
 * local period (a round minute step, a day, a week or a month) inside [from, to]. Bars come as
 * (index, start ms) pairs in order — buckets of a decimated series are enough.
 */
export function indexTicks(idx: ArrayLike<number>, tsMs: ArrayLike<number>, from: number, to: number, tz: string, max = 8): IndexTicks {
  const pts: { i: number; t: number }[] = [];
  for (let k = 0; k < idx.length; k++) if (idx[k]! >= from && idx[k]! <= to) pts.push({ i: idx[k]!, t: tsMs[k]! });
  if (pts.length === 0) return { vals: [], text: [] };
  const local = pts.map((p) => p.t + offsetMs(p.t, tz));
  const periodOf: ((lt: number) => number)[] = [
    ...STEPS_MIN.map((m) => (lt: number) => Math.floor(lt / (m * MINUTE))),
    (lt) => Math.floor(lt / 86_400_000),
    (lt) => Math.floor((lt / 86_400_000 + 3) / 7), // weeks from Monday
    (lt) => {
      const d = new Date(lt);
      return d.getUTCFullYear() * 12 + d.getUTCMonth();
    },
    (lt) => new Date(lt).getUTCFullYear(),
  ];
  for (let s = 0; s < periodOf.length; s++) {
    const per = periodOf[s]!;
    const starts: number[] = [];
    for (let k = 0; k < pts.length; k++) if (k === 0 || per(local[k]!) !== per(local[k - 1]!)) starts.push(k);
    // the first point only counts as a tick when it starts a period
    if (starts.length > max && s < periodOf.length - 1) continue;
    const intraday = s < STEPS_MIN.length;
    let lastDay = -1;
    const vals: number[] = [];
    const text: string[] = [];
    for (const k of starts) {
      const day = Math.floor(local[k]! / 86_400_000);
      vals.push(pts[k]!.i);
      if (!intraday)
        text.push(
          s >= periodOf.length - 2
            ? fmtDate(pts[k]!.t, tz).slice(0, s === periodOf.length - 1 ? 4 : 7)
            : fmt(tz, 'month').format(new Date(pts[k]!.t)),
        );
      else
        text.push(day !== lastDay ? `${fmt(tz, 'month').format(new Date(pts[k]!.t))} ${fmtTime(pts[k]!.t, tz)}` : fmtTime(pts[k]!.t, tz));
      lastDay = day;
    }
    return { vals, text };
  }
  return { vals: [], text: [] };
}
