import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CheckVerdict } from './decisions.js';
import type { RequestOutcome, ServingControl } from './control.js';
import { ResultsTable } from '../tables/results.js';

/** Whether any image waits for a model: one Query of at most one PENDING row. */
export function pendingWorkProbe(documents: DynamoDBDocumentClient, resultsTable: string): () => Promise<boolean> {
  const results = new ResultsTable(documents, resultsTable);
  return async () => (await results.oldest('PENDING')) !== undefined;
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
