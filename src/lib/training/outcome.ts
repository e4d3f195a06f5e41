import { InvalidEventError } from '../errors.js';
import { servedAfterStop, STOP_REASONS } from '../serving/decisions.js';
import type { StopReason } from '../serving/decisions.js';
import type { ServingPolicy } from '../serving/policy.js';
import type { ServingStore } from '../serving/store.js';
import { isRecord } from './input.js';
import type { TrainingRegistry, VersionStatus } from './registry.js';

/** How a state machine run ended; each is recorded by RecordOutcome before the run's last state. */
export type Outcome = 'FAILED' | 'REJECTED' | 'TRAINED' | 'DEPLOYED' | 'START_FAILED' | 'STOPPED' | 'STOP_FAILED';

const OUTCOMES: readonly Outcome[] = ['FAILED', 'REJECTED', 'TRAINED', 'DEPLOYED', 'START_FAILED', 'STOPPED', 'STOP_FAILED'];
const TRAINING_OUTCOMES: Readonly<Partial<Record<Outcome, VersionStatus>>> = {
  FAILED: 'FAILED',
  REJECTED: 'REJECTED',
  TRAINED: 'TRAINED',
  DEPLOYED: 'DEPLOYED',
};
const DEFAULT_ERRORS: Readonly<Record<Outcome, string>> = {
  FAILED: 'TrainingRunFailed',
  REJECTED: 'ModelRejected',
  TRAINED: '',
  DEPLOYED: '',
  START_FAILED: 'ModelStartFailed',
  STOPPED: '',
  STOP_FAILED: 'ModelStopFailed',
};
/** Step Functions keeps at most 32 768 characters of a failure's cause. */
const MAX_CAUSE = 4000;

export interface StoppedVersion {
  readonly projectVersionArn: string;
  readonly versionName: string;
  /** The version's status when the stop run last saw it. */
  readonly status: string;
  /** What the stop run did: `stopped`, or `none` for a version that was not running. */
  readonly action?: string;
}

export interface OutcomeRequest {
  readonly outcome: Outcome;
  readonly executionArn: string;
  /** Absent for training runs that failed before a plan existed: the lock item names the version then. */
  readonly versionName: string | undefined;
  /** The `{ Error, Cause }` a Catch produced, or one a state built. */
  readonly error: { readonly Error: string; readonly Cause: string } | undefined;
  readonly stopped: readonly StoppedVersion[];
  /** Why a stop run ran (its execution input's `reason`; `user` when it has none). */
  readonly stopReason: StopReason;
}

export interface OutcomeRecord {
  readonly outcome: Outcome;
  readonly versionName: string | null;
  /** For a Fail state's ErrorPath and CausePath: always strings. */
  readonly error: string;
  readonly cause: string;
  readonly lockReleased: boolean;
  readonly activeMarkedStopped: boolean;
  /** The versions a stop run reported, as one list (the stop machine hands them over page by page). */
  readonly stopped: readonly StoppedVersion[];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function parseOutcomeRequest(event: unknown): OutcomeRequest {
  if (!isRecord(event)) throw new InvalidEventError('RecordOutcome expects an object payload');
  const outcome = event.outcome;
  if (typeof outcome !== 'string' || !OUTCOMES.includes(outcome as Outcome)) {
    throw new InvalidEventError(`RecordOutcome outcome must be one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(outcome)}`);
  }
  const executionArn = str(event.executionArn);
  if (!executionArn) throw new InvalidEventError('RecordOutcome needs executionArn');
  const error = isRecord(event.error)
    ? { Error: str(event.error.Error) ?? DEFAULT_ERRORS[outcome as Outcome], Cause: str(event.error.Cause) ?? '' }
    : undefined;
  const stopped = Array.isArray(event.stopped) ? (event.stopped as unknown[]).flatMap(stoppedVersions) : [];
  const reason = outcome === 'STOPPED' && isRecord(event.input) ? (event.input.reason ?? 'user') : 'user';
  if (typeof reason !== 'string' || !STOP_REASONS.includes(reason as StopReason)) {
    throw new InvalidEventError(`a stop run's reason must be one of ${STOP_REASONS.join(', ')}, got ${JSON.stringify(reason)}`);
  }
  return { outcome: outcome as Outcome, executionArn, versionName: str(event.versionName), error, stopped, stopReason: reason as StopReason };
}

/**
 * One entry of `stopped`: a version, or a page of them. The stop machine lists versions a page at a time and cannot
 * concatenate lists in JSONPath, so it sends a list of pages; a flat list is accepted as well.
 */
function stoppedVersions(entry: unknown): StoppedVersion[] {
  if (Array.isArray(entry)) return (entry as unknown[]).flatMap((item) => (isRecord(item) ? stoppedVersion(item) : []));
  return isRecord(entry) ? stoppedVersion(entry) : [];
}

function stoppedVersion(item: Record<string, unknown>): StoppedVersion[] {
  const arn = str(item.projectVersionArn);
  if (!arn) return [];
  const action = str(item.action);
  return [{ projectVersionArn: arn, versionName: str(item.versionName) ?? '', status: str(item.status) ?? 'UNKNOWN', ...(action === undefined ? {} : { action }) }];
}

/**
 * Turns a Catch's Cause into one readable sentence: a Lambda's JSON (`errorMessage`), a version description
 * (`StatusMessage`), a nested execution's description (`Error` and `Cause`), or plain text as it is.
 */
export function readableCause(cause: string): string {
  let text = cause;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (isRecord(parsed)) {
      const nestedError = str(parsed.Error);
      const nestedCause = str(parsed.Cause);
      if (nestedError !== undefined) text = nestedCause ? `${nestedError}: ${readableCause(nestedCause)}` : nestedError;
      else if (str(parsed.errorMessage) !== undefined) text = str(parsed.errorMessage) ?? cause;
      else if (str(parsed.StatusMessage) !== undefined) text = `${str(parsed.Status) ?? 'status'}: ${str(parsed.StatusMessage) ?? ''}`;
      else if (str(parsed.Status) !== undefined) text = `version status ${str(parsed.Status) ?? ''} without a status message`;
    }
  } catch {
    // Plain text already.
  }
  return text.length > MAX_CAUSE ? `${text.slice(0, MAX_CAUSE)}…` : text;
}

