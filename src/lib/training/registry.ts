import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TrainingInProgressError, VersionExistsError } from '../errors.js';
import * as z from 'zod/mini';
import { looseNumber, looseString } from '../schema.js';
import { ACTIVE_MODEL_ID, isConditionFailure, RegistryTable, TRAINING_LOCK_ID, versionItemId } from '../tables/registry.js';
import type { RegistryItem } from '../tables/registry.js';

/*
 * The training side of the registry table (ids and layout in tables/registry.ts). Every write that belongs to one
 * execution is conditioned on that execution's ARN, so a Lambda retry is idempotent and a late or foreign
 * execution can never release another one's lock or rewrite its version.
 */

/** Lifecycle of a `version#<name>` item. */
export type VersionStatus = 'TRAINING' | 'TRAINED' | 'REJECTED' | 'FAILED' | 'DEPLOYED';

export interface LabelMetrics {
  readonly label: string;
  readonly f1: number | undefined;
  readonly precision: number | undefined;
  readonly recall: number | undefined;
  readonly threshold: number | undefined;
  readonly testImages: number | undefined;
}

export interface GateRecord {
  readonly decision: 'ACCEPTED' | 'REJECTED';
  readonly reasons: readonly string[];
  readonly minF1: number;
  readonly minPneumoniaRecall: number;
  readonly maxF1Drop: number;
  /** F1 of the model that was live when the gate ran; absent when there was none. */
  readonly liveF1: number | undefined;
}

export interface VersionClaim {
  readonly versionName: string;
  readonly executionArn: string;
  readonly requestedAt: string;
  readonly trainingPrefix: string;
  readonly testingPrefix: string | undefined;
}

/** What the `active` item holds besides the fields classify reads. */
export interface ActiveRecord {
  readonly projectVersionArn: string;
  readonly versionName: string;
  readonly state: 'RUNNING' | 'STOPPED';
  readonly f1?: number | undefined;
  readonly labelMetrics?: readonly LabelMetrics[] | undefined;
  readonly minInferenceUnits?: number | undefined;
  readonly maxInferenceUnits?: number | undefined;
  readonly startedAt?: string | undefined;
  readonly promotedAt?: string | undefined;
  readonly stoppedAt?: string | undefined;
  readonly executionArn?: string | undefined;
  /** Serving fields (src/lib/serving/store.ts): why it started, its gate, the day's serving time so far. */
  readonly startReason?: string | undefined;
  readonly gateDecision?: string | undefined;
  readonly servedDay?: string | undefined;
  readonly servedMs?: number | undefined;
}

/** The `active` item as the training side reads it. */
export interface ActiveSummary {
  readonly projectVersionArn: string;
  readonly versionName: string | undefined;
  readonly state: string | undefined;
  readonly f1: number | undefined;
  readonly promotedAt: string | undefined;
  readonly inferenceUnits: { readonly min: number; readonly max: number } | undefined;
  readonly startedAt: string | undefined;
  readonly startReason: string | undefined;
  readonly servedDay: string | undefined;
  readonly servedMs: number | undefined;
}

/** The lock item; a half-written one names no holder. */
const LockItemSchema = z.object({ versionName: z.string().check(z.minLength(1)), executionArn: z.string().check(z.minLength(1)) });

/** The `active` item as the training side reads it; without an ARN there is no active model. */
const ActiveItemSchema = z.object({
  projectVersionArn: z.string().check(z.minLength(1)),
  versionName: looseString(),
  state: looseString(),
  f1: looseNumber(),
  promotedAt: looseString(),
  minInferenceUnits: looseNumber(),
  maxInferenceUnits: looseNumber(),
  startedAt: looseString(),
  startReason: looseString(),
  servedDay: looseString(),
  servedMs: looseNumber(),
});

/** The condition that only the execution `executionArn` passes. */
function heldBy(executionArn: string): { expression: string; values: { ':me': string } } {
  return { expression: 'executionArn = :me', values: { ':me': executionArn } };
}

