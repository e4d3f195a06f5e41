import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, QueryCommandInput, QueryCommandOutput } from '@aws-sdk/lib-dynamodb';

/*
 * The one place a Query is sent, for every index read of every table module: a page, or the pages of a Query in
 * order. Callers size each page and stop early themselves; DynamoDB's Limit counts items read, before any filter.
 */

export type StartKey = Record<string, unknown>;

/** One page from `start`; `limit` undefined reads a full page (1 MB). */
export async function queryPage(documents: DynamoDBDocumentClient, input: QueryCommandInput, limit: number | undefined, start: StartKey | undefined): Promise<QueryCommandOutput> {
  return documents.send(new QueryCommand({ ...input, ...(limit === undefined ? {} : { Limit: limit }), ExclusiveStartKey: start }));
}

/**
 * The pages of a Query from `start` until the last one. `pageLimit` is asked before each page, after the caller
 * has taken the previous one, so a page can be sized to what the caller still needs; leaving the loop stops.
 */
export async function* queryPages(
  documents: DynamoDBDocumentClient,
  input: QueryCommandInput,
  pageLimit: () => number | undefined = () => undefined,
  start?: StartKey,
): AsyncGenerator<QueryCommandOutput, void> {
  let startKey = start;
  do {
    const page = await queryPage(documents, input, pageLimit(), startKey);
    yield page;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
