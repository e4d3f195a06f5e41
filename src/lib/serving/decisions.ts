import type { ServingPolicy } from './policy.js';
import { wallClock } from './wall-clock.js';

/*
 * When to start and when to stop a model: pure functions of the registry's serving state, the time and the policy.
 * classify (on-demand start, usage marks), the serving check (idle stop, cap, waiting images) and the cost
 * simulator all call these, so what the bench measures is what the product does.
 */

export type StartReason = 'on-demand' | 'schedule' | 'user' | 'retrain';
export type StopReason = 'idle' | 'cap' | 'schedule' | 'user';

export const START_REASONS: readonly StartReason[] = ['on-demand', 'schedule', 'user', 'retrain'];
export const STOP_REASONS: readonly StopReason[] = ['idle', 'cap', 'schedule', 'user'];

/** A start or stop some caller has asked for and whose run has not ended yet. */
export interface ServingRequest {
  readonly kind: 'START' | 'STOP';
  readonly at: number;
  /** The execution that answers it, where the caller named one (classify and the serving check do). */
  readonly executionName?: string | undefined;
}

/** What the registry's `active` item says about serving, as numbers (epoch ms). */
export interface ServingState {
  readonly running: boolean;
  /** The promoted version's quality gate said REJECTED (it was started by hand): never started on demand. */
  readonly gateRejected: boolean;
  readonly request: ServingRequest | undefined;
  readonly startedAt: number | undefined;
  readonly lastUsedAt: number | undefined;
  readonly lastStartFailedAt: number | undefined;
  /** Serving time of runs that already ended on `day` (the policy's zone). */
  readonly served: { readonly day: string; readonly ms: number } | undefined;
  /** A user's stop (`pneumo model stop`): no automatic start while it holds (see `isHeld`). */
  readonly hold: ServingHold | undefined;
}

/** When a user's hold began, when it lapses (none: until a user start), and when a user start released it. */
export interface ServingHold {
  readonly at: number;
  readonly until: number | undefined;
  readonly releasedAt: number | undefined;
}

export type StartVerdict =
  | { readonly start: true; readonly reason: 'on-demand' }
  | { readonly start: false; readonly why: 'disabled' | 'running' | 'in-flight' | 'gate-rejected' | 'held' | 'quiet-hours' | 'daily-cap' | 'start-backoff' };

export type CheckVerdict =
  | { readonly action: 'start'; readonly reason: 'on-demand' }
  /** `user`: the model runs although a user holds it stopped (a start that raced the user's stop). */
  | { readonly action: 'stop'; readonly reason: 'idle' | 'cap' | 'user' }
  | { readonly action: 'none'; readonly why: string };

export function requestInFlight(state: ServingState, now: number, policy: ServingPolicy): boolean {
  return state.request !== undefined && now - state.request.at < policy.requestTimeoutMs;
}

/** Whether a user's hold keeps the model stopped at `now`: placed, not released, not lapsed. */
export function holdApplies(hold: ServingHold | undefined, now: number): boolean {
  return hold !== undefined && hold.releasedAt === undefined && (hold.until === undefined || now < hold.until);
}

export function isHeld(state: ServingState, now: number): boolean {
  return holdApplies(state.hold, now);
}

export function inQuietHours(now: number, policy: ServingPolicy): boolean {
  const quiet = policy.quietHours;
  if (!quiet) return false;
  const minute = wallClock(now, policy.timeZone).minuteOfDay;
  return quiet.fromMinute < quiet.toMinute ? minute >= quiet.fromMinute && minute < quiet.toMinute : minute >= quiet.fromMinute || minute < quiet.toMinute;
}

/** Serving time so far on `now`'s day: ended runs of that day plus the current run since that day's midnight. */
export function servedTodayMs(state: ServingState, now: number, policy: ServingPolicy): number {
  const today = wallClock(now, policy.timeZone);
  const ended = state.served?.day === today.day ? state.served.ms : 0;
  if (!state.running || state.startedAt === undefined) return ended;
  const midnight = now - today.msSinceMidnight;
  return ended + Math.max(0, now - Math.max(state.startedAt, midnight));
}

/** What `served` becomes when the current run ends at `stoppedAt`. */
export function servedAfterStop(state: ServingState, stoppedAt: number, policy: ServingPolicy): { readonly day: string; readonly ms: number } {
  return { day: wallClock(stoppedAt, policy.timeZone).day, ms: servedTodayMs(state, stoppedAt, policy) };
}

