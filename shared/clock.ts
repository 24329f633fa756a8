/** Hour and weekday where the visitor is. `weekday` counts from Sunday = 0, as `Date#getDay` does. */
export interface LocalClock {
  localHour: number;
  weekday: number;
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

// Building a formatter costs far more than using one. Only zones Intl accepted get here, so the map
// stays within the few hundred IANA names.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23", weekday: "short" });
    } catch {
      return null;
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isTimeZone(name: string): boolean {
  return formatterFor(name) !== null;
}

const QUARTER_HOUR_MS = 15 * 60_000;

// Every UTC offset in use is a whole number of quarter hours, so within one UTC quarter hour the
// local hour and weekday of a zone cannot change: one lookup serves all of a zone's requests in it.
const recent = new Map<string, { bucket: number; clock: LocalClock }>();

/** The local clock in `timeZone` at `now`; UTC when the zone is absent or unknown. */
export function localClock(timeZone: string | undefined, now: number): LocalClock {
  const zone = timeZone && formatterFor(timeZone) ? timeZone : "UTC";
  const bucket = Math.floor(now / QUARTER_HOUR_MS);
  const cached = recent.get(zone);
  if (cached?.bucket === bucket) return cached.clock;
  const clock = formatClock(formatterFor(zone)!, bucket * QUARTER_HOUR_MS);
  recent.set(zone, { bucket, clock });
  return clock;
}

function formatClock(formatter: Intl.DateTimeFormat, at: number): LocalClock {
  let localHour = 0;
  let weekday = 0;
  for (const part of formatter.formatToParts(at)) {
    if (part.type === "hour") localHour = Number(part.value) % 24;
    else if (part.type === "weekday") weekday = WEEKDAYS[part.value] ?? 0;
  }
  return { localHour, weekday };
}
