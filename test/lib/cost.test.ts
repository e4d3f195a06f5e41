import { describe, expect, it } from 'vitest';
import { CronError, cronFiresAt, estimateMonthlyCost, parseCron, parseServingSchedule, runningHoursPerMonth, scheduleFromTemplate } from '../../src/lib/cost.js';
import type { ServingSchedule } from '../../src/lib/cost.js';

const configured: ServingSchedule = {
  stopEnabled: true,
  stopExpression: 'cron(0 19 * * ? *)',
  startEnabled: true,
  startExpression: 'cron(0 7 ? * MON-FRI *)',
  timeZone: 'Europe/London',
  minInferenceUnits: 1,
  maxInferenceUnits: 1,
};

describe('parseCron', () => {
  it('reads EventBridge cron fields, names, ranges, lists and steps', () => {
    const cron = parseCron('cron(0/15 7-9,18 ? JAN-MAR MON-FRI *)');
    expect([...cron.minutes]).toEqual([0, 15, 30, 45]);
    expect([...cron.hours]).toEqual([7, 8, 9, 18]);
    expect(cron.daysOfMonth).toBeUndefined();
    expect([...cron.months]).toEqual([1, 2, 3]);
    expect([...(cron.daysOfWeek ?? [])]).toEqual([2, 3, 4, 5, 6]);
  });

  it('fires on the wall-clock minute it names (1 = Sunday)', () => {
    const cron = parseCron('cron(0 7 ? * MON-FRI *)');
    expect(cronFiresAt(cron, new Date(Date.UTC(2027, 0, 4, 7, 0)))).toBe(true); // a Monday
    expect(cronFiresAt(cron, new Date(Date.UTC(2027, 0, 3, 7, 0)))).toBe(false); // a Sunday
    expect(cronFiresAt(cron, new Date(Date.UTC(2027, 0, 4, 7, 1)))).toBe(false);
  });

  it('refuses what it cannot model', () => {
    expect(() => parseCron('rate(1 day)')).toThrow(CronError);
    expect(() => parseCron('cron(0 7 * * * *)')).toThrow(/exactly one/);
    expect(() => parseCron('cron(0 7 L * ? *)')).toThrow(/not supported/);
    expect(() => parseCron('cron(0 24 * * ? *)')).toThrow(/0 to 23/);
  });
});

describe('runningHoursPerMonth', () => {
  it('a weekday 07:00 start and a daily 19:00 stop: 12 h on each weekday', () => {
    const hours = runningHoursPerMonth(parseCron(configured.startExpression), parseCron(configured.stopExpression), 2027);
    // 2027 has 261 weekdays.
    expect(hours).toBeCloseTo((261 * 12) / 12, 6);
  });

  it('no start: never runs; no stop: runs from the first start on', () => {
    expect(runningHoursPerMonth(undefined, parseCron(configured.stopExpression), 2027)).toBe(0);
    expect(runningHoursPerMonth(parseCron('cron(0 0 ? * MON *)'), undefined, 2027)).toBeCloseTo((365 * 24) / 12, 6);
  });
});

describe('estimateMonthlyCost', () => {
  it('prices always-on and the window per unit-hour', () => {
    const estimate = estimateMonthlyCost(configured, { pricePerUnitHour: 4 });
    const [always, window] = estimate.rows;
    expect(always).toMatchObject({ scenario: 'always-on', hoursPerMonth: 730, monthlyCostMin: 2920, monthlyCostMax: 2920 });
    expect(window).toMatchObject({ scenario: 'scheduled-window', hoursPerMonth: 261, monthlyCostMin: 1044 });
    expect(estimate.windowFraction).toBeCloseTo(261 / 730, 2);
  });

  it('says so when the start schedule is off, and bounds auto-scaling with max units', () => {
    const estimate = estimateMonthlyCost({ ...configured, startEnabled: false, maxInferenceUnits: 3 }, { pricePerUnitHour: 2 });
    expect(estimate.rows[1]).toMatchObject({ scenario: 'manual-start-until-daily-stop', monthlyCostMin: 522, monthlyCostMax: 1566 });
    expect(estimate.notes.join(' ')).toMatch(/start schedule is disabled/);
  });

  it('rejects impossible units and prices', () => {
    expect(() => estimateMonthlyCost({ ...configured, minInferenceUnits: 0 }, { pricePerUnitHour: 4 })).toThrow(RangeError);
    expect(() => estimateMonthlyCost(configured, { pricePerUnitHour: -1 })).toThrow(RangeError);
  });
});

