import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { healthData } from '../../src/cli/commands/health.js';
import { awsTargetFromOutputs, makeClients } from '../../src/cli/target.js';
import { captureIo, testContext } from '../fixtures/cli.js';

const cloudWatch = mockClient(CloudWatchClient);
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const OUTPUTS = {
  BucketName: 'pneumo-prod-1-eu-west-1',
  ResultsTableName: 'pneumo-prod-results',
  RegistryTableName: 'pneumo-prod-registry',
  DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/pneumo-prod-classify-dlq',
  EventBusName: 'pneumo-prod-events',
};

function context(): ReturnType<typeof testContext> {
  const target = awsTargetFromOutputs('prod', 'eu-west-1', OUTPUTS, makeClients({ region: 'eu-west-1' }));
  return testContext(target, captureIo(), () => undefined, () => NOW);
}

beforeEach(() => {
  for (const mock of [cloudWatch, sqs, dynamo]) mock.reset();
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' } });
  dynamo.on(QueryCommand).resolves({ Items: [], Count: 0 });
  dynamo.on(ScanCommand).resolves({ Items: [] });
  dynamo.on(GetCommand).resolves({ Item: { id: 'active', versionName: 'v4', state: 'RUNNING', startedAt: '2026-11-30T20:00:00.000Z', minInferenceUnits: 1 } });
});

describe('pneumo health on a deployed stage (mocked AWS)', () => {
  it('lists the stage\'s alarms in ALARM from CloudWatch, every page, by their short name', async () => {
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'pneumo-prod-dead-letters', StateReason: 'Threshold Crossed: 1 datapoint [4.0] > 0' }], NextToken: 't' })
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'pneumo-prod-serving-too-long', StateReason: 'Threshold Crossed' }] });
    const view = await healthData(context(), { format: 'json', maxPendingMinutes: 60, price: 4 });
    expect(view.alarms).toEqual([
      { name: 'dead-letters', reason: 'Threshold Crossed: 1 datapoint [4.0] > 0' },
      { name: 'serving-too-long', reason: 'Threshold Crossed' },
    ]);
    const calls = cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input);
    expect(calls[0]).toMatchObject({ AlarmNamePrefix: 'pneumo-prod-', StateValue: 'ALARM' });
    expect(calls[1]?.NextToken).toBe('t');
  });

  it('counts dead letters without receiving them, and prices today from midnight UTC only', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const view = await healthData(context(), { format: 'json', maxPendingMinutes: 60, price: 4 });
    expect(view.deadLetters).toBe(4);
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input.QueueUrl).toBe(OUTPUTS.DeadLetterQueueUrl);
    expect(view.model).toEqual({ versionName: 'v4', state: 'RUNNING' });
    // Running since yesterday 20:00: today is 12 hours at 1 unit.
    expect(view.costTodayUsd).toBe(48);
    expect(view.alarms).toEqual([]);
  });
});
