import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/lib/cost.js';
import { cronSchedulesOf, nextFireTime, parseCronSchedule, startCronSchedules } from '../../src/local/cron-schedules.js';
import type { CronSchedule } from '../../src/local/cron-schedules.js';
import type { CfnTemplate } from '../../src/local/template.js';
import { ManualClock } from '../fixtures/manual-clock.js';

const iso = (at: number | undefined): string | undefined => (at === undefined ? undefined : new Date(at).toISOString());
const next = (expression: string, after: string, zone = 'Europe/London'): string | undefined => iso(nextFireTime(parseCron(expression), Date.parse(after), zone));

describe('nextFireTime: EventBridge Scheduler cron on the wall clock of its zone', () => {
  it('the daily stop at 19:00 London: 19:00 UTC in winter, 18:00 UTC in summer', () => {
    expect(next('cron(0 19 * * ? *)', '2026-12-01T10:00:00Z')).toBe('2026-12-01T19:00:00.000Z');
    expect(next('cron(0 19 * * ? *)', '2026-07-01T10:00:00Z')).toBe('2026-07-01T18:00:00.000Z');
    expect(next('cron(0 19 * * ? *)', '2026-12-01T19:00:00Z')).toBe('2026-12-02T19:00:00.000Z');
  });

  it('the weekday start at 07:00 skips the weekend (Friday evening to Monday)', () => {
    expect(next('cron(0 7 ? * MON-FRI *)', '2026-12-04T18:00:00Z')).toBe('2026-12-07T07:00:00.000Z');
  });

  it('DST in Europe/London: a time the spring change skips does not fire that day; one the autumn change repeats fires once', () => {
    // 29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 London does not exist that day.
    expect(next('cron(30 1 * * ? *)', '2026-03-28T12:00:00Z')).toBe('2026-03-30T00:30:00.000Z');
    // 25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:30 London happens twice; it fires at the first.
    expect(next('cron(30 1 * * ? *)', '2026-10-24T12:00:00Z')).toBe('2026-10-25T00:30:00.000Z');
    expect(next('cron(30 1 * * ? *)', '2026-10-25T00:30:00Z')).toBe('2026-10-26T01:30:00.000Z');
    // The daily stop keeps its wall-clock time across the change: 18:00 UTC the day before, 19:00 UTC after.
    expect(next('cron(0 19 * * ? *)', '2026-10-24T12:00:00Z')).toBe('2026-10-24T18:00:00.000Z');
    expect(next('cron(0 19 * * ? *)', '2026-10-25T12:00:00Z')).toBe('2026-10-25T19:00:00.000Z');
  });

  it('reads steps, lists, day-of-month and year, and says when a cron never fires again', () => {
    expect(next('cron(0/20 9 * * ? *)', '2026-12-01T09:25:00Z', 'UTC')).toBe('2026-12-01T09:40:00.000Z');
    expect(next('cron(0 8 1,15 * ? *)', '2026-12-02T00:00:00Z', 'UTC')).toBe('2026-12-15T08:00:00.000Z');
    expect(next('cron(0 8 1 JAN ? 2027)', '2026-12-02T00:00:00Z', 'Europe/Berlin')).toBe('2027-01-01T07:00:00.000Z');
    expect(next('cron(0 8 1 JAN ? 2026)', '2026-12-02T00:00:00Z', 'UTC')).toBeUndefined();
  });
});