export class TrainingRegistry {
  private readonly items: RegistryTable;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.items = new RegistryTable(documents, table);
  }

  /**
   * Takes the one training lock, or refuses naming the run that holds it. An expired lock (an execution that
   * was aborted or timed out before it could release it) is taken over; the same execution may take it again.
   */
  async acquireLock(versionName: string, executionArn: string, now: string, expiresAt: string): Promise<void> {
    try {
      await this.items.put(
        TRAINING_LOCK_ID,
        { versionName, executionArn, acquiredAt: now, expiresAt },
        { expression: 'attribute_not_exists(id) OR expiresAt < :now OR executionArn = :me', values: { ':now': now, ':me': executionArn } },
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const holder = await this.lockHolder();
      throw new TrainingInProgressError(holder?.versionName ?? 'unknown', { cause: error });
    }
  }

  async lockHolder(): Promise<{ readonly versionName: string; readonly executionArn: string } | undefined> {
    const lock = LockItemSchema.safeParse(await this.items.get(TRAINING_LOCK_ID));
    return lock.success ? lock.data : undefined;
  }

  /** Releases the lock if this execution holds it; returns whether it did. */
  async releaseLock(executionArn: string): Promise<boolean> {
    return this.items.deleteIf(TRAINING_LOCK_ID, heldBy(executionArn));
  }

  /** Records a requested version; a name already used by another execution is refused. */
  async claimVersion(claim: VersionClaim): Promise<void> {
    try {
      await this.items.put(
        versionItemId(claim.versionName),
        { ...claim, status: 'TRAINING' satisfies VersionStatus, updatedAt: claim.requestedAt },
        { expression: 'attribute_not_exists(id) OR executionArn = :me', values: { ':me': claim.executionArn } },
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionExistsError(claim.versionName, { cause: error });
      throw error;
    }
  }

  /**
   * Sets fields of a version item. With `executionArn`, only the execution that claimed the version may write
   * (returns false otherwise); without it, only an existing item is updated (a version trained elsewhere has none).
   */
  async updateVersion(versionName: string, fields: Readonly<Record<string, unknown>>, executionArn?: string): Promise<boolean> {
    return this.items.setFields(versionItemId(versionName), fields, executionArn === undefined ? { expression: 'attribute_exists(id)' } : heldBy(executionArn));
  }

  async version(versionName: string): Promise<RegistryItem | undefined> {
    return this.items.get(versionItemId(versionName));
  }

  /** The `active` item as the training side sees it (never cached; classify has its own reader). */
  async active(): Promise<ActiveSummary | undefined> {
    const parsed = ActiveItemSchema.safeParse(await this.items.get(ACTIVE_MODEL_ID));
    if (!parsed.success) return undefined;
    const { projectVersionArn, versionName, state, f1, promotedAt, minInferenceUnits: min, maxInferenceUnits: max, startedAt, startReason, servedDay, servedMs } = parsed.data;
    return {
      projectVersionArn,
      versionName,
      state,
      f1,
      promotedAt,
      inferenceUnits: min !== undefined && max !== undefined ? { min, max } : undefined,
      startedAt,
      startReason,
      servedDay,
      servedMs,
    };
  }

  async putActive(record: ActiveRecord): Promise<void> {
    await this.items.put(ACTIVE_MODEL_ID, { ...record });
  }

  /** Notes a fact (such as a failed stop) on the `active` item, if there is one. */
  async noteOnActive(fields: Readonly<Record<string, string>>): Promise<void> {
    await this.items.setFields(ACTIVE_MODEL_ID, fields, { expression: 'attribute_exists(id)' });
  }

  /** Marks the active model stopped, unless the registry has meanwhile moved on to another version. */
  async markActiveStopped(projectVersionArn: string, stoppedAt: string): Promise<boolean> {
    return this.items.setFields(ACTIVE_MODEL_ID, { state: 'STOPPED', stoppedAt }, { expression: 'projectVersionArn = :arn', values: { ':arn': projectVersionArn } });
  }
}
