import type { Promotion } from "./catalogue.ts";

/**
 * When a promotion may be shown: from `start` to `end` (either may be absent), as wall-clock times
 * in the shop's `timeZone`, so that "the Black Friday sale ends at midnight in Paris" is said as
 * such and stays right across daylight-saving changes.
 */
export interface CampaignWindow {
  /** Local date-time, `YYYY-MM-DDTHH:MM` (seconds optional), inclusive. */
  start?: string;
  /** Local date-time, exclusive. */
  end?: string;
  /** IANA time zone, e.g. Europe/Paris. */
  timeZone: string;
}

export const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

const wallClockFormatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `timeZone` at instant `at`, to the second. */
export function wallClock(
  timeZone: string,
  at: number,
): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  let formatter = wallClockFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    wallClockFormatters.set(timeZone, formatter);
  }
  const part: Record<string, number> = {};
  for (const p of formatter.formatToParts(at)) if (p.type !== "literal") part[p.type] = Number(p.value);
  return {
    year: part.year!,
    month: part.month!,
    day: part.day!,
    hour: part.hour! % 24,
    minute: part.minute!,
    second: part.second!,
  };
}

/** How far `timeZone` is ahead of UTC at instant `at`, ms. */
function zoneOffsetMs(timeZone: string, at: number): number {
  const t = wallClock(timeZone, at);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - (at - (at % 1000));
}

/**
 * The instant a local date-time in `timeZone` names. In a spring-forward gap (a time that does not
 * exist) it is the instant an hour later; in a fall-back overlap, the earlier of the two.
 */
export function localTimeToInstant(local: string, timeZone: string): number {
  const m = LOCAL_DATE_TIME.exec(local);
  if (!m) throw new RangeError(`"${local}" is not a local date-time YYYY-MM-DDTHH:MM`);
  const [, y, mo, d, h, mi, s] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  // The offsets in force around the wall time, read as UTC, give the candidates; an instant whose own
  // offset brings it back to the wall time is a real reading of it (two in an overlap: the earlier).
  // In a gap none is, and the later candidate is the wall time moved on by the gap.
  const first = wall - zoneOffsetMs(timeZone, wall);
  const second = wall - zoneOffsetMs(timeZone, first);
  const exact = [first, second].filter((t) => t + zoneOffsetMs(timeZone, t) === wall);
  return exact.length > 0 ? Math.min(...exact) : Math.max(first, second);
}

interface Bounds {
  start: number;
  end: number;
}

// Promotions are immutable once parsed: their bounds are resolved once, not per request.
const boundsOf = new WeakMap<Promotion, Bounds>();

function windowBounds(promotion: Promotion): Bounds {
  let bounds = boundsOf.get(promotion);
  if (bounds === undefined) {
    const window = promotion.eligibility.window;
    bounds = {
      start: window?.start ? localTimeToInstant(window.start, window.timeZone) : Number.NEGATIVE_INFINITY,
      end: window?.end ? localTimeToInstant(window.end, window.timeZone) : Number.POSITIVE_INFINITY,
    };
    boundsOf.set(promotion, bounds);
  }
  return bounds;
}

/** Whether `promotion`'s campaign window holds `now` (one without a window always does). */
export function inCampaignWindow(promotion: Promotion, now: number): boolean {
  const { start, end } = windowBounds(promotion);
  return now >= start && now < end;
}