describe('parseCronSchedule: the expression and zone a schedule gives, checked with errors that name it', () => {
  it.each([
    ['cron(0 19 * * *)', /StopModelSchedule: "cron\(0 19 \* \* \*\)" is not cron\(minutes hours day-of-month month day-of-week year\)/],
    ['cron(0 19 * * MON *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 19 ? * ? *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(? 19 * * ? *)', /"\?" is only for day-of-month or day-of-week, not minutes/],
    ['cron(0 24 * * ? *)', /"24" is not a value from 0 to 23/],
    ['cron(0 19 L * ? *)', /L, W and # are not supported/],
    ['rate(5 minutes)', /is not cron\(/],
  ])('%s', (expression, message) => {
    expect(() => parseCronSchedule('StopModelSchedule', expression, 'Europe/London')).toThrow(message);
  });

  it('refuses a zone that is not an IANA zone', () => {
    expect(() => parseCronSchedule('StopModelSchedule', 'cron(0 19 * * ? *)', 'Europe/Londn')).toThrow(/StopModelSchedule: time zone "Europe\/Londn" is not an IANA zone/);
  });
});

describe('cronSchedulesOf: the template\'s enabled cron schedules and the state machines they start', () => {
  const template = (stopEnabled: boolean): CfnTemplate =>
    ({
      Resources: {
        StopModelSchedule: {
          Type: 'AWS::Scheduler::Schedule',
          Condition: 'StopScheduleEnabled',
          Properties: { ScheduleExpression: 'cron(0 19 * * ? *)', ScheduleExpressionTimezone: 'Europe/London', State: 'ENABLED', Target: { Arn: { Ref: 'StopModelStateMachine' }, Input: '{"reason":"schedule"}' } },
        },
        StartModelSchedule: {
          Type: 'AWS::Scheduler::Schedule',
          Properties: { ScheduleExpression: 'cron(0 7 ? * MON-FRI *)', ScheduleExpressionTimezone: 'Europe/London', State: 'DISABLED', Target: { Arn: { Ref: 'StartModelStateMachine' }, Input: '{"reason":"schedule"}' } },
        },
        ServingCheckSchedule: { Type: 'AWS::Scheduler::Schedule', Properties: { ScheduleExpression: 'rate(1 minute)', Target: { Arn: { 'Fn::GetAtt': ['ServingCheckLambdaFunction', 'Arn'] } } } },
      },
      Conditions: { StopScheduleEnabled: { 'Fn::Equals': [`schedule-${String(stopEnabled)}`, 'schedule-true'] } },
    });
  const names = { StopModelStateMachine: 'arn:aws:states:eu-west-1:000000000000:stateMachine:stop', StartModelStateMachine: 'arn:aws:states:eu-west-1:000000000000:stateMachine:start' };

  it('keeps enabled cron schedules whose condition holds; rate schedules are the serving check\'s timer', () => {
    expect(cronSchedulesOf(template(true), names).map((s) => [s.logicalId, s.stateMachineArn, s.timeZone, s.input])).toEqual([
      ['StopModelSchedule', names.StopModelStateMachine, 'Europe/London', '{"reason":"schedule"}'],
    ]);
    expect(cronSchedulesOf(template(false), names)).toEqual([]);
  });
});

describe('startCronSchedules: a local demo stops the model at 19:00 like a deployed stage', () => {
  const STOP: CronSchedule = {
    logicalId: 'StopModelSchedule',
    expression: 'cron(0 19 * * ? *)',
    cron: parseCron('cron(0 19 * * ? *)'),
    timeZone: 'Europe/London',
    stateMachineArn: 'arn:aws:states:eu-west-1:000000000000:stateMachine:stop',
    input: '{"reason":"schedule"}',
  };

  it('starts the stop machine at 19:00 London each day, once, with the schedule\'s input', async () => {
    const clock = new ManualClock(Date.parse('2026-10-24T12:00:00Z'));
    const started: { arn: string; input: string; at: string }[] = [];
    const scheduler = startCronSchedules([STOP], {
      clock,
      startExecution: (arn, input) => {
        started.push({ arn, input, at: new Date(clock.now()).toISOString() });
        return Promise.resolve();
      },
    });
    expect(iso(scheduler.next().StopModelSchedule)).toBe('2026-10-24T18:00:00.000Z');
    clock.advanceTo(Date.parse('2026-10-24T17:59:59Z'));
    expect(started).toEqual([]);
    // Three days across the autumn change: 18:00 UTC (BST), then 19:00 UTC (GMT).
    clock.advanceTo(Date.parse('2026-10-27T12:00:00Z'));
    expect(started).toEqual([
      { arn: STOP.stateMachineArn, input: '{"reason":"schedule"}', at: '2026-10-24T18:00:00.000Z' },
      { arn: STOP.stateMachineArn, input: '{"reason":"schedule"}', at: '2026-10-25T19:00:00.000Z' },
      { arn: STOP.stateMachineArn, input: '{"reason":"schedule"}', at: '2026-10-26T19:00:00.000Z' },
    ]);
    await scheduler.stop();
    clock.advanceTo(Date.parse('2026-10-28T12:00:00Z'));
    expect(started).toHaveLength(3);
  });

  it('a failed StartExecution is reported and the next day still fires', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
    const errors: string[] = [];
    let calls = 0;
    const scheduler = startCronSchedules([STOP], {
      clock,
      startExecution: () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('ExecutionLimitExceeded')) : Promise.resolve();
      },
      onError: (id, error) => errors.push(`${id}: ${error instanceof Error ? error.message : String(error)}`),
    });
    clock.advanceTo(Date.parse('2026-12-01T19:00:30Z'));
    await scheduler.stop();
    expect(errors).toEqual(['StopModelSchedule: ExecutionLimitExceeded']);
    const again = startCronSchedules([STOP], { clock, startExecution: () => { calls += 1; return Promise.resolve(); } });
    clock.advanceTo(Date.parse('2026-12-02T19:00:00Z'));
    await again.stop();
    expect(calls).toBe(2);
  });
});
