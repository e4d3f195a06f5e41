import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { OutcomeRecord } from '../training/outcome.js';

/** The outcomes of a retrain that other systems hear about; start and stop runs are operations, not retrains. */
export const RETRAIN_EVENT_OUTCOMES = ['DEPLOYED', 'REJECTED', 'FAILED'] as const;
export type RetrainEventOutcome = (typeof RETRAIN_EVENT_OUTCOMES)[number];
export const RETRAIN_DETAIL_TYPE = 'Retrain Finished';

export interface RetrainEventDetail {
  readonly outcome: RetrainEventOutcome;
  readonly versionName: string | null;
  /** Error name for REJECTED and FAILED (e.g. ModelRejected, TrainingFailed), empty for DEPLOYED. */
  readonly error: string;
  readonly cause: string;
  readonly executionArn: string;
  readonly finishedAt: string;
}

export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';
}

export function retrainEventDetail(record: OutcomeRecord, executionArn: string, finishedAt: string): RetrainEventDetail | undefined {
  const outcome = RETRAIN_EVENT_OUTCOMES.find((candidate) => candidate === record.outcome);
  if (!outcome) return undefined;
  return { outcome, versionName: record.versionName, error: record.error, cause: record.cause, executionArn, finishedAt };
}

export interface RetrainEventTarget {
  readonly client: EventBridgeClient;
  readonly busName: string;
  readonly source: string;
}

/**
 * Puts the event after the outcome is recorded. A refused entry throws, so the state machine's Retry on
 * RecordOutcome tries again (recording is idempotent) instead of the event being lost without a trace.
 */
export async function publishRetrainEvent(target: RetrainEventTarget, detail: RetrainEventDetail): Promise<void> {
  const result = await target.client.send(
    new PutEventsCommand({
      Entries: [{ EventBusName: target.busName, Source: target.source, DetailType: RETRAIN_DETAIL_TYPE, Detail: JSON.stringify(detail) }],
    }),
  );
  const entry = result.Entries?.[0];
  if ((result.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
    throw new EventPublishError(`EventBridge refused the retrain event: ${entry?.ErrorCode ?? 'no event id'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
}
