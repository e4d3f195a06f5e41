import { InvalidEventError } from '../errors.js';
import * as z from 'zod/mini';
import { looseString, parseWith, shown } from '../schema.js';
import { servedAfterStop, STOP_REASONS } from '../serving/decisions.js';
import type { StopReason } from '../serving/decisions.js';
import type { ServingPolicy } from '../serving/policy.js';
import type { ServingStore } from '../serving/store.js';
import type { TrainingRegistry, VersionStatus } from './registry.js';

/** How a state machine run ended; each is recorded by RecordOutcome before the run's last state. */
const OUTCOMES = ['FAILED', 'REJECTED', 'TRAINED', 'DEPLOYED', 'START_FAILED', 'STOPPED', 'STOP_FAILED'] as const;
export type Outcome = (typeof OUTCOMES)[number];
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

/**
 * One version a stop run saw: `status` as it last saw it, `action` what it did (`stopped`, or `none` for a version
 * that was not running). Entries without an ARN carry nothing to record and are left out.
 */
const StoppedVersionSchema = z.pipe(
  z.object({ projectVersionArn: z.string().check(z.minLength(1)), versionName: looseString(), status: looseString(), action: looseString() }),
  z.transform(({ projectVersionArn, versionName, status, action }) => ({
    projectVersionArn,
    versionName: versionName ?? '',
    status: status ?? 'UNKNOWN',
    ...(action === undefined ? {} : { action }),
  })),
);

export type StoppedVersion = z.output<typeof StoppedVersionSchema>;

/** A version, or nothing for anything else. */
const asStopped = z.pipe(z.unknown(), z.transform((item: unknown) => {
  const parsed = StoppedVersionSchema.safeParse(item);
  return parsed.success ? [parsed.data] : [];
}));

/**
 * `stopped`: versions, or pages of them. The stop machine lists versions a page at a time and cannot concatenate
 * lists in JSONPath, so it sends a list of pages; a flat list is accepted as well. One level only.
 */
const StoppedListSchema = z.catch(
  z.pipe(
    z.array(z.unknown()),
    z.transform((entries) => entries.flatMap((entry) => (Array.isArray(entry) ? entry.flatMap((item) => asStopped.parse(item)) : asStopped.parse(entry)))),
  ),
  [],
);

const OutcomeRequestSchema = z.object(
  {
    outcome: z.enum(OUTCOMES, { error: (issue) => `RecordOutcome outcome must be one of ${OUTCOMES.join(', ')}, got ${shown(issue.input)}` }),
    executionArn: z.string({ error: 'RecordOutcome needs executionArn' }).check(z.minLength(1, 'RecordOutcome needs executionArn')),
    /** Absent for training runs that failed before a plan existed: the lock item names the version then. */
    versionName: looseString(),
    /** The `{ Error, Cause }` a Catch produced, or one a state built. */
    error: z.catch(z.optional(z.object({ Error: looseString(), Cause: looseString() })), undefined),
    stopped: StoppedListSchema,
    /** A stop run's execution input; its `reason` says why it ran. */
    input: z.catch(z.optional(z.looseObject({ reason: z.optional(z.unknown()) })), undefined),
  },
  { error: 'RecordOutcome expects an object payload' },
);

export interface OutcomeRequest {
  readonly outcome: Outcome;
  readonly executionArn: string;
  readonly versionName: string | undefined;
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

const StopReasonSchema = z.enum(STOP_REASONS, {
  error: (issue) => `a stop run's reason must be one of ${STOP_REASONS.join(', ')}, got ${JSON.stringify(issue.input)}`,
});

export function parseOutcomeRequest(event: unknown): OutcomeRequest {
  const request = parseWith(OutcomeRequestSchema, event, (message) => new InvalidEventError(message));
  const { outcome, error } = request;
  const reason = parseWith(StopReasonSchema, outcome === 'STOPPED' ? (request.input?.reason ?? 'user') : 'user', (message) => new InvalidEventError(message));
  return {
    outcome,
    executionArn: request.executionArn,
    versionName: request.versionName,
    error: error ? { Error: error.Error ?? DEFAULT_ERRORS[outcome], Cause: error.Cause ?? '' } : undefined,
    stopped: request.stopped,
    stopReason: reason,
  };
}

/** The shapes a Catch's Cause arrives in: a Lambda's error, a version description, a nested execution's description. */
const CauseSchema = z.object({
  Error: looseString(),
  Cause: looseString(),
  errorMessage: looseString(),
  Status: looseString(),
  StatusMessage: looseString(),
});

/**
 * Turns a Catch's Cause into one readable sentence: a Lambda's JSON (`errorMessage`), a version description
 * (`StatusMessage`), a nested execution's description (`Error` and `Cause`), or plain text as it is.
 */
export function readableCause(cause: string): string {
  let text = cause;
  try {
    const parsed = CauseSchema.safeParse(JSON.parse(cause));
    if (parsed.success) {
      const { Error: nestedError, Cause: nestedCause, errorMessage, Status, StatusMessage } = parsed.data;
      if (nestedError !== undefined) text = nestedCause ? `${nestedError}: ${readableCause(nestedCause)}` : nestedError;
      else if (errorMessage !== undefined) text = errorMessage;
      else if (StatusMessage !== undefined) text = `${Status ?? 'status'}: ${StatusMessage}`;
      else if (Status !== undefined) text = `version status ${Status} without a status message`;
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
    // Ends the request this run answered. On-demand starts back off only from a failed start of the promoted
    // version (or one whose version is unknown): a user's trial start of another version says nothing about it.
    const active = versionName === undefined ? undefined : await registry.active();
    const promoted = active === undefined || active.versionName === versionName;
    await deps.serving.store.startFailed(now, `${error}: ${cause}`, { backOff: promoted });
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
