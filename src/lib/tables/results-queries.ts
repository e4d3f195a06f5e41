import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ResultStatus } from '../result-status.js';

/*
 * How the results table's reads are written as Queries: which index holds a partition, the key condition on
 * `processedAt`, and the filters. Part of the results table module (results.ts is its public surface).
 */

/** Each index and the attribute it is partitioned on; both sort on `processedAt`. */
export const RESULTS_INDEXES = { byLabel: 'label', byStatus: 'status' } as const;
export type ResultsIndex = keyof typeof RESULTS_INDEXES;

/** The index of rows by status (PENDING, REJECTED, …), named for IAM resources and operators' help text. */
export const STATUS_INDEX = 'byStatus' satisfies ResultsIndex;

/** All rows with one status (byStatus), or all rows a model gave one label (byLabel). */
export interface Partition {
  readonly index: ResultsIndex;
  /** A status for byStatus, a label for byLabel. */
  readonly value: string;
}

export function statusPartition(status: ResultStatus): Partition {
  return { index: STATUS_INDEX, value: status };
}

export function labelPartition(label: string): Partition {
  return { index: 'byLabel', value: label };
}

/** Rows kept from a partition; every field given must hold. */
export interface RowFilter {
  readonly status?: ResultStatus | undefined;
  readonly label?: string | undefined;
  readonly notLabel?: string | undefined;
  /** Confidence band: from (inclusive) to (exclusive, except a band ending at 100). */
  readonly confidence?: { readonly from: number; readonly to: number } | undefined;
  /** Image keys starting with this. */
  readonly prefix?: string | undefined;
  /** Only rows with one of these reasons. */
  readonly reasons?: readonly string[] | undefined;
  /** Decided rows, undecided rows, or decided rows not yet copied to training. */
  readonly review?: 'reviewed' | 'unreviewed' | 'copyable' | undefined;
}

/** A condition on the sort key: `processedAt` in a range. */
export interface KeyRange {
  readonly expression: string;
  readonly values: Readonly<Record<string, string>>;
}

/** ISO times, inclusive at both ends; either may be absent. */
export function processedBetween(since: string | undefined, until: string | undefined): KeyRange {
  if (since !== undefined && until !== undefined) return { expression: ' AND processedAt BETWEEN :since AND :until', values: { ':since': since, ':until': until } };
  if (since !== undefined) return { expression: ' AND processedAt >= :since', values: { ':since': since } };
  if (until !== undefined) return { expression: ' AND processedAt <= :until', values: { ':until': until } };
  return { expression: '', values: {} };
}

export function processedBefore(cutoff: string): KeyRange {
  return { expression: ' AND processedAt < :cutoff', values: { ':cutoff': cutoff } };
}

export interface PartitionRead {
  readonly range?: KeyRange | undefined;
  readonly filter?: RowFilter | undefined;
  /** Newest first or oldest first by `processedAt`. */
  readonly order: 'newest' | 'oldest';
  /** Only these attributes (names, each stood in for by a placeholder). */
  readonly attributes?: readonly string[] | undefined;
  /** Only the number of matching rows (`Count`), no items. */
  readonly countOnly?: boolean | undefined;
}

function filterParts(filter: RowFilter, names: Record<string, string>, values: Record<string, unknown>): string[] {
  const conditions: string[] = [];
  if (filter.status !== undefined) {
    names['#s'] = 'status';
    values[':s'] = filter.status;
    conditions.push('#s = :s');
  }
  if (filter.label !== undefined) {
    names['#l'] = 'label';
    values[':l'] = filter.label;
    conditions.push('#l = :l');
  }
  if (filter.notLabel !== undefined) {
    names['#l'] = 'label';
    values[':nl'] = filter.notLabel;
    conditions.push('#l <> :nl');
  }
  if (filter.confidence !== undefined) {
    values[':cf'] = filter.confidence.from;
    if (filter.confidence.to >= 100) conditions.push('confidence >= :cf');
    else {
      values[':ct'] = filter.confidence.to;
      conditions.push('confidence >= :cf AND confidence < :ct');
    }
  }
  if (filter.prefix !== undefined) {
    values[':p'] = filter.prefix;
    conditions.push('begins_with(imageKey, :p)');
  }
  if (filter.reasons !== undefined) {
    names['#reason'] = 'reason';
    filter.reasons.forEach((reason, index) => (values[`:r${index}`] = reason));
    conditions.push(`#reason IN (${filter.reasons.map((_, index) => `:r${index}`).join(', ')})`);
  }
  if (filter.review === 'copyable') conditions.push('attribute_exists(reviewedAt) AND attribute_not_exists(trainingKey)');
  else if (filter.review === 'reviewed') conditions.push('attribute_exists(reviewedAt)');
  else if (filter.review === 'unreviewed') conditions.push('attribute_not_exists(reviewedAt)');
  return conditions;
}

/** The Query of one partition: key condition, filter, order and projection. */
export function partitionQuery(table: string, partition: Partition, read: PartitionRead): QueryCommandInput {
  const range = read.range ?? processedBetween(undefined, undefined);
  const names: Record<string, string> = { '#h': RESULTS_INDEXES[partition.index] };
  const values: Record<string, unknown> = { ':h': partition.value, ...range.values };
  const conditions = read.filter ? filterParts(read.filter, names, values) : [];
  const attributes = read.attributes ?? [];
  attributes.forEach((name, index) => (names[`#a${index}`] = name));
  return {
    TableName: table,
    IndexName: partition.index,
    KeyConditionExpression: `#h = :h${range.expression}`,
    ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
    ...(attributes.length > 0 ? { ProjectionExpression: attributes.map((_, index) => `#a${index}`).join(', ') } : {}),
    ...(read.countOnly === true ? { Select: 'COUNT' as const } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: read.order === 'oldest',
  };
}

/** The ExclusiveStartKey that continues a partition's Query right after `row`: the table key plus the index's keys. */
export function keyAfter(partition: Partition, row: Readonly<Record<string, unknown>>): Record<string, string> {
  const hash = RESULTS_INDEXES[partition.index];
  return { imageKey: String(row.imageKey), processedAt: String(row.processedAt), [hash]: String(row[hash]) };
}
