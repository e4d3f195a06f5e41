import { parseCron } from '../src/lib/cost.js';
import type { ServingSchedule } from '../src/lib/cost.js';
import { simulate } from '../src/lib/serving/simulate.js';
import type { PolicyKind, SimulationResult } from '../src/lib/serving/simulate.js';
import type { ServingPolicy } from '../src/lib/serving/policy.js';
import { trace, TRACE_NAMES, TRACE_ORIGIN, WEEK } from './traces.js';
import type { TraceName } from './traces.js';
import type { SummaryLine } from './common.js';

/*
 * The cost bench: each arrival trace replayed against always-on, the weekday schedule and on-demand + idle stop,
 * the last through the product's own decisions (src/lib/serving). One week of arrivals after the measured weeks
 * keeps the end realistic: late images are answered, and billing is counted inside the measured window only.
 */

export const POLICIES: readonly PolicyKind[] = ['always-on', 'weekday-schedule', 'on-demand'];

/** The goals of issue 13, measured in the same run. */
export const GOALS = { sparseRatio: 0.25, clinicRatio: 0.6, p95SlackMinutes: 10 } as const;

export interface CostBenchOptions {
  readonly schedule: ServingSchedule;
  readonly policy: ServingPolicy;
  readonly pricePerUnitHour: number;
  readonly startLatencyMinutes: number;
  readonly weeks: number;
  /** Serving-check period (the template's rate). */
  readonly checkIntervalMinutes: number;
  /** One unit's time per image (the pipeline bench's model-bound stand-in served 100 ms per image). */
  readonly serviceMs?: number;
  readonly stopLatencyMinutes?: number;
}

export interface TraceResult {
  readonly trace: TraceName;
  readonly results: Readonly<Record<PolicyKind, SimulationResult>>;
  /** On-demand cost over the weekday schedule's. */
  readonly onDemandOverSchedule: number;
}

export interface GoalCheck {
  readonly goal: string;
  /** The bound, as the summary's goal column shows it. */
  readonly bound: string;
  readonly value: string;
  readonly met: boolean;
}

export interface CostBenchResult {
  readonly settings: Omit<CostBenchOptions, 'schedule'> & { readonly startExpression: string; readonly stopExpression: string };
  readonly traces: readonly TraceResult[];
  readonly goals: readonly GoalCheck[];
}

export function runCostSimulation(options: CostBenchOptions): CostBenchResult {
  const minute = 60_000;
  const schedule = { start: parseCron(options.schedule.startExpression), stop: parseCron(options.schedule.stopExpression) };
  const traces = TRACE_NAMES.map((name): TraceResult => {
    const arrivals = trace(name, options.weeks + 1);
    const run = (kind: PolicyKind): SimulationResult =>
      simulate({
        kind,
        arrivals,
        origin: TRACE_ORIGIN,
        measuredMs: options.weeks * WEEK,
        horizonMs: (options.weeks + 1) * WEEK,
        startLatencyMs: options.startLatencyMinutes * minute,
        stopLatencyMs: (options.stopLatencyMinutes ?? 1) * minute,
        checkIntervalMs: options.checkIntervalMinutes * minute,
        serviceMs: options.serviceMs ?? 100,
        units: options.schedule.minInferenceUnits,
        pricePerUnitHour: options.pricePerUnitHour,
        policy: options.policy,
        schedule,
      });
    const results = Object.fromEntries(POLICIES.map((kind) => [kind, run(kind)])) as Record<PolicyKind, SimulationResult>;
    const scheduled = results['weekday-schedule'].unitHours;
    return { trace: name, results, onDemandOverSchedule: scheduled > 0 ? Math.round((results['on-demand'].unitHours / scheduled) * 1000) / 1000 : Number.NaN };
  });
  const byName = (name: TraceName): TraceResult => traces.find((t) => t.trace === name) as TraceResult;
  const p95Bound = options.startLatencyMinutes + GOALS.p95SlackMinutes;
  const goals: GoalCheck[] = [
    { goal: 'sparse: on-demand cost ÷ weekday schedule cost', bound: `≤ ${GOALS.sparseRatio}`, value: String(byName('sparse').onDemandOverSchedule), met: byName('sparse').onDemandOverSchedule <= GOALS.sparseRatio },
    { goal: 'clinic: on-demand cost ÷ weekday schedule cost', bound: `≤ ${GOALS.clinicRatio}`, value: String(byName('clinic').onDemandOverSchedule), met: byName('clinic').onDemandOverSchedule <= GOALS.clinicRatio },
    ...traces.flatMap((t): GoalCheck[] => [
      {
        goal: `${t.trace}: images answered (always-on, schedule, on-demand)`,
        bound: 'all',
        value: POLICIES.map((kind) => `${t.results[kind].answered}/${t.results[kind].images}`).join(', '),
        met: POLICIES.every((kind) => t.results[kind].answered === t.results[kind].images),
      },
      {
        goal: `${t.trace}: on-demand p95 time-to-result`,
        bound: `≤ ${p95Bound} min (start + ${GOALS.p95SlackMinutes})`,
        value: `${t.results['on-demand'].timeToResultMinutes.p95} min`,
        met: t.results['on-demand'].timeToResultMinutes.p95 <= p95Bound,
      },
    ]),
  ];
  const { schedule: serving, ...rest } = options;
  return { settings: { ...rest, startExpression: serving.startExpression, stopExpression: serving.stopExpression }, traces, goals };
}

