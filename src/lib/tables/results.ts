import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BatchGetCommandOutput, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FailedReason, PendingReason, RejectReason, ResultStatus } from '../result-status.js';
import { conditionalWrite } from './conditions.js';
import { queryPage, queryPages } from './query-pages.js';
import type { StartKey } from './query-pages.js';
import { keyAfter, partitionQuery, processedBefore, processedBetween, statusPartition } from './results-queries.js';
import type { Partition, RowFilter } from './results-queries.js';
import { recordDecision, recordTrainingCopy, removeDecision } from './results-reviews.js';
import type { ReviewDecision } from './results-reviews.js';

/*
 * The results table: one row per image key (`imageKey`), and two sparse indexes sorted on `processedAt`:
 * `byLabel` (rows a model answered) and `byStatus`. Every read and write of it goes through this module (this
 * file, with the Query builders in results-queries.ts and the review writes in results-reviews.ts).
 */

export { labelPartition, RESULTS_INDEXES, STATUS_INDEX, statusPartition } from './results-queries.js';
export type { Partition, ResultsIndex, RowFilter } from './results-queries.js';
export type { ReviewDecision } from './results-reviews.js';

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
  readonly lastKey: StartKey | undefined;
}

/** One stretch of a worklist: a partition, newest first, with the filter fields that belong to it. */
export type IndexSlice = Partition & Pick<RowFilter, 'status' | 'label' | 'notLabel' | 'confidence'>;

/** Where a list of slices continues: the slice, and the ExclusiveStartKey within it (absent at its start). */
export interface SliceCursor {
  readonly segment: number;
  readonly startKey?: Readonly<Record<string, string>> | undefined;
}

export interface SlicesRequest {
  readonly slices: readonly IndexSlice[];
  /** ISO times, inclusive, on processedAt. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  /** Applied to every slice. */
  readonly filter: Pick<RowFilter, 'prefix' | 'review'>;
  readonly from: SliceCursor;
  readonly limit: number;
}

export interface SlicesPage {
  readonly items: readonly ResultItem[];
  /** Where the next page starts; absent at the end of the list. */
  readonly next: SliceCursor | undefined;
}