function capReached(state: ServingState, now: number, policy: ServingPolicy): boolean {
  return policy.dailyCapMs !== undefined && servedTodayMs(state, now, policy) >= policy.dailyCapMs;
}

/**
 * Whether an image that found the model stopped should start it. Exactly one caller acts on `start: true`: the
 * registry write that records the request is conditional on the state this verdict was made from.
 */
export function onDemandStart(state: ServingState, now: number, policy: ServingPolicy): StartVerdict {
  if (!policy.onDemandStart) return { start: false, why: 'disabled' };
  if (state.gateRejected) return { start: false, why: 'gate-rejected' };
  if (isHeld(state, now)) return { start: false, why: 'held' };
  if (requestInFlight(state, now, policy)) return { start: false, why: 'in-flight' };
  if (state.running) return { start: false, why: 'running' };
  if (state.lastStartFailedAt !== undefined && now - state.lastStartFailedAt < policy.startRetryMs) return { start: false, why: 'start-backoff' };
  if (inQuietHours(now, policy)) return { start: false, why: 'quiet-hours' };
  if (capReached(state, now, policy)) return { start: false, why: 'daily-cap' };
  return { start: true, reason: 'on-demand' };
}

/**
 * The periodic check: stops a model that is idle or over its daily cap, and starts a stopped one for images that
 * still wait (they arrived while a stop was in flight, in quiet hours, over the cap, or their start failed).
 */
export function servingCheck(state: ServingState, now: number, policy: ServingPolicy, pendingWork: boolean): CheckVerdict {
  if (requestInFlight(state, now, policy)) return { action: 'none', why: 'in-flight' };
  if (state.running) {
    // A start that got past its hold check before the user's stop was recorded: the hold wins.
    if (isHeld(state, now)) return { action: 'stop', reason: 'user' };
    if (capReached(state, now, policy)) return { action: 'stop', reason: 'cap' };
    // Images still waiting while it runs (a re-drive in progress) mean it is busy, whatever the marks say.
    if (pendingWork) return { action: 'none', why: 'pending-work' };
    if (policy.idleStopMs <= 0) return { action: 'none', why: 'idle-stop-off' };
    const lastActivity = Math.max(state.lastUsedAt ?? 0, state.startedAt ?? 0);
    return now - lastActivity >= policy.idleStopMs ? { action: 'stop', reason: 'idle' } : { action: 'none', why: 'in-use' };
  }
  if (!pendingWork) return { action: 'none', why: 'no-work' };
  const verdict = onDemandStart(state, now, policy);
  return verdict.start ? { action: 'start', reason: 'on-demand' } : { action: 'none', why: verdict.why };
}

/** DescribeExecution's status, or NOT_FOUND when Step Functions has no such execution. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'NOT_FOUND';

/** How long a request may name an execution that does not exist yet: the claim is written before StartExecution. */
export const EXECUTION_APPEAR_MS = 2 * 60_000;

export interface UnrecordedEnd {
  readonly kind: 'START' | 'STOP';
  readonly error: string;
  /** Only a start that really failed (FAILED, TIMED_OUT) backs on-demand starts off; an aborted one was stopped by someone. */
  readonly backOff: boolean;
}

/**
 * Whether a request's execution ended without its run telling the registry (States.Runtime, an execution
 * timeout, a StopExecution, a lost StartExecution): then the request is over and the check may act again.
 */
export function requestEndedUnrecorded(request: ServingRequest, status: ExecutionStatus, now: number): UnrecordedEnd | undefined {
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return undefined;
  if (status === 'NOT_FOUND' && now - request.at < EXECUTION_APPEAR_MS) return undefined;
  const error = status === 'NOT_FOUND' ? 'execution-never-started' : `execution-ended-unrecorded: ${status}`;
  return { kind: request.kind, error, backOff: request.kind === 'START' && (status === 'FAILED' || status === 'TIMED_OUT') };
}

/** Whether a caller that last marked use at `lastMarkedAt` should mark it again (one write a minute, not one an image). */
export function usageMarkDue(lastMarkedAt: number | undefined, now: number, policy: ServingPolicy): boolean {
  return lastMarkedAt === undefined || now - lastMarkedAt >= policy.usageMarkMs;
}

/**
 * The execution name of a start or stop made by the serving logic: derived from the request's time, so a retried
 * call for the same request is the same execution (Step Functions refuses a second one) and every request differs.
 */
export function servingExecutionName(action: 'start' | 'stop', reason: string, requestedAt: number): string {
  return `${reason}-${action}-${new Date(requestedAt).toISOString().replace(/[-:.]/g, '')}`;
}
