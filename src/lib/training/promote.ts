import type { StartConfig } from '../config.js';
import { InvalidEventError, InvalidTrainingInputError, NoModelToStartError } from '../errors.js';
import * as z from 'zod/mini';
import { looseNumber, looseString, parseWith } from '../schema.js';
import { holdApplies, START_REASONS } from '../serving/decisions.js';
import type { StartReason } from '../serving/decisions.js';
import type { ServingPolicy } from '../serving/policy.js';
import { servingHoldOf } from '../serving/store.js';
import type { ServingStore } from '../serving/store.js';
import { checkUnitsFit } from '../serving/units.js';
import { inferenceUnits, parseInput, StartInputSchema } from './input.js';
import { ProjectVersionSchema } from './project-version.js';
import type { LabelMetrics, TrainingRegistry } from './registry.js';

export interface StartPlan {
  readonly versionName: string;
  readonly minInferenceUnits: number;
  readonly maxInferenceUnits: number;
  readonly startPollSeconds: number;
  readonly maxStartPolls: number;
  /** Who asked: `on-demand` (classify, the serving check), `schedule`, `retrain`, or `user` (the default). */
  readonly reason: StartReason;
  /** Present when a user's hold refused this start: the machine ends without starting anything. */
  readonly held?: { readonly by: string; readonly since: string; readonly until: string | null };
}

/** Absent (or null) is a user's start. */
const StartReasonSchema = z.pipe(
  z.transform((value: unknown) => value ?? 'user'),
  z.enum(START_REASONS, { error: (issue) => `reason must be one of ${START_REASONS.join(', ')}, got ${JSON.stringify(issue.input)}` }),
);

/** A person's explicit start (the CLI, a retrain they ran) releases a hold; automatic ones are refused by it. */
const RELEASES_HOLD: ReadonlySet<StartReason> = new Set(['user', 'retrain']);

function startReason(value: unknown): StartReason {
  return parseWith(StartReasonSchema, value, (message) => new InvalidTrainingInputError(message));
}

/**
 * Input of the start state machine: `versionName` (default: the promoted model, which is what the scheduled
 * daily start wants), `minInferenceUnits`, `maxInferenceUnits` (default: what that model ran with last, else
 * the stage defaults).
 */
export interface PlanStartDeps {
  readonly registry: TrainingRegistry;
  readonly config: StartConfig;
  /** Marks the start in flight on the registry, so classify asks for no second one meanwhile. */
  readonly serving: { readonly store: ServingStore; readonly policy: ServingPolicy };
  readonly clock?: () => number;
}

export async function planStart(deps: PlanStartDeps, raw: unknown): Promise<StartPlan> {
  const input = parseInput(StartInputSchema, raw);
  const reason = startReason(input.reason);
  const active = await deps.registry.active();
  const versionName = input.versionName ?? active?.versionName;
  if (!versionName) throw new NoModelToStartError('no versionName was given and no model has been promoted yet');
  const last = active?.versionName === versionName ? active.inferenceUnits : undefined;
  const units = inferenceUnits(input, {
    minInferenceUnits: last?.min ?? deps.config.defaults.minInferenceUnits,
    maxInferenceUnits: last?.max ?? deps.config.defaults.maxInferenceUnits,
  });
  if (deps.config.classifyConcurrency !== undefined) {
    const fit = checkUnitsFit(deps.config.classifyConcurrency, units.min, units.max);
    if (!fit.ok) throw new InvalidTrainingInputError(`inference units ${units.min}–${units.max} do not fit classify: ${fit.message}`);
  }
  const now = (deps.clock ?? Date.now)();
  const plan: StartPlan = {
    reason,
    versionName,
    minInferenceUnits: units.min,
    maxInferenceUnits: units.max,
    startPollSeconds: deps.config.startPollSeconds,
    maxStartPolls: Math.ceil((deps.config.maxStartMinutes * 60) / deps.config.startPollSeconds),
  };
  const { store } = deps.serving;
  if (RELEASES_HOLD.has(reason)) {
    await store.releaseHold(`${reason} start`, new Date(now).toISOString());
  } else {
    const hold = await store.readHold();
    if (hold && holdApplies(servingHoldOf(hold), now)) {
      // Ends the on-demand or scheduled request that asked, so nothing stays "in flight" behind the hold.
      await store.startRequestEnded(reason);
      return { ...plan, held: { by: hold.by, since: hold.at, until: hold.until ?? null } };
    }
  }
  await store.startRunBegan(reason, now, now - deps.serving.policy.requestTimeoutMs);
  return plan;
}

