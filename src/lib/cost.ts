/*
 * Monthly Rekognition Custom Labels inference cost: always-on vs the serving window the stage's schedules give.
 * Pure (no I/O): the bench feeds it the packaged template, `pneumo model status` the stack's ServingSchedule output.
 *
 * A running model bills per inference unit and hour from RUNNING until stopped. The daily stop and the optional
 * daily start are EventBridge Scheduler cron expressions evaluated in `timeZone`; the window is simulated minute by
 * minute on that zone's wall clock over a whole calendar year and divided by 12, so weekday-only schedules and
 * month lengths average out. Daylight-saving changes are not modelled: a window between two wall-clock times has
 * the same length on either side of a change (only a window spanning the changed hour would differ, one hour twice
 * a year).
 */

import * as z from 'zod/mini';
import { parseWith } from './schema.js';

const SCHEDULE = 'the serving schedule';

function scheduleText(name: string): z.ZodMiniString {
  const error = `${SCHEDULE} has no ${name}`;
  return z.string({ error }).check(z.minLength(1, { error }));
}

function scheduleFlag(name: string): z.ZodMiniBoolean {
  return z.boolean({ error: `${SCHEDULE}'s ${name} is not true or false` });
}

function scheduleUnits(name: string): z.ZodMiniNumber {
  const error = `${SCHEDULE}'s ${name} is not a whole number ≥ 1`;
  return z.number({ error }).check(z.int({ error }), z.gte(1, { error }));
}

function servingNumber(name: string): z.ZodMiniNumber {
  const error = `${SCHEDULE}'s serving.${name} is not a number ≥ 0`;
  return z.number({ error }).check(z.gte(0, { error }));
}

function servingText(name: string): z.ZodMiniString {
  return z.string({ error: `${SCHEDULE}'s serving.${name} is not text` });
}

/** The serving parameters of a stage as its `ServingSchedule` output states them (see src/lib/serving). */
const ServingSettingsSchema = z.object(
  {
    onDemandStart: z.boolean({ error: `${SCHEDULE}'s serving.onDemandStart is not true or false` }),
    /** The serving check's `rate(N minute[s])`. */
    checkRate: servingText('checkRate').check(z.regex(/^rate\(\d+ minutes?\)$/, { error: `${SCHEDULE}'s serving.checkRate is not rate(N minute[s])` })),
    idleStopMinutes: servingNumber('idleStopMinutes'),
    quietHours: servingText('quietHours'),
    dailyCapHours: servingNumber('dailyCapHours'),
  },
  { error: `${SCHEDULE}'s serving is not an object` },
);

/** The stack's `ServingSchedule` output (JSON) and the local endpoints file's copy of it. */
const ServingScheduleSchema = z.object(
  {
    /** Daily stop of every running version (the stage's `stopScheduleEnabled` / `stopScheduleExpression`). */
    stopEnabled: scheduleFlag('stopEnabled'),
    stopExpression: scheduleText('stopExpression'),
    /** Daily start of the promoted model (`startScheduleEnabled` / `startScheduleExpression`). */
    startEnabled: scheduleFlag('startEnabled'),
    startExpression: scheduleText('startExpression'),
    timeZone: scheduleText('timeZone'),
    /** Units a started model gets (`minInferenceUnits`) and may scale to (`maxInferenceUnits`). */
    minInferenceUnits: scheduleUnits('minInferenceUnits'),
    maxInferenceUnits: scheduleUnits('maxInferenceUnits'),
    /** classify's reserved concurrency (the units must fit it); absent from stacks deployed before it was output. */
    classifyConcurrency: z.optional(scheduleUnits('classifyConcurrency')),
    /** The stage's on-demand serving parameters; absent likewise. */
    serving: z.optional(ServingSettingsSchema),
  },
  { error: `${SCHEDULE} is not an object` },
);

export type ServingSettings = Readonly<z.output<typeof ServingSettingsSchema>>;
export type ServingSchedule = Readonly<z.output<typeof ServingScheduleSchema>>;

export interface CostOptions {
  /** USD per inference-unit-hour (Custom Labels lists about 4 USD in most regions). */
  readonly pricePerUnitHour: number;
  /** Calendar year simulated (weekday patterns differ a little from year to year). */
  readonly year?: number;
}

export interface CostRow {
  readonly scenario: 'always-on' | 'scheduled-window' | 'manual-start-until-daily-stop';
  readonly description: string;
  /** Hours per average month (year / 12) the model runs in this scenario. */
  readonly hoursPerMonth: number;
  /** At `minInferenceUnits` (what a start provisions) and at `maxInferenceUnits` (if auto-scaling used them all). */
  readonly monthlyCostMin: number;
  readonly monthlyCostMax: number;
}

export interface CostEstimate {
  readonly schedule: ServingSchedule;
  readonly pricePerUnitHour: number;
  readonly year: number;
  readonly rows: readonly CostRow[];
  /** Scheduled-window cost over always-on cost (at the same units). */
  readonly windowFraction: number;
  readonly notes: readonly string[];
}

