import { describe, expect, it } from 'vitest';
import { EXECUTION_APPEAR_MS, inQuietHours, onDemandStart, requestEndedUnrecorded, servedAfterStop, servedTodayMs, servingCheck, servingExecutionName, usageMarkDue } from '../../../src/lib/serving/decisions.js';
import type { ServingState } from '../../../src/lib/serving/decisions.js';
import { DEFAULT_POLICY, parseQuietHours } from '../../../src/lib/serving/policy.js';
import type { ServingPolicy } from '../../../src/lib/serving/policy.js';

const MINUTE = 60_000;
const NOW = Date.parse('2026-12-01T10:00:00.000Z');

const stopped: ServingState = {
  running: false,
  gateRejected: false,
  request: undefined,
  startedAt: NOW - 120 * MINUTE,
  lastUsedAt: NOW - 100 * MINUTE,
  lastStartFailedAt: undefined,
  served: undefined,
  hold: undefined,
};
const running: ServingState = { ...stopped, running: true, startedAt: NOW - 20 * MINUTE, lastUsedAt: NOW - 2 * MINUTE };
const policy: ServingPolicy = { ...DEFAULT_POLICY, idleStopMs: 5 * MINUTE };

describe('onDemandStart', () => {
  it('starts a stopped model with nothing in flight', () => {
    expect(onDemandStart(stopped, NOW, policy)).toEqual({ start: true, reason: 'on-demand' });
  });

  it.each([
    ['disabled', stopped, { onDemandStart: false }],
    ['running', running, {}],
    ['gate-rejected', { ...stopped, gateRejected: true }, {}],
    ['held', { ...stopped, hold: { at: NOW - MINUTE, until: undefined, releasedAt: undefined } }, {}],
    ['held', { ...stopped, hold: { at: NOW - MINUTE, until: NOW + 1, releasedAt: undefined } }, {}],
    ['in-flight', { ...stopped, request: { kind: 'START' as const, at: NOW - MINUTE } }, {}],
    ['in-flight', { ...stopped, request: { kind: 'STOP' as const, at: NOW - MINUTE } }, {}],
    ['start-backoff', { ...stopped, lastStartFailedAt: NOW - 5 * MINUTE }, {}],
    ['quiet-hours', stopped, { quietHours: parseQuietHours('09:30-10:30') }],
    ['daily-cap', { ...stopped, served: { day: '2026-12-01', ms: 2 * 60 * MINUTE } }, { dailyCapMs: 2 * 60 * MINUTE }],
  ])('waits: %s', (why, state, change) => {
    expect(onDemandStart(state, NOW, { ...policy, ...change })).toEqual({ start: false, why });
  });

  it('starts again once a hold is released or its until has passed', () => {
    expect(onDemandStart({ ...stopped, hold: { at: NOW - 9 * MINUTE, until: undefined, releasedAt: NOW - MINUTE } }, NOW, policy).start).toBe(true);
    expect(onDemandStart({ ...stopped, hold: { at: NOW - 9 * MINUTE, until: NOW, releasedAt: undefined } }, NOW, policy).start).toBe(true);
  });

  it('takes over a request older than the request timeout (its run died)', () => {
    expect(onDemandStart({ ...stopped, request: { kind: 'START', at: NOW - policy.requestTimeoutMs } }, NOW, policy).start).toBe(true);
  });

  it('starts again once the back-off after a failed start is over, and on a new day after the cap', () => {
    expect(onDemandStart({ ...stopped, lastStartFailedAt: NOW - policy.startRetryMs }, NOW, policy).start).toBe(true);
    expect(onDemandStart({ ...stopped, served: { day: '2026-11-30', ms: 10 * 60 * MINUTE } }, NOW, { ...policy, dailyCapMs: 60 * MINUTE }).start).toBe(true);
  });
});

describe('servingCheck', () => {
  it('stops a held model that runs anyway (a start that raced the user\'s stop), busy or not, once nothing is in flight', () => {
    const held = { at: NOW - MINUTE, until: undefined, releasedAt: undefined };
    expect(servingCheck({ ...running, hold: held }, NOW, policy, true)).toEqual({ action: 'stop', reason: 'user' });
    expect(servingCheck({ ...running, hold: held, request: { kind: 'STOP', at: NOW - MINUTE } }, NOW, policy, false)).toEqual({ action: 'none', why: 'in-flight' });
    expect(servingCheck({ ...stopped, hold: held }, NOW, policy, true)).toEqual({ action: 'none', why: 'held' });
  });

  it('stops a model idle for idleStopMs, counting from its start when it answered nothing since', () => {
    expect(servingCheck({ ...running, lastUsedAt: NOW - 5 * MINUTE }, NOW, policy, false)).toEqual({ action: 'stop', reason: 'idle' });
    expect(servingCheck({ ...running, lastUsedAt: NOW - 4 * MINUTE }, NOW, policy, false)).toEqual({ action: 'none', why: 'in-use' });
    expect(servingCheck({ ...running, startedAt: NOW - 3 * MINUTE, lastUsedAt: NOW - 90 * MINUTE }, NOW, policy, false).action).toBe('none');
  });

  it('keeps a model that still has waiting images (a re-drive in progress), and never acts while a request is in flight', () => {
    expect(servingCheck({ ...running, lastUsedAt: NOW - 60 * MINUTE }, NOW, policy, true)).toEqual({ action: 'none', why: 'pending-work' });
    expect(servingCheck({ ...running, lastUsedAt: NOW - 60 * MINUTE, request: { kind: 'STOP', at: NOW - MINUTE } }, NOW, policy, false)).toEqual({ action: 'none', why: 'in-flight' });
  });

  it('stops at the daily cap even with waiting images, and does not stop when idle stop is off', () => {
    const capped = { ...running, startedAt: NOW - 61 * MINUTE };
    expect(servingCheck(capped, NOW, { ...policy, dailyCapMs: 60 * MINUTE }, true)).toEqual({ action: 'stop', reason: 'cap' });
    expect(servingCheck({ ...running, lastUsedAt: NOW - 60 * MINUTE }, NOW, { ...policy, idleStopMs: 0 }, false)).toEqual({ action: 'none', why: 'idle-stop-off' });
  });

  it('starts a stopped model for images still waiting, under the same rules as classify', () => {
    expect(servingCheck(stopped, NOW, policy, true)).toEqual({ action: 'start', reason: 'on-demand' });
    expect(servingCheck(stopped, NOW, policy, false)).toEqual({ action: 'none', why: 'no-work' });
    expect(servingCheck({ ...stopped, gateRejected: true }, NOW, policy, true)).toEqual({ action: 'none', why: 'gate-rejected' });
  });
});