export interface Promotion {
  readonly versionName: string;
  readonly projectVersionArn: string;
  /** The version that was live before and still marked running: the state machine stops it next. */
  readonly previousVersionArn: string | null;
}

const PROMOTE_NEEDS = 'Promote needs versionName, executionArn and version';

/** The Promote task's payload; `version` is the DescribeProjectVersions entry of the version, now RUNNING. */
const PromoteRequestSchema = z.object(
  {
    versionName: z.string({ error: PROMOTE_NEEDS }),
    executionArn: z.string({ error: PROMOTE_NEEDS }),
    version: z.pipe(z.record(z.string(), z.unknown(), { error: PROMOTE_NEEDS }), ProjectVersionSchema),
    /** The plan's reason; absent from runs planned before reasons existed. */
    reason: looseString(),
  },
  { error: PROMOTE_NEEDS },
);

export type PromoteRequest = z.output<typeof PromoteRequestSchema>;

export function parsePromoteRequest(event: unknown): PromoteRequest {
  return parseWith(PromoteRequestSchema, event, (message) => new InvalidEventError(message));
}

/** The `labelMetrics` the evaluation wrote on the version item. */
const VersionRecordSchema = z.object({
  f1: looseNumber(),
  labelMetrics: z.catch(z.optional(z.array(z.custom<LabelMetrics>())), undefined),
  /** The quality gate's decision, when the evaluation recorded one. */
  gate: z.catch(z.optional(z.pipe(z.looseObject({ decision: looseString() }), z.transform((value) => value.decision))), undefined),
});

/**
 * Makes a running version the one classify uses: writes the `active` item (ARN, metrics, units, times) and marks
 * the version deployed. Returns the version it replaced so the state machine can stop it.
 */
export async function promoteVersion(deps: { readonly registry: TrainingRegistry; readonly clock?: () => number }, request: PromoteRequest): Promise<Promotion> {
  const { version, versionName } = request;
  const projectVersionArn = version.ProjectVersionArn;
  if (projectVersionArn === undefined) throw new InvalidEventError('the version to promote has no ProjectVersionArn');
  if (version.Status !== 'RUNNING') throw new InvalidEventError(`version ${versionName} is ${String(version.Status)}, not RUNNING`);
  const now = new Date((deps.clock ?? Date.now)()).toISOString();
  const [previous, item] = await Promise.all([deps.registry.active(), deps.registry.version(versionName)]);
  const record = item ? VersionRecordSchema.parse(item) : undefined;

  const f1 = record?.f1 ?? version.EvaluationResult?.F1Score;
  // A start of the version that already runs (a second request, a retried step) keeps its serving window.
  const alreadyServing = previous?.projectVersionArn === projectVersionArn && previous.state === 'RUNNING';
  const gate = record?.gate;
  await deps.registry.putActive({
    projectVersionArn,
    versionName,
    state: 'RUNNING',
    f1,
    labelMetrics: record?.labelMetrics,
    minInferenceUnits: version.MinInferenceUnits,
    maxInferenceUnits: version.MaxInferenceUnits,
    startedAt: alreadyServing ? (previous.startedAt ?? now) : now,
    promotedAt: previous?.projectVersionArn === projectVersionArn ? previous.promotedAt ?? now : now,
    executionArn: request.executionArn,
    startReason: alreadyServing ? (previous.startReason ?? request.reason) : request.reason,
    gateDecision: gate,
    // The day's serving time so far, for the daily cap (set when a run stops).
    servedDay: previous?.servedDay,
    servedMs: previous?.servedMs,
  });
  await deps.registry.updateVersion(versionName, { status: 'DEPLOYED', projectVersionArn, deployedAt: now, updatedAt: now });

  const replaced = previous && previous.projectVersionArn !== projectVersionArn && previous.state !== 'STOPPED';
  return { versionName, projectVersionArn, previousVersionArn: replaced ? previous.projectVersionArn : null };
}