export class CronError extends Error {
  override readonly name = 'CronError';
}

interface FieldSpec {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** EventBridge numbers days of the week 1 (SUN) to 7 (SAT). */
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldSpec[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 1, max: 7, names: WEEKDAYS },
  { min: 1970, max: 2199 },
];

/** A parsed cron: allowed values per field; `undefined` for `?` (day-of-month or day-of-week not used). */
export interface Cron {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number> | undefined;
  readonly months: ReadonlySet<number>;
  /** 1 = Sunday … 7 = Saturday. */
  readonly daysOfWeek: ReadonlySet<number> | undefined;
  readonly years: ReadonlySet<number>;
}

function parseValue(text: string, spec: FieldSpec, expression: string): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + spec.min : Number(text);
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
    throw new CronError(`"${text}" is not a value from ${spec.min} to ${spec.max} in ${expression}`);
  }
  return value;
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  if (/[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (name) => (spec.names?.includes(name.toUpperCase()) ? '' : name)))) {
    throw new CronError(`L, W and # are not supported by pneumo's cron reader (${expression})`);
  }
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronError(`bad step "${part}" in ${expression}`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = parseValue(a, spec, expression);
      to = parseValue(b, spec, expression);
    } else {
      from = parseValue(range, spec, expression);
      to = stepText === undefined ? from : spec.max;
    }
    if (to < from) throw new CronError(`range "${range}" runs backwards in ${expression}`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** Parses an EventBridge Scheduler cron expression: `cron(minutes hours day-of-month month day-of-week year)`. */
export function parseCron(expression: string): Cron {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const fields = match?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) throw new CronError(`"${expression}" is not cron(minutes hours day-of-month month day-of-week year)`);
  const [minutes = '', hours = '', dom = '', month = '', dow = '', year = ''] = fields;
  const misplaced = (['minutes', 'hours', 'month', 'year'] as const).find((_, i) => [minutes, hours, month, year][i]?.includes('?'));
  if (misplaced) throw new CronError(`"?" is only for day-of-month or day-of-week, not ${misplaced}, in ${expression}`);
  if ((dom === '?') === (dow === '?')) throw new CronError(`exactly one of day-of-month and day-of-week must be "?" in ${expression}`);
  const spec = (i: number): FieldSpec => FIELDS[i] as FieldSpec;
  return {
    minutes: parseField(minutes, spec(0), expression),
    hours: parseField(hours, spec(1), expression),
    daysOfMonth: dom === '?' ? undefined : parseField(dom, spec(2), expression),
    months: parseField(month, spec(3), expression),
    daysOfWeek: dow === '?' ? undefined : parseField(dow, spec(4), expression),
    years: parseField(year, spec(5), expression),
  };
}

/** Whether the cron fires at this wall-clock minute (a Date read through its UTC fields). */
export function cronFiresAt(cron: Cron, wallClock: Date): boolean {
  return cron.minutes.has(wallClock.getUTCMinutes()) && cronFiresInHour(cron, wallClock);
}

/** Whether the cron fires at some minute of this wall-clock hour. */
export function cronFiresInHour(cron: Cron, wallClock: Date): boolean {
  return (
    cron.hours.has(wallClock.getUTCHours()) &&
    cron.months.has(wallClock.getUTCMonth() + 1) &&
    cron.years.has(wallClock.getUTCFullYear()) &&
    (cron.daysOfMonth ? cron.daysOfMonth.has(wallClock.getUTCDate()) : true) &&
    (cron.daysOfWeek ? cron.daysOfWeek.has(wallClock.getUTCDay() + 1) : true)
  );
}

const MINUTE = 60_000;

/**
 * Hours per average month the model runs when `start` starts it and `stop` stops it (either may be absent),
 * simulated over `year` after a month of warm-up from a stopped model.
 */
