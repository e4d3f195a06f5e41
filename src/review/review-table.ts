import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ResultStatus } from '../lib/result-status.js';
import type { ReviewFields, WorklistFilter } from './schemas.js';
import { reviewFieldsSchema } from './schemas.js';
import type { CursorState, Segment } from './worklist.js';

/*
 * Every read and write the review page makes on the results table, in one place (to fold into the results-table
 * module). Reads go through the byStatus and byLabel indexes, never a scan; decisions are conditional updates of
 * the row, so two reviewers never overwrite each other and a re-uploaded image never inherits a decision.
 */

export type Row = Readonly<Record<string, unknown>>;

/** Items DynamoDB evaluates per Query call, and per worklist request at most (filters may discard most). */
const QUERY_LIMIT = 200;
const READ_BUDGET = 2000;

const REVIEW_ATTRIBUTES = ['reviewedLabel', 'reviewer', 'reviewedAt', 'agreement', 'reviewNote', 'trainingKey', 'trainingCopiedAt'] as const;

export interface PageRequest {
  readonly filter: WorklistFilter;
  readonly segments: readonly Segment[];
  readonly from: CursorState;
  readonly limit: number;
  /** Only rows decided and not yet copied to training (the "add all" action). */
  readonly onlyCopyable?: boolean;
}

export interface Page {
  readonly items: readonly Row[];
  /** Where the next page starts; absent at the end of the list. */
  readonly next: CursorState | undefined;
}

export type DecideOutcome =
  | { readonly kind: 'decided'; readonly row: Row }
  | { readonly kind: 'conflict'; readonly row: Row }
  | { readonly kind: 'replaced'; readonly row: Row }
  | { readonly kind: 'missing' };

export type UndoOutcome = { readonly kind: 'undone'; readonly previous: Row } | { readonly kind: 'refused'; readonly row: Row | undefined };

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** The review fields of a row, or undefined while it has no (valid) decision. */
export function reviewOf(row: Row): ReviewFields | undefined {
  const parsed = reviewFieldsSchema.safeParse(row);
  return parsed.success ? parsed.data : undefined;
}

/** Key condition and filter of one segment under the user's filter. */
function segmentQuery(table: string, segment: Segment, filter: WorklistFilter, onlyCopyable: boolean): QueryCommandInput {
  const names: Record<string, string> = { '#h': segment.index === 'byStatus' ? 'status' : 'label' };
  const values: Record<string, unknown> = { ':h': segment.value };
  let key = '#h = :h';
  if (filter.since !== undefined && filter.until !== undefined) {
    key += ' AND processedAt BETWEEN :since AND :until';
    values[':since'] = filter.since;
    values[':until'] = filter.until;
  } else if (filter.since !== undefined) {
    key += ' AND processedAt >= :since';
    values[':since'] = filter.since;
  } else if (filter.until !== undefined) {
    key += ' AND processedAt <= :until';
    values[':until'] = filter.until;
  }
  const conditions: string[] = [];
  if (segment.status !== undefined) {
    names['#s'] = 'status';
    values[':s'] = segment.status;
    conditions.push('#s = :s');
  }
  if (segment.label !== undefined) {
    names['#l'] = 'label';
    values[':l'] = segment.label;
    conditions.push('#l = :l');
  }
  if (segment.notLabel !== undefined) {
    names['#l'] = 'label';
    values[':nl'] = segment.notLabel;
    conditions.push('#l <> :nl');
  }
  if (segment.confidence !== undefined) {
    values[':cf'] = segment.confidence.from;
    if (segment.confidence.to >= 100) conditions.push('confidence >= :cf');
    else {
      values[':ct'] = segment.confidence.to;
      conditions.push('confidence >= :cf AND confidence < :ct');
    }
  }
  if (filter.prefix !== undefined) {
    values[':p'] = filter.prefix;
    conditions.push('begins_with(imageKey, :p)');
  }
  if (onlyCopyable) conditions.push('attribute_exists(reviewedAt) AND attribute_not_exists(trainingKey)');
  else if (filter.reviewed === 'reviewed') conditions.push('attribute_exists(reviewedAt)');
  else if (filter.reviewed === 'unreviewed') conditions.push('attribute_not_exists(reviewedAt)');
  return {
    TableName: table,
    IndexName: segment.index,
    KeyConditionExpression: key,
    ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
  };
}

/** The ExclusiveStartKey that continues a Query right after `row`: the table key plus the index's keys. */
function keyAfter(segment: Segment, row: Row): Record<string, string> {
  const hash = segment.index === 'byStatus' ? 'status' : 'label';
  return { imageKey: String(row.imageKey), processedAt: String(row.processedAt), [hash]: String(row[hash]) };
}

