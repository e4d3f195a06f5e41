import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ResultStatus } from '../lib/outcomes.js';
import { STATUSES } from './options.js';
import type { Target } from './target.js';

type Item = Record<string, unknown>;

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

/** DynamoDB BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX = 100;

function rangeCondition(since: string | undefined, until: string | undefined): { expression: string; values: Record<string, string> } {
  if (since !== undefined && until !== undefined) return { expression: ' AND processedAt BETWEEN :since AND :until', values: { ':since': since, ':until': until } };
  if (since !== undefined) return { expression: ' AND processedAt >= :since', values: { ':since': since } };
  if (until !== undefined) return { expression: ' AND processedAt <= :until', values: { ':until': until } };
  return { expression: '', values: {} };
}

/**
 * One GSI partition newest first, page after page until `limit` rows passed the filter or the partition ends.
 * With a filter, Limit counts rows read before filtering, so pages are read until enough rows survive.
 */
async function queryPartition(target: Target, index: 'byLabel' | 'byStatus', value: string, query: ResultQuery, filterStatus: ResultStatus | undefined): Promise<Item[]> {
  const hash = index === 'byLabel' ? 'label' : 'status';
  const range = rangeCondition(query.since, query.until);
  const names: Record<string, string> = { '#h': hash };
  const values: Record<string, unknown> = { ':h': value, ...range.values };
  const input: QueryCommandInput = {
    TableName: target.names.resultsTable,
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
  const rows: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await target.clients.documents.send(
      new QueryCommand({ ...input, Limit: filterStatus === undefined ? query.limit - rows.length : Math.max(query.limit, 100), ExclusiveStartKey: start }),
    );
    rows.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start && rows.length < query.limit);
  return rows.slice(0, query.limit);
}

function newestFirst(a: Item, b: Item): number {
  const left = typeof a.processedAt === 'string' ? a.processedAt : '';
  const right = typeof b.processedAt === 'string' ? b.processedAt : '';
  return left < right ? 1 : left > right ? -1 : 0;
}

/**
 * Results newest first through the indexes, never a scan: byLabel for a label (with the status as a filter when
 * both are given), byStatus for a status, and without either, byStatus once per status merged by time.
 */
export async function queryResults(target: Target, query: ResultQuery): Promise<Item[]> {
  if (query.label !== undefined) return queryPartition(target, 'byLabel', query.label, query, query.status);
  const statuses = query.status !== undefined ? [query.status] : STATUSES;
  const parts = await Promise.all(statuses.map((status) => queryPartition(target, 'byStatus', status, query, undefined)));
  const sorted = parts.flat().sort(newestFirst);
  if (query.order === 'oldest') sorted.reverse();
  return sorted.slice(0, query.limit);
}

export async function getResult(target: Target, key: string): Promise<Item | undefined> {
  const { Item } = await target.clients.documents.send(new GetCommand({ TableName: target.names.resultsTable, Key: { imageKey: key }, ConsistentRead: true }));
  return Item as Item | undefined;
}

/** The rows of these keys that exist, by key; unprocessed keys (throttling) are asked for again. */
export async function getResults(target: Target, keys: readonly string[]): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const table = target.names.resultsTable;
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    let request: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_MAX).map((imageKey) => ({ imageKey }));
    for (let attempt = 0; request && request.length > 0 && attempt < 8; attempt += 1) {
      const response = await target.clients.documents.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: request, ConsistentRead: true } } }));
      for (const item of (response.Responses?.[table] ?? []) as Item[]) {
        if (typeof item.imageKey === 'string') found.set(item.imageKey, item);
      }
      request = response.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
      if (request?.length) await new Promise((done) => setTimeout(done, 100 * 2 ** attempt));
    }
  }
  return found;
}
