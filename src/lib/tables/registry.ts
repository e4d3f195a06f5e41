import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditions.js';

export { isConditionFailure } from './conditions.js';

/*
 * The registry table, keyed by `id` only:
 *
 *   id = "active"            the model classify uses (see model-registry.ts) and what the training side notes on it
 *   id = "lock#training"     one retrain at a time: versionName, executionArn, acquiredAt, expiresAt
 *   id = "version#<name>"    one per requested training: status, dataset counts, metrics, gate decision, outcome
 *   id = "serving#hold"      a user's stop that keeps the model stopped (src/lib/serving/store.ts)
 *
 * Every read and write of it goes through this module.
 */

export const ACTIVE_MODEL_ID = 'active';
export const TRAINING_LOCK_ID = 'lock#training';
export const SERVING_HOLD_ID = 'serving#hold';
const VERSION_ID_PREFIX = 'version#';

export function versionItemId(versionName: string): string {
  return `${VERSION_ID_PREFIX}${versionName}`;
}

/** The version name a `version#<name>` id stands for (an id of another kind is returned as it is). */
export function versionNameOfId(id: string): string {
  return id.startsWith(VERSION_ID_PREFIX) ? id.slice(VERSION_ID_PREFIX.length) : id;
}

export type RegistryItem = Record<string, unknown>;

/** A condition on a write: the expression and the values it names (attribute names are written as they are). */
export interface WriteCondition {
  readonly expression: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

/** Fields to set (absent ones are left as they are) and fields to remove, in one update. */
export interface FieldChange {
  readonly set?: Readonly<RegistryItem>;
  readonly remove?: readonly string[];
}

export class RegistryTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(id: string): Promise<RegistryItem | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    return Item;
  }

  /** Writes the item; a failed condition throws ConditionalCheckFailedException for the caller to name. */
  async put(id: string, fields: Readonly<RegistryItem>, condition?: WriteCondition): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.table,
        Item: { id, ...fields },
        ...(condition ? conditionParts(condition) : {}),
      }),
    );
  }

  /** Deletes the item if the condition holds; returns whether it did. */
  async deleteIf(id: string, condition: WriteCondition): Promise<boolean> {
    const outcome = await conditionalWrite(() => this.documents.send(new DeleteCommand({ TableName: this.table, Key: { id }, ...conditionParts(condition) })));
    return outcome.written;
  }

  /** Sets the given fields (absent ones are left as they are) if the condition holds; returns whether it did. */
  async setFields(id: string, fields: Readonly<RegistryItem>, condition: WriteCondition): Promise<boolean> {
    return this.update(id, { set: fields }, condition);
  }

  /**
   * Sets and removes fields in one update if the condition holds; returns whether it did. Field names go through
   * placeholders, so any name (`status`, `state`, `serving`) is safe.
   */
  async update(id: string, change: FieldChange, condition: WriteCondition): Promise<boolean> {
    const names: Record<string, string> = { ...condition.names };
    const values: Record<string, unknown> = { ...condition.values };
    const sets = Object.entries(change.set ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([name, value], index) => {
        names[`#f${index}`] = name;
        values[`:v${index}`] = value;
        return `#f${index} = :v${index}`;
      });
    const removes = (change.remove ?? []).map((name, index) => {
      names[`#r${index}`] = name;
      return `#r${index}`;
    });
    const clauses = [...(sets.length > 0 ? [`SET ${sets.join(', ')}`] : []), ...(removes.length > 0 ? [`REMOVE ${removes.join(', ')}`] : [])];
    const outcome = await conditionalWrite(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: clauses.join(' '),
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );
    return outcome.written;
  }

  /**
   * Every `version#<name>` item. The registry holds one item per requested training plus `active` and a lock, a few
   * hundred items at most in a project's life, and its only key is `id`: a filtered scan of it costs less than a
   * Rekognition listing and also finds versions that failed before Rekognition knew them. (The results table,
   * which grows with every image, is never scanned.)
   */
  async versionItems(): Promise<RegistryItem[]> {
    const items: RegistryItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(id, :version)',
          ExpressionAttributeValues: { ':version': VERSION_ID_PREFIX },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function conditionParts(condition: WriteCondition): {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  return {
    ConditionExpression: condition.expression,
    ...(condition.names ? { ExpressionAttributeNames: { ...condition.names } } : {}),
    ...(condition.values ? { ExpressionAttributeValues: { ...condition.values } } : {}),
  };
}
