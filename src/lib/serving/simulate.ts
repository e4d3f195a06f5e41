import { cronFiresAt } from '../cost.js';
import type { Cron } from '../cost.js';
import { onDemandStart, servedAfterStop, servingCheck, usageMarkDue } from './decisions.js';
import type { ServingState, StopReason } from './decisions.js';
import type { ServingPolicy } from './policy.js';

/*
 * Replays image arrivals against one serving policy and measures what the model costs and how long each image
 * waits. The on-demand policy calls the product's own decisions (decisions.ts): the verdict classify gives when an
 * image finds the model stopped, the periodic serving check, the usage marks. Nothing is re-implemented here but
 * the service itself: a start takes `startLatencyMs`, a stop `stopLatencyMs`, a running model answers one image
 * per `serviceMs / units` in arrival order, and it bills per unit from RUNNING until STOPPED.
 */

export type PolicyKind = 'always-on' | 'weekday-schedule' | 'on-demand';

export interface SimulationInput {
  readonly kind: PolicyKind;
  /** Arrival times in ms after `origin`, ascending. */
  readonly arrivals: readonly number[];
  /** Epoch ms of time 0 (wall-clock schedules and the policy's day are read from it). */
  readonly origin: number;
  /** Images arriving in [0, measuredMs) are measured, and the model's billing in that window. */
  readonly measuredMs: number;
  /** The run goes on to here so late images of the window are answered (arrivals after the window keep it realistic). */
  readonly horizonMs: number;
  readonly startLatencyMs: number;
  readonly stopLatencyMs: number;
  /** How often the serving check runs (the stage's schedule rate). */
  readonly checkIntervalMs: number;
  /** Time one inference unit takes per image. */
  readonly serviceMs: number;
  readonly units: number;
  readonly pricePerUnitHour: number;
  /** The on-demand policy's parameters (used by `on-demand` only). */
  readonly policy: ServingPolicy;
  /** The daily start and stop (used by `weekday-schedule` only), read on the wall clock of `origin` (UTC fields). */
  readonly schedule?: { readonly start: Cron; readonly stop: Cron };
}

export interface SimulationResult {
  readonly kind: PolicyKind;
  readonly images: number;
  readonly answered: number;
  readonly unitHours: number;
  readonly unitHoursPerMonth: number;
  readonly monthlyUsd: number;
  readonly usdPer1000Images: number;
  /** Arrival → answer, minutes, nearest rank. */
  readonly timeToResultMinutes: { readonly p50: number; readonly p95: number; readonly max: number };
  readonly starts: number;
  readonly stops: Readonly<Partial<Record<StopReason, number>>>;
}

const HOUR = 3_600_000;
const HOURS_PER_MONTH = (365 * 24) / 12;

type Phase = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING';

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

function cronTimes(cron: Cron, origin: number, horizonMs: number): number[] {
  const times: number[] = [];
  for (let t = 0; t < horizonMs; t += 60_000) if (cronFiresAt(cron, new Date(origin + t))) times.push(t);
  return times;
}