/** Items DynamoDB evaluates per filtered Query call, and per page of slices at most (filters may discard most). */
const FILTERED_PAGE = 200;
const SLICES_READ_BUDGET = 2000;

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
    const outcome = await conditionalWrite(() =>
      this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: row,
          ConditionExpression:
            'attribute_not_exists(imageKey) OR sequencer < :sequencer OR (sequencer = :sequencer AND #status IN (:pending, :failed))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sequencer': row.sequencer, ':pending': 'PENDING', ':failed': 'FAILED' },
        }),
      ),
    );
    return outcome.written;
  }

  async get(imageKey: string): Promise<ResultItem | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.table, Key: { imageKey }, ConsistentRead: true }));
    return Item;
  }

  async delete(imageKey: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.table, Key: { imageKey } }));
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
   * One partition in `processedAt` order, page after page until `limit` rows passed the filter or the partition
   * ends. With a filter, Limit counts rows read before filtering, so pages are read until enough survive.
   */
  async queryIndex(partition: Partition, query: ResultQuery, filterStatus?: ResultStatus): Promise<ResultItem[]> {
    const input = partitionQuery(this.table, partition, {
      range: processedBetween(query.since, query.until),
      filter: { status: filterStatus },
      order: query.order ?? 'newest',
    });
    const rows: ResultItem[] = [];
    const pageLimit = (): number => (filterStatus === undefined ? query.limit - rows.length : Math.max(query.limit, 100));
    for await (const page of queryPages(this.documents, input, pageLimit)) {
      rows.push(...(page.Items ?? []));
      if (rows.length >= query.limit) break;
    }
    return rows.slice(0, query.limit);
  }

  /** One page of rows in `status` processed before `cutoff`, optionally only those with one of `reasons`. */
  async waitingPage(status: ResultStatus, cutoff: string, reasons: readonly string[] | undefined, startKey: StartKey | undefined, limit: number): Promise<WaitingPage> {
    const input = partitionQuery(this.table, statusPartition(status), { range: processedBefore(cutoff), filter: { reasons }, order: 'oldest' });
    const page = await queryPage(this.documents, input, limit, startKey);
    return { items: page.Items ?? [], lastKey: page.LastEvaluatedKey };
  }

  /** The row of `status` stored longest ago (its key and time only), or undefined when there is none. */
  async oldest(status: ResultStatus): Promise<ResultItem | undefined> {
    const input = partitionQuery(this.table, statusPartition(status), { order: 'oldest', attributes: ['imageKey', 'processedAt'] });
    const page = await queryPage(this.documents, input, 1, undefined);
    return page.Items?.[0];
  }

  /** How many rows have `status`, counted over every page of the index (no items are returned). */
  async count(status: ResultStatus): Promise<number> {
    let count = 0;
    for await (const page of queryPages(this.documents, partitionQuery(this.table, statusPartition(status), { order: 'oldest', countOnly: true }))) {
      count += page.Count ?? 0;
    }
    return count;
  }

  /** When the images of these statuses processed since `since` arrived (S3 event times), at most `max` of them. */
  async eventTimesSince(statuses: readonly ResultStatus[], since: string, max: number): Promise<{ times: number[]; truncated: boolean }> {
    const times: number[] = [];
    for (const status of statuses) {
      const input = partitionQuery(this.table, statusPartition(status), { range: processedBetween(since, undefined), order: 'oldest', attributes: ['eventTime'] });
      for await (const page of queryPages(this.documents, input)) {
        for (const item of page.Items ?? []) {
          const at = typeof item.eventTime === 'string' ? Date.parse(item.eventTime) : Number.NaN;
          if (Number.isFinite(at)) times.push(at);
        }
        if (times.length >= max) return { times, truncated: true };
      }
    }
    return { times, truncated: false };
  }

  /**
   * One page of a list of slices from `from`: slices in order, each newest first. Stops at `limit` rows or after
   * reading SLICES_READ_BUDGET items (a selective filter may discard most of what it reads), so every request is
   * bounded; a short page with a cursor means "more may follow".
   */
  async slicesPage(request: SlicesRequest): Promise<SlicesPage> {
    const items: ResultItem[] = [];
    let segment = request.from.segment;
    let startKey = request.from.startKey;
    let read = 0;
    while (segment < request.slices.length) {
      const slice = request.slices[segment];
      if (!slice) break;
      const input = partitionQuery(this.table, slice, { range: processedBetween(request.since, request.until), filter: { ...slice, ...request.filter }, order: 'newest' });
      // Without a filter every item read is shown: read exactly what the page still needs.
      const pageLimit = (): number => (input.FilterExpression === undefined ? request.limit - items.length : FILTERED_PAGE);
      for await (const response of queryPages(this.documents, input, pageLimit, startKey)) {
        read += response.ScannedCount ?? 0;
        const found = response.Items ?? [];
        const room = request.limit - items.length;
        if (found.length > room) {
          items.push(...found.slice(0, room));
          return { items, next: { segment, startKey: keyAfter(slice, items[items.length - 1] ?? {}) } };
        }
        items.push(...found);
        startKey = response.LastEvaluatedKey as Record<string, string> | undefined;
        if (startKey === undefined) segment += 1;
        if (items.length >= request.limit || read >= SLICES_READ_BUDGET) return { items, next: segment < request.slices.length ? { segment, startKey } : undefined };
      }
    }
    return { items, next: undefined };
  }

  /** Decided rows of one status processed since `since`, newest first, reading at most `budget` items; `complete` says whether all were read. */
  async reviewedSince(status: ResultStatus, since: string, budget: number): Promise<{ rows: ResultItem[]; complete: boolean }> {
    const input = partitionQuery(this.table, statusPartition(status), { range: processedBetween(since, undefined), filter: { review: 'reviewed' }, order: 'newest' });
    const rows: ResultItem[] = [];
    let read = 0;
    for await (const page of queryPages(this.documents, input, () => Math.min(FILTERED_PAGE * 5, budget - read))) {
      read += page.ScannedCount ?? 0;
      rows.push(...(page.Items ?? []));
      if (page.LastEvaluatedKey && read >= budget) return { rows, complete: false };
    }
    return { rows, complete: true };
  }

  /**
   * Records a decision only on the row the reviewer saw (same sequencer: not a re-upload) and only if nobody has
   * decided yet. Returns the row as written, or undefined when refused.
   */
  async recordDecision(imageKey: string, sequencer: string, review: ReviewDecision): Promise<ResultItem | undefined> {
    return recordDecision(this.documents, this.table, imageKey, sequencer, review);
  }

  /** Removes this reviewer's decision made at `reviewedAt` (and its training copy's fields); the row before, or undefined when refused. */
  async removeDecision(imageKey: string, reviewer: string, reviewedAt: string): Promise<ResultItem | undefined> {
    return removeDecision(this.documents, this.table, imageKey, reviewer, reviewedAt);
  }

  /** Notes the training copy on the row, only while the decision made at `reviewedAt` stands. */
  async recordTrainingCopy(copy: { readonly imageKey: string; readonly reviewedAt: string; readonly trainingKey: string; readonly copiedAt: string }): Promise<boolean> {
    return recordTrainingCopy(this.documents, this.table, copy);
  }
}
