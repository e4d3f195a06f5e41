import { parseCron } from '../lib/cost.js';
import type { ServingSchedule } from '../lib/cost.js';
import { readBacklog } from '../lib/gauges.js';
import { loadServingPolicy } from '../lib/serving/config.js';
import { holdApplies } from '../lib/serving/decisions.js';
import type { ServingPolicy } from '../lib/serving/policy.js';
import { servingHoldOf, ServingStore } from '../lib/serving/store.js';
import { simulate } from '../lib/serving/simulate.js';
import type { PolicyKind, SimulationResult } from '../lib/serving/simulate.js';
import { checkUnitsFit } from '../lib/serving/units.js';
import { ResultsTable } from '../lib/tables/results.js';
import { STATUSES } from './options.js';
import { num, str } from './registry-view.js';
import type { Item } from './registry-view.js';
import type { Target } from './target.js';

/*
 * What `pneumo model status` says about serving: why the model last started and stopped, what is in flight, the
 * stage's policy and whether its units fit classify, and the monthly cost the stage's policy would have had on
 * this stage's own recent traffic, replayed through the product's decisions (src/lib/serving/simulate.ts).
 */

const DAY = 86_400_000;
/** More rows than this in the window are not read: the projection then says it is based on a sample. */
const MAX_ARRIVALS = 100_000;

export interface ServingEvents {
  readonly startReason: string | null;
  readonly startedAt: string | null;
  readonly stopReason: string | null;
  readonly stoppedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly inFlight: { readonly request: string; readonly reason: string | null; readonly requestedAt: string | null } | null;
  readonly lastStartError: string | null;
}

export interface Projection {
  readonly windowDays: number;
  readonly images: number;
  readonly truncated: boolean;
  readonly startLatencyMinutes: number;
  readonly policies: readonly { readonly policy: PolicyKind; readonly unitHoursPerMonth: number; readonly monthlyUsd: number; readonly p95Minutes: number }[];
}

export interface ServingView {
  readonly events: ServingEvents | null;
  readonly policy: ServingSchedule['serving'] | null;
  readonly units: { readonly classifyConcurrency: number; readonly minInferenceUnits: number; readonly maxInferenceUnits: number; readonly fits: boolean; readonly rule: string } | null;
  readonly projection: Projection | null;
}

/** A user's hold that keeps the model stopped now (`pneumo model stop`), and the images waiting behind it. */
export interface HoldView {
  readonly by: string;
  readonly since: string;
  readonly reason: string;
  /** When it lapses by itself; null: until a user or retrain start. */
  readonly until: string | null;
  readonly pendingImages: number;
}

/** The hold in force at `now`, or null (none placed, released, or lapsed). */
export async function holdView(target: Target, now: number): Promise<HoldView | null> {
  const record = await new ServingStore(target.clients.documents, target.names.registryTable).readHold();
  if (!record || !holdApplies(servingHoldOf(record), now)) return null;
  const backlog = await readBacklog(target.clients.documents, target.names.resultsTable);
  return { by: record.by, since: record.at, reason: record.reason, until: record.until ?? null, pendingImages: backlog.pendingImages };
}

/** One line for people: who holds it since when, why, until when, and what waits. */
export function holdLine(hold: HoldView): string {
  const until = hold.until ? `until ${hold.until}` : 'until `pneumo model start`';
  const why = hold.reason ? ` (${hold.reason})` : '';
  return `held by ${hold.by} since ${hold.since}${why}, ${until}; ${hold.pendingImages} image(s) wait PENDING`;
}

export function servingEvents(active: Item | undefined): ServingEvents | null {
  if (!active) return null;
  const serving = typeof active.serving === 'object' && active.serving !== null ? (active.serving as Item) : undefined;
  const request = str(serving, 'request');
  return {
    startReason: str(active, 'startReason') ?? null,
    startedAt: str(active, 'startedAt') ?? null,
    stopReason: str(active, 'stopReason') ?? null,
    stoppedAt: str(active, 'stoppedAt') ?? null,
    lastUsedAt: str(active, 'lastUsedAt') ?? null,
    inFlight: request ? { request, reason: str(serving, 'reason') ?? null, requestedAt: str(serving, 'requestedAt') ?? null } : null,
    lastStartError: str(active, 'lastStartError') ?? null,
  };
}

/** The stage's serving policy as its ServingSchedule output states it (on-demand start assumed, for projections). */
export function stagePolicy(schedule: ServingSchedule, serving: NonNullable<ServingSchedule['serving']>): ServingPolicy {
  return loadServingPolicy({
    ON_DEMAND_START: 'true',
    IDLE_STOP_MINUTES: String(serving.idleStopMinutes),
    QUIET_HOURS: serving.quietHours,
    DAILY_CAP_HOURS: String(serving.dailyCapHours),
    SERVING_TIME_ZONE: schedule.timeZone,
  });
}

export async function servingView(
  target: Target,
  active: Item | undefined,
  schedule: ServingSchedule | null,
  options: { readonly now: number; readonly price: number; readonly windowDays: number; readonly startLatencyMinutes: number },
): Promise<ServingView> {
  const units =
    schedule?.classifyConcurrency === undefined
      ? null
      : (() => {
          const min = num(active, 'minInferenceUnits') ?? schedule.minInferenceUnits;
          const max = num(active, 'maxInferenceUnits') ?? schedule.maxInferenceUnits;
          const fit = checkUnitsFit(schedule.classifyConcurrency, min, max);
          return { classifyConcurrency: schedule.classifyConcurrency, minInferenceUnits: min, maxInferenceUnits: max, fits: fit.ok, rule: fit.message };
        })();
  const serving = schedule?.serving;
  let projection: Projection | null = null;
  if (schedule && serving) {
    const origin = options.now - options.windowDays * DAY;
    // When images arrived over the window (their S3 event times), one Query per status on the status index.
    const results = new ResultsTable(target.clients.documents, target.names.resultsTable);
    const { times, truncated } = await results.eventTimesSince(STATUSES, new Date(origin).toISOString(), MAX_ARRIVALS);
    const arrivals = times.filter((t) => t >= origin && t < options.now).map((t) => t - origin).sort((a, b) => a - b);
    const policy = stagePolicy(schedule, serving);
    const checkMinutes = Number(/\d+/.exec(serving.checkRate)?.[0] ?? '1');
    const run = (kind: PolicyKind): SimulationResult =>
      simulate({
        kind,
        arrivals,
        origin,
        measuredMs: options.windowDays * DAY,
        horizonMs: (options.windowDays + 3) * DAY,
        startLatencyMs: options.startLatencyMinutes * 60_000,
        stopLatencyMs: 60_000,
        checkIntervalMs: checkMinutes * 60_000,
        serviceMs: 100,
        units: schedule.minInferenceUnits,
        pricePerUnitHour: options.price,
        policy,
        schedule: { start: parseCron(schedule.startExpression), stop: parseCron(schedule.stopExpression) },
      });
    const kinds: PolicyKind[] = ['always-on', 'weekday-schedule', 'on-demand'];
    projection = {
      windowDays: options.windowDays,
      images: arrivals.length,
      truncated,
      startLatencyMinutes: options.startLatencyMinutes,
      policies: kinds.map((kind) => {
        const result = run(kind);
        return { policy: kind, unitHoursPerMonth: result.unitHoursPerMonth, monthlyUsd: result.monthlyUsd, p95Minutes: result.timeToResultMinutes.p95 };
      }),
    };
  }
  return { events: servingEvents(active), policy: serving ?? null, units, projection };
}
