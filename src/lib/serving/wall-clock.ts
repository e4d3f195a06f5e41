/** Local wall-clock facts of an instant in an IANA zone (quiet hours, the day a serving cap counts). */

export interface WallClock {
  /** `YYYY-MM-DD` in the zone. */
  readonly day: string;
  /** Minutes after local midnight. */
  readonly minuteOfDay: number;
  /** Milliseconds since local midnight. */
  readonly msSinceMidnight: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, format);
  }
  return format;
}

export function wallClock(now: number, timeZone: string): WallClock {
  if (timeZone === 'UTC') {
    const date = new Date(now);
    const ms = now - Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
    return { day: date.toISOString().slice(0, 10), minuteOfDay: Math.floor(ms / 60_000), msSinceMidnight: ms };
  }
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(now).map((part) => [part.type, part.value]));
  const hours = Number(parts.hour);
  const minutes = Number(parts.minute);
  const seconds = Number(parts.second);
  return {
    day: `${parts.year ?? ''}-${parts.month ?? ''}-${parts.day ?? ''}`,
    minuteOfDay: hours * 60 + minutes,
    msSinceMidnight: ((hours * 60 + minutes) * 60 + seconds) * 1000 + (now % 1000),
  };
}
