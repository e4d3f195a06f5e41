import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CheckVerdict, ExecutionStatus, UnrecordedEnd } from './decisions.js';
import type { RequestOutcome, ServingControl } from './control.js';
import type { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { clientConfig } from '../composition.js';
import type { ClientSettings } from '../composition.js';
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
  /** A request whose execution had ended unheard, cleared by this check before it decided. */
  readonly cleared?: UnrecordedEnd;
}

/** One run of the scheduled serving check (EventBridge Scheduler; a timer in the local stack). */
export async function runServingCheck(deps: {
  readonly control: ServingControl;
  readonly pendingWork: () => Promise<boolean>;
  readonly executionStatus?: (executionArn: string) => Promise<ExecutionStatus>;
  readonly clock?: () => number;
}): Promise<CheckReport> {
  const now = (deps.clock ?? Date.now)();
  const { verdict, outcome, cleared } = await deps.control.check(now, deps.pendingWork, deps.executionStatus);
  return { at: new Date(now).toISOString(), verdict, outcome, ...(cleared ? { cleared } : {}) };
}

/** DescribeExecution's status; the client is loaded on the first call (only a check with a request in flight makes one). */
export function executionStatusProbe(clientSettings: ClientSettings): (executionArn: string) => Promise<ExecutionStatus> {
  let sfn: Promise<{ client: SFNClient; Command: typeof DescribeExecutionCommand }> | undefined;
  return async (executionArn) => {
    sfn ??= import('@aws-sdk/client-sfn').then((module) => ({ client: new module.SFNClient(clientConfig(clientSettings, 'sfn')), Command: module.DescribeExecutionCommand }));
    const { client, Command } = await sfn;
    try {
      return (await client.send(new Command({ executionArn }))).status ?? 'RUNNING';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return 'NOT_FOUND';
      throw error;
    }
  };
}
