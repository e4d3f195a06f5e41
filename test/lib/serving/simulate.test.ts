import { describe, expect, it } from 'vitest';
import { GOALS, runCostSimulation } from '../../../bench/cost.js';
import { parseCron } from '../../../src/lib/cost.js';
import { DEFAULT_POLICY } from '../../../src/lib/serving/policy.js';
import { simulate } from '../../../src/lib/serving/simulate.js';
import type { SimulationInput } from '../../../src/lib/serving/simulate.js';
import { TRACE_ORIGIN } from '../../../bench/traces.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const schedule = { start: parseCron('cron(0 7 ? * MON-FRI *)'), stop: parseCron('cron(0 19 * * ? *)') };

function input(kind: SimulationInput['kind'], arrivals: number[], change: Partial<SimulationInput> = {}): SimulationInput {
  return {
    kind,
    arrivals,
    origin: TRACE_ORIGIN,
    measuredMs: 24 * HOUR,
    horizonMs: 48 * HOUR,
    startLatencyMs: 10 * MINUTE,
    stopLatencyMs: MINUTE,
    checkIntervalMs: MINUTE,
    serviceMs: 100,
    units: 1,
    pricePerUnitHour: 4,
    policy: { ...DEFAULT_POLICY, idleStopMs: 5 * MINUTE },
    schedule,
    ...change,
  };
}

describe('simulate: the product decisions against a modelled service', () => {
  it('one image at 03:00: on-demand starts once, answers after the start latency, and stops once idle', () => {
    const result = simulate(input('on-demand', [3 * HOUR]));
    expect(result).toMatchObject({ images: 1, answered: 1, starts: 1, stops: { idle: 1 } });
    expect(result.timeToResultMinutes.max).toBe(10);
    // Running from 03:10 until the first whole-minute check 5 minutes after the answer (03:16), plus a minute of stopping.
    expect(result.unitHours).toBeCloseTo(7 / 60, 2);
  });

  it('a burst while stopped makes one start, not one per image', () => {
    const burst = Array.from({ length: 50 }, (_, i) => 3 * HOUR + i * 1000);
    expect(simulate(input('on-demand', burst))).toMatchObject({ answered: 50, starts: 1 });
  });

  it('an image arriving while a stop is in flight waits for the stop, then the check starts the model again', () => {
    // Answered at 03:10, idle stop requested at 03:16 and done at 03:17; the second image lands at 03:16:30.
    const result = simulate(input('on-demand', [3 * HOUR, 3 * HOUR + 16.5 * MINUTE]));
    expect(result).toMatchObject({ answered: 2, starts: 2, stops: { idle: 2 } });
    // Waits for the stop to end (03:17), the check at 03:17 and a start (03:27).
    expect(result.timeToResultMinutes.max).toBeCloseTo(10.5, 1);
  });

  it('the weekday schedule makes a Saturday image wait until Monday 07:00 plus the start latency', () => {
    const saturday = 5 * 24 * HOUR + 10 * HOUR;
    const result = simulate(input('weekday-schedule', [saturday], { measuredMs: 7 * 24 * HOUR, horizonMs: 8 * 24 * HOUR }));
    expect(result.answered).toBe(1);
    expect(result.timeToResultMinutes.max).toBe((2 * 24 * HOUR - 3 * HOUR + 10 * MINUTE) / MINUTE);
  });

  it('always-on bills every hour of the window', () => {
    expect(simulate(input('always-on', [HOUR])).unitHours).toBe(24);
  });

  it('respects the daily cap: serving stops at the cap and the waiting images are answered the next day', () => {
    const arrivals = Array.from({ length: 20 }, (_, i) => i * HOUR);
    const result = simulate(input('on-demand', arrivals, { policy: { ...DEFAULT_POLICY, idleStopMs: 0, dailyCapMs: 2 * HOUR } }));
    expect(result.stops.cap).toBeGreaterThanOrEqual(1);
    // The check runs once a minute and a stop takes one: at most two minutes over the cap.
    expect(result.unitHours).toBeLessThanOrEqual(2 + 2 / 60);
    expect(result.answered).toBe(20);
  });
});

describe('the cost bench on short traces', () => {
  it('meets the goals with the default policy and a 10-minute start', () => {
    const result = runCostSimulation({
      schedule: { stopEnabled: true, stopExpression: 'cron(0 19 * * ? *)', startEnabled: true, startExpression: 'cron(0 7 ? * MON-FRI *)', timeZone: 'UTC', minInferenceUnits: 1, maxInferenceUnits: 1 },
      policy: DEFAULT_POLICY,
      pricePerUnitHour: 4,
      startLatencyMinutes: 10,
      weeks: 1,
      checkIntervalMinutes: 1,
    });
    for (const goal of result.goals) expect(goal, goal.goal).toMatchObject({ met: true });
    const sparse = result.traces.find((t) => t.trace === 'sparse');
    expect(sparse?.onDemandOverSchedule).toBeLessThanOrEqual(GOALS.sparseRatio);
    // A 30-minute idle stop does not meet the sparse goal: the default is short for a reason.
    const lax = runCostSimulation({ ...result.settings, schedule: { stopEnabled: true, stopExpression: 'cron(0 19 * * ? *)', startEnabled: true, startExpression: 'cron(0 7 ? * MON-FRI *)', timeZone: 'UTC', minInferenceUnits: 1, maxInferenceUnits: 1 }, policy: { ...DEFAULT_POLICY, idleStopMs: 30 * MINUTE } });
    expect(lax.goals.find((g) => g.goal.startsWith('sparse: on-demand cost'))?.met).toBe(false);
  });
});
