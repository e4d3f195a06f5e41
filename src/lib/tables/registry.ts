import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/*
 * The registry table, keyed by `id` only:
 *
 *   id = "active"            the model classify uses (see model-registry.ts) and what the training side notes on it
 *   id = "lock#training"     one retrain at a time: versionName, executionArn, acquiredAt, expiresAt
 *   id = "version#<name>"    one per requested training: status, dataset counts, metrics, gate decision, outcome
 *
 * Every read and write of it goes through this module.
 */

export const ACTIVE_MODEL_ID = 'active';
export const TRAINING_LOCK_ID = 'lock#training';
const VERSION_ID_PREFIX = 'version#';

export function versionItemId(versionName: string): string {
  return `${VERSION_ID_PREFIX}${versionName}`;
}

export type RegistryItem = Record<string, unknown>;

/** A condition on a write: the expression and the values it names (attribute names are written as they are). */
export interface WriteCondition {
  readonly expression: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
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
    try {
      await this.documents.send(new DeleteCommand({ TableName: this.table, Key: { id }, ...conditionParts(condition) }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Sets the given fields (absent ones are left as they are) if the condition holds; returns whether it did.
   * Field names go through placeholders, so any name (`status`, `state`) is safe.
   */
  async setFields(id: string, fields: Readonly<RegistryItem>, condition: WriteCondition): Promise<boolean> {
    const names: Record<string, string> = { ...condition.names };
    const values: Record<string, unknown> = { ...condition.values };
    const sets = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([name, value], index) => {
        names[`#f${index}`] = name;
        values[`:v${index}`] = value;
        return `#f${index} = :v${index}`;
      });
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
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
