import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { conditionHolds, CronError, cronFiresInHour, parseCron } from '../lib/cost.js';
import type { Cron, TemplateLike } from '../lib/cost.js';
import { checkTimeZone, ServingPolicyError } from '../lib/serving/policy.js';
import { wallClock } from '../lib/serving/wall-clock.js';
import { LOCAL_CREDENTIALS } from './s3.js';
import { resolveIntrinsics, resourcesOfType, TemplateError } from './template.js';
import type { CfnTemplate } from './template.js';

/*
 * The template's cron schedules (the daily stop, the optional daily start) run locally as EventBridge Scheduler
 * runs them: the expression read on the wall clock of ScheduleExpressionTimezone, a minute's precision, a time the
 * spring change skips never fires, a time the autumn change repeats fires once. Each fire starts its state
 * machine through the local Step Functions endpoint, with the schedule's Input. The clock is injected so a test
 * moves time instead of waiting.
 */

const MINUTE = 60_000;
/** Node fires a longer timer at once; a far fire is reached in steps of at most a day. */
const MAX_TIMER_MS = 86_400_000;
/** No cron of ours fires less often than yearly; a search this long that finds nothing means it never fires. */
const SEARCH_MS = 5 * 366 * 86_400_000;

export interface ScheduleClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: ScheduleClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

export interface CronSchedule {
  readonly logicalId: string;
  readonly expression: string;
  readonly cron: Cron;
  readonly timeZone: string;
  readonly stateMachineArn: string;
  /** The schedule's Input, passed to StartExecution as it is. */
  readonly input: string;
}

/** The wall-clock minute of `at` in `timeZone`, as a Date whose UTC fields are those wall-clock fields. */
function wallMinute(at: number, timeZone: string): Date {
  const clock = wallClock(at, timeZone);
  const [year, month, day] = clock.day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day, Math.floor(clock.minuteOfDay / 60), clock.minuteOfDay % 60));
}

/** Whether the wall-clock minute of `at` already occurred within the last hour (the autumn change repeats it). */
function repeatedMinute(at: number, timeZone: string): boolean {
  const minute = wallMinute(at, timeZone).getTime();
  return [30, 60].some((back) => wallMinute(at - back * MINUTE, timeZone).getTime() === minute);
}

/** The first minute after `after` (epoch ms) at which the cron fires in `timeZone`; undefined when it never does. */
export function nextFireTime(cron: Cron, after: number, timeZone: string): number | undefined {
  let at = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = after + SEARCH_MS;
  while (at <= end) {
    const wall = wallMinute(at, timeZone);
    if (!cronFiresInHour(cron, wall)) {
      // Nothing this wall-clock hour: on to the next one (a skipped or repeated hour is met as it comes).
      at += (60 - wall.getUTCMinutes()) * MINUTE;
      continue;
    }
    if (cron.minutes.has(wall.getUTCMinutes()) && !repeatedMinute(at, timeZone)) return at;
    at += MINUTE;
  }
  return undefined;
}