describe('serving time and the daily cap', () => {
  it('counts the current run from local midnight plus earlier runs of the same day', () => {
    const state: ServingState = { ...running, startedAt: Date.parse('2026-11-30T23:00:00Z'), served: { day: '2026-12-01', ms: 30 * MINUTE } };
    expect(servedTodayMs(state, NOW, policy)).toBe(30 * MINUTE + 10 * 60 * MINUTE);
    expect(servedAfterStop(state, NOW, policy)).toEqual({ day: '2026-12-01', ms: 30 * MINUTE + 10 * 60 * MINUTE });
  });

  it('reads the day in the policy zone (Sydney is already on 2 December at 14:00 UTC)', () => {
    const at = Date.parse('2026-12-01T14:00:00Z');
    expect(servedAfterStop({ ...stopped, served: { day: '2026-12-01', ms: MINUTE } }, at, { ...policy, timeZone: 'Australia/Sydney' })).toEqual({ day: '2026-12-02', ms: 0 });
  });
});

describe('quiet hours, usage marks and execution names', () => {
  it('handles quiet hours across midnight in the policy zone', () => {
    const quiet = { ...policy, quietHours: parseQuietHours('20:00-07:00'), timeZone: 'Europe/London' };
    expect(inQuietHours(Date.parse('2026-12-01T21:00:00Z'), quiet)).toBe(true);
    expect(inQuietHours(Date.parse('2026-12-01T06:59:00Z'), quiet)).toBe(true);
    expect(inQuietHours(Date.parse('2026-12-01T07:00:00Z'), quiet)).toBe(false);
    // British Summer Time: 06:30 UTC is 07:30 in London.
    expect(inQuietHours(Date.parse('2026-07-01T06:30:00Z'), quiet)).toBe(false);
  });

  it('refuses malformed quiet hours', () => {
    expect(parseQuietHours('off')).toBeUndefined();
    expect(() => parseQuietHours('8-17')).toThrow('HH:MM-HH:MM');
    expect(() => parseQuietHours('25:00-07:00')).toThrow('not a time of day');
    expect(() => parseQuietHours('07:00-07:00')).toThrow('same time');
  });

  it('marks use once per interval', () => {
    expect(usageMarkDue(undefined, NOW, policy)).toBe(true);
    expect(usageMarkDue(NOW - 59_999, NOW, policy)).toBe(false);
    expect(usageMarkDue(NOW - 60_000, NOW, policy)).toBe(true);
  });

  it('names executions after the request time, valid for Step Functions', () => {
    const name = servingExecutionName('start', 'on-demand', NOW);
    expect(name).toBe('on-demand-start-20261201T100000000Z');
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});

describe('requestEndedUnrecorded', () => {
  const start = { kind: 'START' as const, at: NOW - 10 * MINUTE, executionName: 'on-demand-start-x' };
  const stop = { kind: 'STOP' as const, at: NOW - 10 * MINUTE, executionName: 'idle-stop-x' };

  it('leaves a request whose run still runs (or waits for a redrive)', () => {
    expect(requestEndedUnrecorded(start, 'RUNNING', NOW)).toBeUndefined();
    expect(requestEndedUnrecorded(stop, 'PENDING_REDRIVE', NOW)).toBeUndefined();
  });

  it.each([
    ['FAILED', true],
    ['TIMED_OUT', true],
    ['ABORTED', false],
    ['SUCCEEDED', false],
  ] as const)('ends a start whose run is %s, backing on-demand starts off: %s', (status, backOff) => {
    expect(requestEndedUnrecorded(start, status, NOW)).toEqual({ kind: 'START', error: `execution-ended-unrecorded: ${status}`, backOff });
  });

  it('ends a stop whose run failed, with no start back-off', () => {
    expect(requestEndedUnrecorded(stop, 'FAILED', NOW)).toEqual({ kind: 'STOP', error: 'execution-ended-unrecorded: FAILED', backOff: false });
  });

  it('gives a just-claimed request time for its StartExecution, then ends one whose run never appeared', () => {
    expect(requestEndedUnrecorded({ ...start, at: NOW - EXECUTION_APPEAR_MS + 1 }, 'NOT_FOUND', NOW)).toBeUndefined();
    expect(requestEndedUnrecorded({ ...start, at: NOW - EXECUTION_APPEAR_MS }, 'NOT_FOUND', NOW)).toEqual({ kind: 'START', error: 'execution-never-started', backOff: false });
  });
});