export function runningHoursPerMonth(start: Cron | undefined, stop: Cron | undefined, year: number): number {
  const warmUp = Date.UTC(year - 1, 11, 1);
  const from = Date.UTC(year, 0, 1);
  const to = Date.UTC(year + 1, 0, 1);
  let running = false;
  let minutes = 0;
  for (let t = warmUp; t < to; t += MINUTE) {
    const now = new Date(t);
    if (start && cronFiresAt(start, now)) running = true;
    if (stop && cronFiresAt(stop, now)) running = false;
    if (running && t >= from) minutes += 1;
  }
  return minutes / 60 / 12;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** The cost table: always-on, the scheduled window, and what a manual start costs when the start schedule is off. */
export function estimateMonthlyCost(schedule: ServingSchedule, options: CostOptions): CostEstimate {
  const year = options.year ?? 2027;
  const price = options.pricePerUnitHour;
  if (!(price >= 0)) throw new RangeError('pricePerUnitHour must be ≥ 0');
  const { minInferenceUnits: minUnits, maxInferenceUnits: maxUnits } = schedule;
  if (!Number.isInteger(minUnits) || minUnits < 1 || !Number.isInteger(maxUnits) || maxUnits < minUnits) {
    throw new RangeError(`inference units must be whole numbers with 1 ≤ min ≤ max (got ${minUnits}, ${maxUnits})`);
  }
  const stop = schedule.stopEnabled ? parseCron(schedule.stopExpression) : undefined;
  const start = parseCron(schedule.startExpression);
  const row = (scenario: CostRow['scenario'], description: string, hours: number): CostRow => ({
    scenario,
    description,
    hoursPerMonth: round2(hours),
    monthlyCostMin: round2(hours * minUnits * price),
    monthlyCostMax: round2(hours * maxUnits * price),
  });
  const alwaysOnHours = ((365 + (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0)) * 24) / 12;
  const windowHours = runningHoursPerMonth(start, stop, year);
  const stopText = stop ? `stopped by ${schedule.stopExpression}` : 'no daily stop';
  const rows: CostRow[] = [
    row('always-on', 'model running all the time', alwaysOnHours),
    row(
      schedule.startEnabled ? 'scheduled-window' : 'manual-start-until-daily-stop',
      schedule.startEnabled
        ? `started by ${schedule.startExpression}, ${stopText} (${schedule.timeZone})`
        : `start schedule OFF: if started by hand at the times of ${schedule.startExpression}, ${stopText} (${schedule.timeZone})`,
      windowHours,
    ),
  ];
  const notes: string[] = [];
  if (!schedule.startEnabled) {
    notes.push(
      'The start schedule is disabled: the model runs from each manual start (CLI, retrain) until the next daily stop, ' +
        'so the second row is what starting it by hand at the start expression\'s times would cost.',
    );
  }
  if (!stop) notes.push('The daily stop is disabled: a started model runs until stopped by hand.');
  if (maxUnits > minUnits) notes.push('Auto-scaling may add units up to maxInferenceUnits; the max column is that bound.');
  notes.push('Inference only: training hours, S3, DynamoDB, Lambda and KMS are not included.');
  return {
    schedule,
    pricePerUnitHour: price,
    year,
    rows,
    windowFraction: alwaysOnHours > 0 ? round2(windowHours / alwaysOnHours) : 0,
    notes,
  };
}

export interface TemplateLike {
  readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Condition?: string; readonly Properties?: Record<string, unknown> }>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
}

/** Whether a resource's condition holds in a packaged template (a literal Fn::Equals; no condition: yes). */
export function conditionHolds(template: TemplateLike, name: string | undefined): boolean {
  if (name === undefined) return true;
  const condition = template.Conditions?.[name] as { 'Fn::Equals'?: unknown } | undefined;
  const equals = condition?.['Fn::Equals'];
  if (!Array.isArray(equals) || equals.length !== 2 || typeof equals[0] !== 'string' || typeof equals[1] !== 'string') {
    throw new Error(`condition ${name} is not a literal Fn::Equals; package the stack to resolve its parameters`);
  }
  return equals[0] === equals[1];
}

/**
 * Reads the schedule and inference units from a packaged CloudFormation template: the two
 * AWS::Scheduler::Schedule resources (their conditions say whether each is enabled) and the
 * DEFAULT_MIN/MAX_INFERENCE_UNITS any function's environment carries.
 */
export function scheduleFromTemplate(template: TemplateLike): ServingSchedule {
  const schedules = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule');
  const find = (pattern: RegExp): { enabled: boolean; expression: string; timeZone: string } => {
    const found = schedules.find(([id]) => pattern.test(id));
    if (!found) throw new Error(`the template has no schedule matching ${String(pattern)}`);
    const [id, resource] = found;
    const expression = resource.Properties?.ScheduleExpression;
    const timeZone = resource.Properties?.ScheduleExpressionTimezone;
    if (typeof expression !== 'string') throw new Error(`${id} has no literal ScheduleExpression`);
    const state = resource.Properties?.State;
    return { enabled: conditionHolds(template, resource.Condition) && state !== 'DISABLED', expression, timeZone: typeof timeZone === 'string' ? timeZone : 'UTC' };
  };
  const stop = find(/stop/i);
  const start = find(/start/i);
  const units = (name: string): number => {
    for (const resource of Object.values(template.Resources)) {
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      const value = variables?.[name];
      if (value !== undefined) return Number(value);
    }
    throw new Error(`no function environment sets ${name}`);
  };
  return {
    stopEnabled: stop.enabled,
    stopExpression: stop.expression,
    startEnabled: start.enabled,
    startExpression: start.expression,
    timeZone: stop.timeZone,
    minInferenceUnits: units('DEFAULT_MIN_INFERENCE_UNITS'),
    maxInferenceUnits: units('DEFAULT_MAX_INFERENCE_UNITS'),
  };
}

/** Checks a serving schedule read from outside (the stack's `ServingSchedule` output, the local endpoints file). */
export function parseServingSchedule(value: unknown): ServingSchedule {
  const source: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  const schedule = parseWith(ServingScheduleSchema, source, (message) => new Error(message));
  parseCron(schedule.stopExpression);
  parseCron(schedule.startExpression);
  return schedule;
}