export function simulate(input: SimulationInput): SimulationResult {
  const { arrivals, policy } = input;
  const perImageMs = input.serviceMs / input.units;
  let phase = (input.kind === 'always-on' ? 'RUNNING' : 'STOPPED') as Phase;
  let transitionAt = Number.POSITIVE_INFINITY;
  let runningSince = 0;
  let billedMs = 0;
  let starts = 0;
  const stops: Partial<Record<StopReason, number>> = {};
  // The registry's view, in the decisions' terms (times relative to origin are shifted back where wall clock matters).
  let registry: ServingState = {
    running: phase === 'RUNNING',
    gateRejected: false,
    request: undefined,
    startedAt: phase === 'RUNNING' ? input.origin : undefined,
    lastUsedAt: undefined,
    lastStartFailedAt: undefined,
    served: undefined,
    hold: undefined,
  };
  const queue: number[] = [];
  let head = 0;
  let serving: { readonly arrival: number; readonly doneAt: number } | undefined;
  const waits: number[] = [];
  let nextArrival = 0;
  let nextCheck = input.kind === 'on-demand' ? input.checkIntervalMs : Number.POSITIVE_INFINITY;
  const crons =
    input.kind === 'weekday-schedule' && input.schedule
      ? [
          ...cronTimes(input.schedule.start, input.origin, input.horizonMs).map((at) => ({ at, kind: 'start' as const })),
          ...cronTimes(input.schedule.stop, input.origin, input.horizonMs).map((at) => ({ at, kind: 'stop' as const })),
        ].sort((a, b) => a.at - b.at)
      : [];
  let nextCron = 0;
  const abs = (t: number): number => input.origin + t;

  const bill = (from: number, to: number): void => {
    billedMs += Math.max(0, Math.min(to, input.measuredMs) - Math.max(from, 0));
  };
  const pending = (): boolean => head < queue.length || serving !== undefined;
  const serveNext = (t: number): void => {
    if (phase !== 'RUNNING' || serving || head >= queue.length) return;
    serving = { arrival: queue[head++] ?? t, doneAt: t + perImageMs };
  };
  const beginStart = (t: number, marked: boolean): void => {
    phase = 'STARTING';
    transitionAt = t + input.startLatencyMs;
    starts += 1;
    if (marked) registry = { ...registry, request: { kind: 'START', at: abs(t) } };
  };
  const beginStop = (t: number, reason: StopReason): void => {
    phase = 'STOPPING';
    transitionAt = t + input.stopLatencyMs;
    stops[reason] = (stops[reason] ?? 0) + 1;
    registry = { ...registry, request: { kind: 'STOP', at: abs(t) } };
  };
  const transition = (t: number): void => {
    transitionAt = Number.POSITIVE_INFINITY;
    if (phase === 'STARTING') {
      phase = 'RUNNING';
      runningSince = t;
      registry = { ...registry, running: true, startedAt: abs(t), request: undefined };
      serveNext(t);
    } else if (phase === 'STOPPING') {
      phase = 'STOPPED';
      // A stop that interrupted a start never reached RUNNING: nothing was billed.
      if (registry.running) {
        bill(runningSince, t);
        registry = { ...registry, served: servedAfterStop(registry, abs(t), policy), running: false };
      }
      registry = { ...registry, request: undefined };
    }
  };

  for (;;) {
    const arrivalAt = arrivals[nextArrival] ?? Number.POSITIVE_INFINITY;
    const cron = crons[nextCron];
    const cronAt = cron?.at ?? Number.POSITIVE_INFINITY;
    const doneAt = serving?.doneAt ?? Number.POSITIVE_INFINITY;
    const t = Math.min(transitionAt, doneAt, arrivalAt, nextCheck, cronAt);
    if (t >= input.horizonMs) break;
    if (t === transitionAt) {
      transition(t);
    } else if (t === doneAt && serving) {
      if (serving.arrival < input.measuredMs) waits.push(t - serving.arrival);
      serving = undefined;
      if (usageMarkDue(registry.lastUsedAt, abs(t), policy)) registry = { ...registry, lastUsedAt: abs(t) };
      serveNext(t);
    } else if (t === arrivalAt) {
      nextArrival += 1;
      queue.push(t);
      if (phase === 'RUNNING') serveNext(t);
      else if (input.kind === 'on-demand' && onDemandStart(registry, abs(t), policy).start) beginStart(t, true);
    } else if (t === nextCheck) {
      nextCheck += input.checkIntervalMs;
      const verdict = servingCheck(registry, abs(t), policy, pending());
      if (verdict.action === 'start' && phase === 'STOPPED') beginStart(t, true);
      else if (verdict.action === 'stop' && phase === 'RUNNING') beginStop(t, verdict.reason);
    } else if (cron) {
      nextCron += 1;
      if (cron.kind === 'start' && phase === 'STOPPED') beginStart(t, false);
      else if (cron.kind === 'stop' && (phase === 'RUNNING' || phase === 'STARTING')) beginStop(t, 'schedule');
    }
  }
  if (phase === 'RUNNING' || phase === 'STOPPING') bill(runningSince, input.horizonMs);

  const images = arrivals.filter((t) => t < input.measuredMs).length;
  const sorted = waits.sort((a, b) => a - b);
  const unitHours = (billedMs / HOUR) * input.units;
  const months = input.measuredMs / HOUR / HOURS_PER_MONTH;
  const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
  const minutes = (ms: number): number => round(ms / 60_000, 1);
  return {
    kind: input.kind,
    images,
    answered: sorted.length,
    unitHours: round(unitHours),
    unitHoursPerMonth: round(unitHours / months),
    monthlyUsd: round((unitHours / months) * input.pricePerUnitHour),
    usdPer1000Images: images > 0 ? round(((unitHours * input.pricePerUnitHour) / images) * 1000) : 0,
    timeToResultMinutes: { p50: minutes(quantile(sorted, 0.5)), p95: minutes(quantile(sorted, 0.95)), max: minutes(sorted[sorted.length - 1] ?? Number.NaN) },
    starts,
    stops,
  };
}
