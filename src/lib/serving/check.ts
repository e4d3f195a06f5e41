import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CheckVerdict } from './decisions.js';
import type { RequestOutcome, ServingControl } from './control.js';
import { STATUS_INDEX } from '../tables/results.js';


/** Whether any image waits for a model: one Query of at most one PENDING row. */
export function pendingWorkProbe(documents: DynamoDBDocumentClient, resultsTable: string): () => Promise<boolean> {
  return async () => {
    const page = await documents.send(
      new QueryCommand({
        TableName: resultsTable,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING' },
        Limit: 1,
      }),
    );
    return (page.Items ?? []).length > 0;
  };
}

export interface CheckReport {
  readonly at: string;
  readonly verdict: CheckVerdict;
  readonly outcome: RequestOutcome;
}

/** One run of the scheduled serving check (EventBridge Scheduler; a timer in the local stack). */
export async function runServingCheck(deps: { readonly control: ServingControl; readonly pendingWork: () => Promise<boolean>; readonly clock?: () => number }): Promise<CheckReport> {
  const now = (deps.clock ?? Date.now)();
  const { verdict, outcome } = await deps.control.check(now, deps.pendingWork);
  return { at: new Date(now).toISOString(), verdict, outcome };
}
