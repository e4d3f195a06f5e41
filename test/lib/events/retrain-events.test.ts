import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { publishRetrainEvent, retrainEventDetail } from '../../../src/lib/events/retrain-events.js';
import type { OutcomeRecord } from '../../../src/lib/training/outcome.js';

const eventBridge = mockClient(EventBridgeClient);
const target = { client: new EventBridgeClient({ region: 'eu-west-1' }), busName: 'pneumo-ci-events', source: 'pneumo.training' };

function record(outcome: OutcomeRecord['outcome'], error = ''): OutcomeRecord {
  return { outcome, versionName: 'v7', error, cause: error ? 'F1 0.71 below 0.85' : '', lockReleased: true, activeMarkedStopped: false, stopped: [] };
}

beforeEach(() => {
  eventBridge.reset();
});

describe('retrain outcome events', () => {
  it('are made for DEPLOYED, REJECTED and FAILED only', () => {
    const made = (['DEPLOYED', 'REJECTED', 'FAILED', 'TRAINED', 'START_FAILED', 'STOPPED', 'STOP_FAILED'] as const).filter((outcome) => retrainEventDetail(record(outcome), 'arn:x', 't') !== undefined);
    expect(made).toEqual(['DEPLOYED', 'REJECTED', 'FAILED']);
  });

  it('put one entry on the stage bus with the outcome, version, error and cause', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const detail = retrainEventDetail(record('REJECTED', 'ModelRejected'), 'arn:aws:states:eu-west-1:1:execution:m:train-v7', '2026-12-01T08:00:00.000Z');
    if (!detail) throw new Error('REJECTED is a retrain event');
    await publishRetrainEvent(target, detail);
    const [call] = eventBridge.commandCalls(PutEventsCommand);
    const entries = call?.args[0].input.Entries ?? [];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ EventBusName: 'pneumo-ci-events', Source: 'pneumo.training', DetailType: 'Retrain Finished' });
    expect(JSON.parse(entries[0]?.Detail ?? '')).toEqual({
      outcome: 'REJECTED',
      versionName: 'v7',
      error: 'ModelRejected',
      cause: 'F1 0.71 below 0.85',
      executionArn: 'arn:aws:states:eu-west-1:1:execution:m:train-v7',
      finishedAt: '2026-12-01T08:00:00.000Z',
    });
  });

  it('throw when EventBridge refuses the entry, so the state machine retries instead of losing it', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const detail = retrainEventDetail(record('DEPLOYED'), 'arn:x', 't');
    if (!detail) throw new Error('DEPLOYED is a retrain event');
    await expect(publishRetrainEvent(target, detail)).rejects.toMatchObject({ name: 'EventPublishError', message: expect.stringContaining('InternalFailure') as unknown });
  });
});