/**
 * Records how a run ended: the version item's status and error, the training lock released (only by the run
 * that holds it), the `active` item marked stopped after a stop run. Never throws for a record that is absent.
 */
export interface OutcomeDeps {
  readonly registry: TrainingRegistry;
  /** Serving bookkeeping: why the model stopped, the day's serving time, the end of a start or stop request. */
  readonly serving: { readonly store: ServingStore; readonly policy: ServingPolicy };
  readonly clock?: () => number;
}

export async function recordOutcome(deps: OutcomeDeps, request: OutcomeRequest): Promise<OutcomeRecord> {
  const { registry } = deps;
  const now = new Date((deps.clock ?? Date.now)()).toISOString();
  const error = request.error?.Error ?? DEFAULT_ERRORS[request.outcome];
  const cause = request.error ? readableCause(request.error.Cause) : '';
  let versionName = request.versionName;
  let activeMarkedStopped = false;

  const status = TRAINING_OUTCOMES[request.outcome];
  if (status) {
    if (versionName === undefined) {
      const holder = await registry.lockHolder();
      if (holder?.executionArn === request.executionArn) versionName = holder.versionName;
    }
    if (versionName !== undefined) {
      await registry.updateVersion(
        versionName,
        { status, outcome: request.outcome, error: error || undefined, cause: cause || undefined, finishedAt: now, updatedAt: now },
        request.executionArn,
      );
    }
  } else if (request.outcome === 'START_FAILED') {
    if (versionName !== undefined) await registry.updateVersion(versionName, { lastStartError: `${error}: ${cause}`, lastStartFailedAt: now, updatedAt: now });
    // Ends the on-demand request this run answered, and on-demand starts back off from a failure.
    await deps.serving.store.startFailed(now, `${error}: ${cause}`);
  } else if (request.outcome === 'STOPPED') {
    const before = await deps.serving.store.read();
    const active = await registry.active();
    const seen = active && request.stopped.find((version) => version.projectVersionArn === active.projectVersionArn);
    if (active && seen && seen.status !== 'RUNNING' && active.state !== 'STOPPED') {
      activeMarkedStopped = await registry.markActiveStopped(active.projectVersionArn, now);
    }
    if (activeMarkedStopped && active && before?.projectVersionArn === active.projectVersionArn) {
      const served = servedAfterStop(before.state, Date.parse(now), deps.serving.policy);
      await deps.serving.store.stopped(active.projectVersionArn, { stopReason: request.stopReason, servedDay: served.day, servedMs: served.ms });
    } else {
      await deps.serving.store.stopRequestEnded();
    }
  } else if (request.outcome === 'STOP_FAILED') {
    await registry.noteOnActive({ lastStopError: `${error}: ${cause}`, lastStopFailedAt: now });
    await deps.serving.store.stopRequestEnded();
  }
  // Conditional on this execution holding it: a no-op for every run but the retrain that took it.
  const lockReleased = await registry.releaseLock(request.executionArn);
  return { outcome: request.outcome, versionName: versionName ?? null, error, cause, lockReleased, activeMarkedStopped, stopped: request.stopped };
}
