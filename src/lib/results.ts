import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FailedReason, PendingReason, RejectReason, ResultStatus } from './outcomes.js';

export interface LabelScore {
  readonly name: string;
  readonly confidence: number;
}

/** One row per image key. `label` is set only when a model produced one, which keeps the label index sparse. */
export interface ResultRow {
  readonly imageKey: string;
  readonly bucket: string;
  readonly status: ResultStatus;
  readonly reason?: RejectReason | PendingReason | FailedReason | undefined;
  readonly detail?: string | undefined;
  readonly label?: string | undefined;
  readonly confidence?: number | undefined;
  readonly labels?: readonly LabelScore[] | undefined;
  readonly modelVersionArn?: string | undefined;
  readonly objectVersionId?: string | undefined;
  readonly eTag?: string | undefined;
  readonly size?: number | undefined;
  readonly imageFormat?: string | undefined;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly sequencer: string;
  readonly eventTime: string;
  readonly processedAt: string;
  readonly latencyMs: number;
}

/** Statuses a later delivery of the same S3 event may replace: they record a wait or a failure, not an answer. */
const REPLACEABLE: readonly ResultStatus[] = ['PENDING', 'FAILED'];

interface StoredOrder {
  readonly sequencer: string;
  readonly status: ResultStatus;
}

/** True when the stored row already answers this event or a newer one, so the event needs no work. */
export function isSettled(stored: StoredOrder | undefined, sequencer: string): boolean {
  if (!stored) return false;
  if (stored.sequencer > sequencer) return true;
  return stored.sequencer === sequencer && !REPLACEABLE.includes(stored.status);
}

export class ResultStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async order(imageKey: string): Promise<StoredOrder | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.table,
        Key: { imageKey },
        ProjectionExpression: 'sequencer, #status',
        ExpressionAttributeNames: { '#status': 'status' },
        ConsistentRead: true,
      }),
    );
    return Item as StoredOrder | undefined;
  }

  /**
   * Writes the row unless the table holds a newer event's result, or this event's final result already:
   * duplicate and late deliveries never overwrite, a re-upload (higher sequencer) always does.
   * Returns false when the condition kept the stored row.
   */
  async save(row: ResultRow): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: row,
          ConditionExpression:
            'attribute_not_exists(imageKey) OR sequencer < :sequencer OR (sequencer = :sequencer AND #status IN (:pending, :failed))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sequencer': row.sequencer, ':pending': 'PENDING', ':failed': 'FAILED' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
