import { BatchGetCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { BatchGetCommandOutput, DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { FailedReason, PendingReason, RejectReason, ResultStatus } from '../result-status.js';

/*
 * The results table: one row per image key (`imageKey`), and two sparse indexes sorted on `processedAt`:
 * `byLabel` (rows a model answered) and `byStatus`. Every read and write of it goes through this module.
 */

export const RESULTS_INDEXES = { byLabel: 'label', byStatus: 'status' } as const;
export type ResultsIndex = keyof typeof RESULTS_INDEXES;

/** The index of rows by status (PENDING, REJECTED, …), for callers that query it with their own limits. */
export const STATUS_INDEX = 'byStatus' satisfies ResultsIndex;

export type ResultItem = Record<string, unknown>;

export interface ResultQuery {
  readonly label?: string | undefined;
  readonly status?: ResultStatus | undefined;
  /** ISO times, inclusive; the indexes sort on processedAt. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly limit: number;
  /** Newest first (default) or, for following new rows, oldest first. */
  readonly order?: 'newest' | 'oldest' | undefined;
}

export interface WaitingPage {
  readonly items: readonly ResultItem[];
  readonly lastKey: Record<string, unknown> | undefined;
}

/** DynamoDB BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX = 100;

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

function rangeCondition(since: string | undefined, until: string | undefined): { expression: string; values: Record<string, string> } {
  if (since !== undefined && until !== undefined) return { expression: ' AND processedAt BETWEEN :since AND :until', values: { ':since': since, ':until': until } };
  if (since !== undefined) return { expression: ' AND processedAt >= :since', values: { ':since': since } };
  if (until !== undefined) return { expression: ' AND processedAt <= :until', values: { ':until': until } };
  return { expression: '', values: {} };
}

export class ResultsTable {
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

  async get(imageKey: string): Promise<ResultItem | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.table, Key: { imageKey }, ConsistentRead: true }));
    return Item;
  }

  /** The rows of these keys that exist, by key; unprocessed keys (throttling) are asked for again. */
  async getMany(keys: readonly string[]): Promise<Map<string, ResultItem>> {
    const found = new Map<string, ResultItem>();
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let request: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_MAX).map((imageKey) => ({ imageKey }));
      for (let attempt = 0; request && request.length > 0 && attempt < 8; attempt += 1) {
        const response: BatchGetCommandOutput = await this.documents.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: request, ConsistentRead: true } } }));
        for (const item of response.Responses?.[this.table] ?? []) {
          if (typeof item.imageKey === 'string') found.set(item.imageKey, item);
        }
        request = response.UnprocessedKeys?.[this.table]?.Keys;
        if (request?.length) await new Promise((done) => setTimeout(done, 100 * 2 ** attempt));
      }
    }
    return found;
  }

  /**
   * One index partition in `processedAt` order, page after page until `limit` rows passed the filter or the
   * partition ends. With a filter, Limit counts rows read before filtering, so pages are read until enough survive.
   */
  async queryIndex(index: ResultsIndex, value: string, query: ResultQuery, filterStatus?: ResultStatus): Promise<ResultItem[]> {
    const range = rangeCondition(query.since, query.until);
    const names: Record<string, string> = { '#h': RESULTS_INDEXES[index] };
    const values: Record<string, unknown> = { ':h': value, ...range.values };
    const input: QueryCommandInput = {
      TableName: this.table,
      IndexName: index,
      KeyConditionExpression: `#h = :h${range.expression}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: query.order === 'oldest',
    };
    if (filterStatus !== undefined) {
      names['#s'] = 'status';
      values[':s'] = filterStatus;
      input.FilterExpression = '#s = :s';
    }
    const rows: ResultItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({ ...input, Limit: filterStatus === undefined ? query.limit - rows.length : Math.max(query.limit, 100), ExclusiveStartKey: start }),
      );
      rows.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start && rows.length < query.limit);
    return rows.slice(0, query.limit);
  }

  /** One page of rows in `status` processed before `cutoff`, optionally only those with one of `reasons`. */
  async waitingPage(status: ResultStatus, cutoff: string, reasons: readonly string[] | undefined, startKey: Record<string, unknown> | undefined, limit: number): Promise<WaitingPage> {
    const filtered = reasons !== undefined;
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byStatus' satisfies ResultsIndex,
        KeyConditionExpression: '#status = :status AND processedAt < :cutoff',
        ...(filtered ? { FilterExpression: `#reason IN (${reasons.map((_, index) => `:r${index}`).join(', ')})` } : {}),
        ExpressionAttributeNames: { '#status': 'status', ...(filtered ? { '#reason': 'reason' } : {}) },
        ExpressionAttributeValues: {
          ':status': status,
          ':cutoff': cutoff,
          ...(filtered ? Object.fromEntries(reasons.map((reason, index) => [`:r${index}`, reason])) : {}),
        },
        ExclusiveStartKey: startKey,
        Limit: limit,
      }),
    );
    return { items: page.Items ?? [], lastKey: page.LastEvaluatedKey };
  }
}