/** Reads a schedule's expression and zone; errors name the schedule and what is wrong. */
export function parseCronSchedule(logicalId: string, expression: string, timeZone: string): { readonly cron: Cron; readonly timeZone: string } {
  try {
    return { cron: parseCron(expression), timeZone: checkTimeZone(timeZone) };
  } catch (error) {
    if (error instanceof CronError || error instanceof ServingPolicyError) throw new TemplateError(`${logicalId}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The template's enabled cron schedules that start a state machine. */
export function cronSchedulesOf(template: CfnTemplate, names: Readonly<Record<string, string>>): CronSchedule[] {
  const conditional = template as CfnTemplate & TemplateLike;
  return resourcesOfType(template, 'AWS::Scheduler::Schedule').flatMap(([logicalId, resource]): CronSchedule[] => {
    const properties = resource.Properties ?? {};
    const expression = properties.ScheduleExpression;
    if (typeof expression !== 'string' || !expression.startsWith('cron(')) return [];
    if (!conditionHolds(conditional, conditional.Resources[logicalId]?.Condition) || properties.State === 'DISABLED') return [];
    const target = properties.Target as { Arn?: unknown; Input?: unknown } | undefined;
    const stateMachineArn = resolveIntrinsics(target?.Arn, names);
    if (typeof stateMachineArn !== 'string' || !stateMachineArn.includes(':stateMachine:')) {
      throw new TemplateError(`${logicalId}: the local stack runs cron schedules that start a state machine, not ${JSON.stringify(target?.Arn)}`);
    }
    const zone = typeof properties.ScheduleExpressionTimezone === 'string' ? properties.ScheduleExpressionTimezone : 'UTC';
    const { cron, timeZone } = parseCronSchedule(logicalId, expression, zone);
    return [{ logicalId, expression, cron, timeZone, stateMachineArn, input: typeof target?.Input === 'string' ? target.Input : '{}' }];
  });
}

export interface CronScheduler {
  /** When each schedule fires next (epoch ms; undefined: never). */
  readonly next: () => Readonly<Record<string, number | undefined>>;
  /** Resolves when no StartExecution call is in progress (the executions they started are the endpoint's). */
  readonly settled: () => Promise<void>;
  /** Stops the timers and waits for StartExecution calls in progress. */
  readonly stop: () => Promise<void>;
}

export interface CronSchedulerDeps {
  readonly clock?: ScheduleClock;
  /** StartExecution, as the Scheduler's target calls it. */
  readonly startExecution: (stateMachineArn: string, input: string) => Promise<unknown>;
  readonly onError?: (logicalId: string, error: unknown) => void;
}

export function startCronSchedules(schedules: readonly CronSchedule[], deps: CronSchedulerDeps): CronScheduler {
  const clock = deps.clock ?? SYSTEM_CLOCK;
  const timers = new Map<string, unknown>();
  const due = new Map<string, number | undefined>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;

  const arm = (schedule: CronSchedule, at: number | undefined): void => {
    due.set(schedule.logicalId, at);
    if (at === undefined || stopped) return;
    const wait = Math.min(Math.max(0, at - clock.now()), MAX_TIMER_MS);
    timers.set(schedule.logicalId, clock.setTimeout(() => { tick(schedule, at); }, wait));
  };

  const tick = (schedule: CronSchedule, at: number): void => {
    if (stopped) return;
    const now = clock.now();
    if (now < at) {
      arm(schedule, at);
      return;
    }
    const run = deps.startExecution(schedule.stateMachineArn, schedule.input).catch((error: unknown) => {
      (deps.onError ?? ((id, e) => { process.emitWarning(`${id}: scheduled StartExecution failed: ${e instanceof Error ? e.message : String(e)}`); }))(schedule.logicalId, error);
    });
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run));
    // From the later of the fire and now: a clock that jumped ahead fires once, not once per missed minute.
    arm(schedule, nextFireTime(schedule.cron, Math.max(at, now), schedule.timeZone));
  };

  for (const schedule of schedules) arm(schedule, nextFireTime(schedule.cron, clock.now(), schedule.timeZone));
  const settled = async (): Promise<void> => {
    await Promise.all(inFlight);
  };
  return {
    next: () => Object.fromEntries(due),
    settled,
    stop: async () => {
      stopped = true;
      for (const handle of timers.values()) clock.clearTimeout(handle);
      await settled();
    },
  };
}

/** The template's cron schedules, each fire a StartExecution on the local Step Functions endpoint (as the Scheduler's role calls it). */
export function startTemplateCronSchedules(
  template: CfnTemplate,
  names: Readonly<Record<string, string>>,
  options: { readonly sfnEndpoint: string; readonly region: string; readonly clock?: ScheduleClock | undefined },
): CronScheduler {
  const client = new SFNClient({ endpoint: options.sfnEndpoint, region: options.region, credentials: LOCAL_CREDENTIALS });
  const scheduler = startCronSchedules(cronSchedulesOf(template, names), {
    ...(options.clock ? { clock: options.clock } : {}),
    startExecution: (stateMachineArn, input) => client.send(new StartExecutionCommand({ stateMachineArn, input })),
  });
  return {
    next: scheduler.next,
    settled: scheduler.settled,
    stop: async () => {
      await scheduler.stop();
      client.destroy();
    },
  };
}