export class ReviewTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * One page of the worklist from `from`: segments in order, each newest first. Stops at `limit` rows or after
   * reading READ_BUDGET items (a selective filter may discard most of what it reads), so every request is
   * bounded; a short page with a cursor means "more may follow".
   */
  async page(request: PageRequest): Promise<Page> {
    const items: Row[] = [];
    let segmentIndex = request.from.segment;
    let startKey = request.from.startKey;
    let read = 0;
    while (segmentIndex < request.segments.length) {
      const segment = request.segments[segmentIndex];
      if (!segment) break;
      const input = segmentQuery(this.table, segment, request.filter, request.onlyCopyable === true);
      // Without a filter every item read is shown: read exactly what the page still needs.
      const readLimit = input.FilterExpression === undefined ? request.limit - items.length : QUERY_LIMIT;
      const response = await this.documents.send(new QueryCommand({ ...input, Limit: readLimit, ExclusiveStartKey: startKey }));
      read += response.ScannedCount ?? 0;
      const found = (response.Items ?? []) as Row[];
      const room = request.limit - items.length;
      if (found.length > room) {
        items.push(...found.slice(0, room));
        return { items, next: { segment: segmentIndex, startKey: keyAfter(segment, items[items.length - 1] ?? {}) } };
      }
      items.push(...found);
      startKey = response.LastEvaluatedKey as Record<string, string> | undefined;
      if (startKey === undefined) segmentIndex += 1;
      const next: CursorState = { segment: segmentIndex, startKey };
      if (items.length >= request.limit || read >= READ_BUDGET) return { items, next: segmentIndex < request.segments.length ? next : undefined };
    }
    return { items, next: undefined };
  }

  async get(imageKey: string): Promise<Row | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.table, Key: { imageKey }, ConsistentRead: true }));
    return Item;
  }

  /** Newest rows of one status, for the confidence histogram. */
  async newest(status: ResultStatus, limit: number): Promise<Row[]> {
    const rows: Row[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const response = await this.documents.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'byStatus',
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status },
          ScanIndexForward: false,
          Limit: limit - rows.length,
          ExclusiveStartKey: start,
        }),
      );
      rows.push(...((response.Items ?? []) as Row[]));
      start = response.LastEvaluatedKey;
    } while (start && rows.length < limit);
    return rows;
  }

  /** Decided rows of one status processed since `since`, reading at most `budget` items; `complete` says whether all were read. */
  async reviewedSince(status: ResultStatus, since: string, budget: number): Promise<{ rows: Row[]; complete: boolean }> {
    const rows: Row[] = [];
    let read = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const response = await this.documents.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'byStatus',
          KeyConditionExpression: '#s = :s AND processedAt >= :since',
          FilterExpression: 'attribute_exists(reviewedAt)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':since': since },
          ScanIndexForward: false,
          Limit: Math.min(QUERY_LIMIT * 5, budget - read),
          ExclusiveStartKey: start,
        }),
      );
      read += response.ScannedCount ?? 0;
      rows.push(...((response.Items ?? []) as Row[]));
      start = response.LastEvaluatedKey;
    } while (start && read < budget);
    return { rows, complete: start === undefined };
  }

  /**
   * Records a decision only on the row the reviewer saw (same sequencer: not a re-upload) and only if nobody has
   * decided yet. A refused write is explained from the row as it is now.
   */
  async decide(request: { imageKey: string; sequencer: string; review: ReviewFields }): Promise<DecideOutcome> {
    const { review } = request;
    const values: Record<string, unknown> = {
      ':label': review.reviewedLabel,
      ':reviewer': review.reviewer,
      ':at': review.reviewedAt,
      ':agreement': review.agreement,
      ':seq': request.sequencer,
    };
    let update = 'SET reviewedLabel = :label, reviewer = :reviewer, reviewedAt = :at, agreement = :agreement';
    if (review.reviewNote !== undefined && review.reviewNote !== '') {
      values[':note'] = review.reviewNote;
      update += ', reviewNote = :note';
    }
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { imageKey: request.imageKey },
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(imageKey) AND sequencer = :seq AND attribute_not_exists(reviewedAt)',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'decided', row: Attributes ?? {} };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const row = await this.get(request.imageKey);
    if (!row) return { kind: 'missing' };
    if (row.sequencer !== request.sequencer) return { kind: 'replaced', row };
    return { kind: 'conflict', row };
  }

  /** Removes a decision, only the reviewer's own and only the one they made (not a later one). */
  async undo(request: { imageKey: string; reviewer: string; reviewedAt: string }): Promise<UndoOutcome> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { imageKey: request.imageKey },
          UpdateExpression: `REMOVE ${REVIEW_ATTRIBUTES.join(', ')}`,
          ConditionExpression: 'reviewer = :reviewer AND reviewedAt = :at',
          ExpressionAttributeValues: { ':reviewer': request.reviewer, ':at': request.reviewedAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { kind: 'undone', previous: Attributes ?? {} };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return { kind: 'refused', row: await this.get(request.imageKey) };
  }

  /** Notes the training copy on the row, only while the decision it was made from stands. */
  async recordTrainingCopy(request: { imageKey: string; reviewedAt: string; trainingKey: string; copiedAt: string }): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { imageKey: request.imageKey },
          UpdateExpression: 'SET trainingKey = :key, trainingCopiedAt = :copied',
          ConditionExpression: 'reviewedAt = :at',
          ExpressionAttributeValues: { ':key': request.trainingKey, ':copied': request.copiedAt, ':at': request.reviewedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
