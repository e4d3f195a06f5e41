import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TrainingInProgressError, VersionExistsError } from '../errors.js';
import { ACTIVE_MODEL_ID } from '../model-registry.js';
import { looseNumber, looseString, z } from '../schema.js';

/*
 * Registry items besides `active` (which classify reads, see model-registry.ts):
 *
 *   id = "lock#training"     one retrain at a time: versionName, executionArn, acquiredAt, expiresAt
 *   id = "version#<name>"    one per requested training: status, dataset counts, metrics, gate decision, outcome
 *
 * Every write that belongs to one execution is conditioned on that execution's ARN, so a Lambda retry is
 * idempotent and a late or foreign execution can never release another one's lock or rewrite its version.
 */

export const TRAINING_LOCK_ID = 'lock#training';

export function versionItemId(versionName: string): string {
  return `version#${versionName}`;
}

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
}

/** The `active` item as the training side reads it. */
export interface ActiveSummary {
  readonly projectVersionArn: string;
  readonly versionName: string | undefined;
  readonly state: string | undefined;
  readonly f1: number | undefined;
  readonly promotedAt: string | undefined;
  readonly inferenceUnits: { readonly min: number; readonly max: number } | undefined;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
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
});

export class TrainingRegistry {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Takes the one training lock, or refuses naming the run that holds it. An expired lock (an execution that
   * was aborted or timed out before it could release it) is taken over; the same execution may take it again.
   */
  async acquireLock(versionName: string, executionArn: string, now: string, expiresAt: string): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { id: TRAINING_LOCK_ID, versionName, executionArn, acquiredAt: now, expiresAt },
          ConditionExpression: 'attribute_not_exists(id) OR expiresAt < :now OR executionArn = :me',
          ExpressionAttributeValues: { ':now': now, ':me': executionArn },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const holder = await this.lockHolder();
      throw new TrainingInProgressError(holder?.versionName ?? 'unknown', { cause: error });
    }
  }

  async lockHolder(): Promise<{ readonly versionName: string; readonly executionArn: string } | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { id: TRAINING_LOCK_ID }, ConsistentRead: true }),
    );
    const lock = LockItemSchema.safeParse(Item);
    return lock.success ? lock.data : undefined;
  }

  /** Releases the lock if this execution holds it; returns whether it did. */
  async releaseLock(executionArn: string): Promise<boolean> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { id: TRAINING_LOCK_ID },
          ConditionExpression: 'executionArn = :me',
          ExpressionAttributeValues: { ':me': executionArn },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Records a requested version; a name already used by another execution is refused. */
  async claimVersion(claim: VersionClaim): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { id: versionItemId(claim.versionName), ...claim, status: 'TRAINING' satisfies VersionStatus, updatedAt: claim.requestedAt },
          ConditionExpression: 'attribute_not_exists(id) OR executionArn = :me',
          ExpressionAttributeValues: { ':me': claim.executionArn },
        }),
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
    const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([name, value], index) => {
      names[`#f${index}`] = name;
      values[`:v${index}`] = value;
      return `#f${index} = :v${index}`;
    });
    if (executionArn !== undefined) values[':me'] = executionArn;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: versionItemId(versionName) },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: executionArn === undefined ? 'attribute_exists(id)' : 'executionArn = :me',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async version(versionName: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { id: versionItemId(versionName) }, ConsistentRead: true }),
    );
    return Item;
  }

  /** The `active` item as the training side sees it (never cached; classify has its own reader). */
  async active(): Promise<ActiveSummary | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { id: ACTIVE_MODEL_ID }, ConsistentRead: true }),
    );
    const parsed = ActiveItemSchema.safeParse(Item);
    if (!parsed.success) return undefined;
    const { projectVersionArn, versionName, state, f1, promotedAt, minInferenceUnits: min, maxInferenceUnits: max } = parsed.data;
    return { projectVersionArn, versionName, state, f1, promotedAt, inferenceUnits: min !== undefined && max !== undefined ? { min, max } : undefined };
  }

  async putActive(record: ActiveRecord): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.table, Item: { id: ACTIVE_MODEL_ID, ...record } }));
  }

  /** Notes a fact (such as a failed stop) on the `active` item, if there is one. */
  async noteOnActive(fields: Readonly<Record<string, string>>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, string> = {};
    const sets = Object.entries(fields).map(([name, value], index) => {
      names[`#f${index}`] = name;
      values[`:v${index}`] = value;
      return `#f${index} = :v${index}`;
    });
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: ACTIVE_MODEL_ID },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Marks the active model stopped, unless the registry has meanwhile moved on to another version. */
  async markActiveStopped(projectVersionArn: string, stoppedAt: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: ACTIVE_MODEL_ID },
          UpdateExpression: 'SET #state = :stopped, stoppedAt = :at',
          ConditionExpression: 'projectVersionArn = :arn',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':stopped': 'STOPPED', ':at': stoppedAt, ':arn': projectVersionArn },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
