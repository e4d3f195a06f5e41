/*
 * The serving policy of a stage: when a stopped model may be started for waiting images and when a running one is
 * stopped. Plain data read once from the stage's parameters (see config.ts), so the classify and serving-check
 * Lambdas and the cost simulator (simulate.ts) decide with the very same values.
 */

/** Wall-clock hours in the policy's time zone during which no on-demand start is made, e.g. 20:00–07:00. */
export interface QuietHours {
  /** Minutes after local midnight the quiet period begins (inclusive). */
  readonly fromMinute: number;
  /** Minutes after local midnight it ends (exclusive); below `fromMinute` means it runs past midnight. */
  readonly toMinute: number;
}

export interface ServingPolicy {
  /** Start the promoted model when classify stores an image PENDING because the model is stopped. */
  readonly onDemandStart: boolean;
  /** A running model that answered nothing for this long is stopped (0 turns idle stop off). */
  readonly idleStopMs: number;
  /** Classify records use at most this often per model (one conditional write, not one per image). */
  readonly usageMarkMs: number;
  /** A start or stop request older than this is taken as abandoned (its execution died), so another may be made. */
  readonly requestTimeoutMs: number;
  /** After a start failed, on-demand starts wait this long, so a broken model is not restarted for every image. */
  readonly startRetryMs: number;
  readonly quietHours: QuietHours | undefined;
  /** Serving hours a day (in `timeZone`) after which the model is stopped and not started again until the next day. */
  readonly dailyCapMs: number | undefined;
  /** IANA zone of quiet hours and of the day the cap counts. */
  readonly timeZone: string;
}

const MINUTE = 60_000;

export const DEFAULT_POLICY: ServingPolicy = {
  onDemandStart: true,
  idleStopMs: 5 * MINUTE,
  usageMarkMs: MINUTE,
  requestTimeoutMs: 70 * MINUTE,
  startRetryMs: 15 * MINUTE,
  quietHours: undefined,
  dailyCapMs: undefined,
  timeZone: 'UTC',
};

export class ServingPolicyError extends Error {
  override readonly name = 'ServingPolicyError';
}

/** `HH:MM-HH:MM` (24 h), e.g. `20:00-07:00`; empty or `off` for none. */
export function parseQuietHours(text: string | undefined): QuietHours | undefined {
  const value = text?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'off') return undefined;
  const match = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(value);
  const minute = (h: string | undefined, m: string | undefined): number => {
    const hours = Number(h);
    const minutes = Number(m);
    if (!(hours >= 0 && hours <= 24 && minutes >= 0 && minutes < 60) || (hours === 24 && minutes > 0)) {
      throw new ServingPolicyError(`quiet hours "${value}": ${h ?? '?'}:${m ?? '?'} is not a time of day`);
    }
    return hours * 60 + minutes;
  };
  if (!match) throw new ServingPolicyError(`quiet hours "${value}" are not HH:MM-HH:MM (or "off")`);
  const fromMinute = minute(match[1], match[2]);
  const toMinute = minute(match[3], match[4]);
  if (fromMinute === toMinute) throw new ServingPolicyError(`quiet hours "${value}" start and end at the same time`);
  return { fromMinute, toMinute };
}

/** Throws for a zone the runtime does not know, so a typo fails at cold start instead of at the first decision. */
export function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
  } catch (error) {
    throw new ServingPolicyError(`time zone "${timeZone}" is not an IANA zone`, { cause: error });
  }
  return timeZone;
}
