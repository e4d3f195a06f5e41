import { describe, expect, it } from 'vitest';
import type { ServingState } from '../../../src/lib/serving/decisions.js';
import { overduePendingSeconds, waitingByDesignUntil } from '../../../src/lib/serving/overdue.js';
import { DEFAULT_POLICY, parseQuietHours } from '../../../src/lib/serving/policy.js';
import type { ServingPolicy } from '../../../src/lib/serving/policy.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const at = (iso: string): number => Date.parse(iso);
const stopped: ServingState = { running: false, gateRejected: false, request: undefined, startedAt: undefined, lastUsedAt: undefined, lastStartFailedAt: undefined, served: undefined, hold: undefined };
const quiet: ServingPolicy = { ...DEFAULT_POLICY, quietHours: parseQuietHours('20:00-07:00'), timeZone: 'Europe/London' };
const overdueMinutes = (since: string, now: string, state: ServingState = stopped, policy: ServingPolicy = DEFAULT_POLICY): number => overduePendingSeconds(since, state, state.hold, at(now), policy) / 60;

describe('overduePendingSeconds: the wait for a start beyond the waiting the site chose', () => {
  it('without quiet hours, a cap or a hold, the whole age is overdue; nothing waiting is 0', () => {
    expect(overdueMinutes('2026-12-01T10:00:00Z', '2026-12-01T10:45:00Z')).toBe(45);
    expect(overduePendingSeconds(undefined, stopped, undefined, at('2026-12-01T10:45:00Z'), DEFAULT_POLICY)).toBe(0);
  });

  it('quiet hours: nothing is overdue during them; after them only the time since they ended counts', () => {
    expect(overdueMinutes('2026-12-01T21:00:00Z', '2026-12-02T06:30:00Z', stopped, quiet)).toBe(0);
    expect(overdueMinutes('2026-12-01T21:00:00Z', '2026-12-02T07:20:00Z', stopped, quiet)).toBe(20);
    // Summer: London is UTC+1, so quiet hours end at 06:00 UTC.
    expect(overdueMinutes('2026-07-01T21:00:00Z', '2026-07-02T06:20:00Z', stopped, quiet)).toBe(20);
    // An image stored after quiet hours ended waits its own age.
    expect(overdueMinutes('2026-12-02T09:00:00Z', '2026-12-02T09:40:00Z', stopped, quiet)).toBe(40);
  });

  it('a user\'s hold: nothing overdue while it holds; after it lapses or is released, the time since', () => {
    const held: ServingState = { ...stopped, hold: { at: at('2026-12-01T08:00:00Z'), until: at('2026-12-01T12:00:00Z'), releasedAt: undefined } };
    expect(overdueMinutes('2026-12-01T09:00:00Z', '2026-12-01T11:59:00Z', held)).toBe(0);
    expect(overdueMinutes('2026-12-01T09:00:00Z', '2026-12-01T12:35:00Z', held)).toBe(35);
    const released: ServingState = { ...stopped, hold: { at: at('2026-12-01T08:00:00Z'), until: undefined, releasedAt: at('2026-12-01T10:00:00Z') } };
    expect(overdueMinutes('2026-12-01T09:00:00Z', '2026-12-01T10:10:00Z', released)).toBe(10);
    // Before any model was promoted there is no model state, and the hold still counts.
    expect(overduePendingSeconds('2026-12-01T09:00:00Z', undefined, held.hold, at('2026-12-01T11:00:00Z'), DEFAULT_POLICY)).toBe(0);
  });

  it('the daily cap: nothing overdue while it is reached; after midnight, only the time since', () => {
    const policy: ServingPolicy = { ...DEFAULT_POLICY, dailyCapMs: 2 * HOUR };
    const capped: ServingState = { ...stopped, served: { day: '2026-12-01', ms: 2 * HOUR } };
    expect(overdueMinutes('2026-12-01T15:00:00Z', '2026-12-01T23:00:00Z', capped, policy)).toBe(0);
    expect(waitingByDesignUntil(capped, undefined, at('2026-12-02T00:25:00Z'), policy)).toBe(at('2026-12-02T00:00:00Z'));
    expect(overdueMinutes('2026-12-01T15:00:00Z', '2026-12-02T00:25:00Z', capped, policy)).toBe(25);
  });
});
