import type { ResultStatus } from '../lib/result-status.js';
import { labelPartition, ResultsTable, statusPartition } from '../lib/tables/results.js';
import type { ResultItem, ResultQuery } from '../lib/tables/results.js';
import { STATUSES } from './options.js';
import type { Target } from './target.js';

export type { ResultQuery } from '../lib/tables/results.js';

function table(target: Target): ResultsTable {
  return new ResultsTable(target.clients.documents, target.names.resultsTable);
}

function newestFirst(a: ResultItem, b: ResultItem): number {
  const left = typeof a.processedAt === 'string' ? a.processedAt : '';
  const right = typeof b.processedAt === 'string' ? b.processedAt : '';
  return left < right ? 1 : left > right ? -1 : 0;
}

/**
 * Results newest first through the indexes, never a scan: byLabel for a label (with the status as a filter when
 * both are given), byStatus for a status, and without either, byStatus once per status merged by time.
 */
export async function queryResults(target: Target, query: ResultQuery): Promise<ResultItem[]> {
  const results = table(target);
  if (query.label !== undefined) return results.queryIndex(labelPartition(query.label), query, query.status);
  const statuses: readonly ResultStatus[] = query.status !== undefined ? [query.status] : STATUSES;
  const parts = await Promise.all(statuses.map((status) => results.queryIndex(statusPartition(status), query)));
  const sorted = parts.flat().sort(newestFirst);
  if (query.order === 'oldest') sorted.reverse();
  return sorted.slice(0, query.limit);
}

export async function getResult(target: Target, key: string): Promise<ResultItem | undefined> {
  return table(target).get(key);
}

export async function getResults(target: Target, keys: readonly string[]): Promise<Map<string, ResultItem>> {
  return table(target).getMany(keys);
}