describe('scheduleFromTemplate', () => {
  it('reads the schedules, their conditions and the inference units of a packaged template', () => {
    const template = {
      Resources: {
        StopModelSchedule: { Type: 'AWS::Scheduler::Schedule', Condition: 'StopOn', Properties: { ScheduleExpression: 'cron(0 19 * * ? *)', ScheduleExpressionTimezone: 'Europe/London' } },
        StartModelSchedule: { Type: 'AWS::Scheduler::Schedule', Condition: 'StartOn', Properties: { ScheduleExpression: 'cron(0 7 ? * MON-FRI *)' } },
        PlanStart: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { DEFAULT_MIN_INFERENCE_UNITS: '1', DEFAULT_MAX_INFERENCE_UNITS: '2' } } } },
      },
      Conditions: { StopOn: { 'Fn::Equals': ['schedule-true', 'schedule-true'] }, StartOn: { 'Fn::Equals': ['schedule-false', 'schedule-true'] } },
    };
    expect(scheduleFromTemplate(template)).toEqual({ ...configured, startEnabled: false, maxInferenceUnits: 2 });
  });
});

describe('parseServingSchedule', () => {
  const valid = { ...configured, startEnabled: false, maxInferenceUnits: 2 };
  const serving = { onDemandStart: true, idleStopMinutes: 5, checkRate: 'rate(5 minutes)', quietHours: '', dailyCapHours: 0 };

  it('reads the JSON the stack outputs, and the object the local stack writes', () => {
    expect(parseServingSchedule(JSON.stringify(valid))).toEqual(valid);
    expect(parseServingSchedule(valid)).toEqual(valid);
  });

  it.each([
    [{ ...valid, stopEnabled: 'yes' }, /stopEnabled is not true or false/],
    [{ ...valid, minInferenceUnits: 0 }, /minInferenceUnits is not a whole number/],
    [{ ...valid, timeZone: '' }, /no timeZone/],
    [{ ...valid, stopExpression: 'rate(1 day)' }, CronError],
    [[], new Error('the serving schedule is not an object')],
    [null, new Error('the serving schedule is not an object')],
    [{ ...valid, classifyConcurrency: 1.5 }, new Error("the serving schedule's classifyConcurrency is not a whole number ≥ 1")],
    [{ ...valid, serving: 'on' }, new Error("the serving schedule's serving is not an object")],
    [{ ...valid, serving: { ...serving, onDemandStart: 1 } }, new Error("the serving schedule's serving.onDemandStart is not true or false")],
    [{ ...valid, serving: { ...serving, checkRate: 'rate(1 hour)' } }, new Error("the serving schedule's serving.checkRate is not rate(N minute[s])")],
    [{ ...valid, serving: { ...serving, idleStopMinutes: -1 } }, new Error("the serving schedule's serving.idleStopMinutes is not a number ≥ 0")],
    [{ ...valid, serving: { ...serving, quietHours: 7 } }, new Error("the serving schedule's serving.quietHours is not text")],
  ])('names what is wrong in %j', (schedule, error) => {
    expect(() => parseServingSchedule(schedule)).toThrow(error);
  });

  it('reads classify’s concurrency and the serving settings, and nothing else', () => {
    const full = { ...valid, classifyConcurrency: 4, serving };
    expect(parseServingSchedule(JSON.stringify({ ...full, extra: 'dropped', serving: { ...serving, extra: 1 } }))).toEqual(full);
  });
});