export function costSummary(result: CostBenchResult, log: (line: string) => void): SummaryLine[] {
  const part = 'cost';
  const lines: SummaryLine[] = [];
  log(`  start latency ${result.settings.startLatencyMinutes} min, idle stop ${result.settings.policy.idleStopMs / 60_000} min, check every ${result.settings.checkIntervalMinutes} min, ${result.settings.weeks} week(s) per trace`);
  log(`  ${'trace'.padEnd(13)} ${'policy'.padEnd(17)} ${'IU-h/month'.padStart(10)} ${'$/month'.padStart(8)} ${'$/1000 img'.padStart(10)}  time-to-result p50 / p95 / max (min)   starts  stops`);
  for (const t of result.traces) {
    for (const kind of POLICIES) {
      const r = t.results[kind];
      const ttr = r.timeToResultMinutes;
      log(`  ${t.trace.padEnd(13)} ${kind.padEnd(17)} ${r.unitHoursPerMonth.toFixed(1).padStart(10)} ${r.monthlyUsd.toFixed(0).padStart(8)} ${r.usdPer1000Images.toFixed(2).padStart(10)}  ${`${ttr.p50} / ${ttr.p95} / ${ttr.max}`.padEnd(37)} ${String(r.starts).padStart(6)}  ${JSON.stringify(r.stops)}`);
    }
    const od = t.results['on-demand'];
    lines.push({
      part,
      figure: `${t.trace}: on-demand vs weekday schedule vs always-on, $/month`,
      value: `$${od.monthlyUsd.toFixed(0)} vs $${t.results['weekday-schedule'].monthlyUsd.toFixed(0)} vs $${t.results['always-on'].monthlyUsd.toFixed(0)} (ratio ${t.onDemandOverSchedule}; $${od.usdPer1000Images.toFixed(2)}/1000 images; p50/p95/max ${od.timeToResultMinutes.p50}/${od.timeToResultMinutes.p95}/${od.timeToResultMinutes.max} min)`,
    });
  }
  for (const goal of result.goals) lines.push({ part, figure: goal.goal, value: goal.value, goal: goal.bound, met: goal.met });
  return lines;
}

interface TemplateLike {
  readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>>;
}

/** The stage's serving policy and check period as packaged: the serving-check function's environment and schedule. */
export function servingFromTemplate(template: TemplateLike, loadPolicy: (env: Record<string, string>) => ServingPolicy): { policy: ServingPolicy; checkIntervalMinutes: number } {
  const resources = Object.values(template.Resources);
  const env = resources
    .map((r) => (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables)
    .find((variables) => variables?.IDLE_STOP_MINUTES !== undefined);
  if (!env) throw new Error('no function of the template carries IDLE_STOP_MINUTES (the serving check)');
  const literal = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  const rate = resources
    .filter((r) => r.Type === 'AWS::Scheduler::Schedule')
    .map((r) => r.Properties?.ScheduleExpression)
    .find((expression): expression is string => typeof expression === 'string' && expression.startsWith('rate('));
  const match = rate ? /^rate\((\d+) minutes?\)$/.exec(rate) : null;
  if (!match?.[1]) throw new Error(`the serving check's schedule ${String(rate)} is not rate(N minute[s])`);
  return { policy: loadPolicy(literal), checkIntervalMinutes: Number(match[1]) };
}
