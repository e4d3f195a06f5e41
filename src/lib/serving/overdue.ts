import { holdApplies, inQuietHours, servedTodayMs } from './decisions.js';
import type { ServingHold, ServingState } from './decisions.js';
import type { ServingPolicy } from './policy.js';
import { wallClock } from './wall-clock.js';

/*
 * How long the oldest PENDING image has waited for a start that should have come: its age, less the time it
 * waited by the site's own choice (quiet hours, the daily cap, a user's hold). The PENDING-too-long alarm watches
 * this, so it fires when waiting exceeds what a healthy start takes, not every morning after quiet hours.
 */

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;

/**
 * The last instant at or before `now` until which images waited by design; `now` while they still do. `state` is
 * the promoted model's (none before one is); the hold is passed apart, since a user may hold before any model.
 */
export function waitingByDesignUntil(state: ServingState | undefined, hold: ServingHold | undefined, now: number, policy: ServingPolicy): number | undefined {
  const ends: number[] = [];
  if (inQuietHours(now, policy)) return now;
  if (holdApplies(hold, now)) return now;
  if (state && policy.dailyCapMs !== undefined && servedTodayMs(state, now, policy) >= policy.dailyCapMs) return now;
  const clock = wallClock(now, policy.timeZone);
  const midnight = now - clock.msSinceMidnight;
  if (policy.quietHours) {
    // The last end of quiet hours: today's if it has passed, else yesterday's.
    const sinceEnd = (clock.msSinceMidnight - policy.quietHours.toMinute * MINUTE + DAY) % DAY;
    ends.push(now - sinceEnd);
  }
  if (hold) {
    const end = hold.releasedAt ?? hold.until;
    if (end !== undefined && end <= now) ends.push(end);
  }
  if (state?.served && policy.dailyCapMs !== undefined && state.served.ms >= policy.dailyCapMs && state.served.day === wallClock(midnight - 1, policy.timeZone).day) {
    // Yesterday's cap kept images waiting until midnight.
    ends.push(midnight);
  }
  return ends.length === 0 ? undefined : Math.max(...ends);
}

/** Seconds the oldest PENDING image (stored PENDING at `since`) has waited beyond the waiting by design; 0 when none. */
export function overduePendingSeconds(since: string | undefined, state: ServingState | undefined, hold: ServingHold | undefined, now: number, policy: ServingPolicy): number {
  const stored = since === undefined ? Number.NaN : Date.parse(since);
  if (!Number.isFinite(stored)) return 0;
  const from = Math.max(stored, waitingByDesignUntil(state, hold, now, policy) ?? stored);
  return Math.max(0, Math.round((now - from) / 1000));
}
