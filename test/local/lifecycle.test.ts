import { readFile } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, DescribeStateMachineCommand, GetExecutionHistoryCommand, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { fixtureImage } from '../fixtures/images.js';
import type { FixtureImage } from '../fixtures/images.js';
import { startTestStack, uploadTrainingSample } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * The whole product on loopback, driven like a user drives AWS: uploads through S3, retraining, start and stop
 * through the Step Functions API, results read from DynamoDB. Training is small (30 images per label).
 */

let testStack: TestStack;
let stack: LocalStack;
let s3: S3Client;
let sfn: SFNClient;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  // Manual start and stop only here; test/local/serving.test.ts covers on-demand start and idle stop.
  testStack = await startTestStack(inject('localPackageDir'), { environment: { ON_DEMAND_START: 'false' } });
  ({ stack, s3, sfn, documents } = testStack);
  await uploadTrainingSample(testStack, 30);
}, 60_000);

afterAll(async () => {
  await testStack.stop();
});

async function upload(key: string, image: FixtureImage): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: key, Body: fixtureImage(image) }));
  await stack.idle();
}

async function row(key: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documents.send(new GetCommand({ TableName: stack.names.tables.ResultsTable ?? '', Key: { imageKey: key } }));
  return Item;
}

async function execute(logicalId: string, name: string, input: unknown): Promise<{ status?: string; output?: unknown; error?: string; cause?: string; executionArn: string }> {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: stack.names.stateMachines[logicalId], name, input: JSON.stringify(input) }));
  await stack.idle();
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return {
    status: described.status,
    output: described.output ? (JSON.parse(described.output) as unknown) : undefined,
    error: described.error,
    cause: described.cause,
    executionArn: executionArn ?? '',
  };
}

describe('local stack lifecycle', () => {
  it('an image uploaded before any model waits as PENDING', async () => {
    await upload('inbox/early.jpeg', 'pneumonia-1.jpeg');
    expect(await row('inbox/early.jpeg')).toMatchObject({ status: 'PENDING', reason: 'no-model' });
  });

  it('retrains through StartExecution: trains, gates, starts, promotes and re-drives the waiting image', async () => {
    const execution = await execute('TrainAndDeployStateMachine', 'train-v1', { versionName: 'v1', minF1: 0.5, minPneumoniaRecall: 0.5 });
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { outcome: 'DEPLOYED', versionName: 'v1' } });
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn, maxResults: 1000 }));
    const entered = (history: typeof events): string[] => history.flatMap((event) => (event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : []));
    expect(entered(events)).toEqual(expect.arrayContaining(['PrepareDataset', 'CreateModelVersion', 'DescribeTraining', 'Evaluate', 'StartModel', 'RecordDeployed']));
    // StartModel ran start-model as an execution of its own, as the service does: listed, with its own history.
    const submitted = events.find((event) => event.type === 'TaskSubmitted')?.taskSubmittedEventDetails;
    expect(submitted).toMatchObject({ resourceType: 'states', resource: 'startExecution.sync:2' });
    const childArn = (JSON.parse(submitted?.output ?? '{}') as { ExecutionArn?: string }).ExecutionArn;
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.names.stateMachines.StartModelStateMachine }));
    expect(executions.map((item) => item.executionArn)).toContain(childArn);
    const child = await sfn.send(new DescribeExecutionCommand({ executionArn: childArn }));
    expect(child.status).toBe('SUCCEEDED');
    expect(JSON.parse(child.input ?? '{}')).toMatchObject({ AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: execution.executionArn });
    const { events: childEvents = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: childArn, maxResults: 1000 }));
    expect(entered(childEvents)).toEqual(expect.arrayContaining(['PlanStart', 'StartModel', 'Promote', 'Redrive']));
    // The machine as deployed: the file with the stack's substitutions filled, and its role from the template.
    const machine = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: stack.names.stateMachines.TrainAndDeployStateMachine }));
    expect(JSON.parse(machine.definition ?? '')).toEqual(stack.stateMachines.TrainAndDeployStateMachine);
    expect(machine.definition).not.toMatch(/\$\{[A-Za-z]+\}/);
    expect(machine.roleArn).toMatch(/^arn:aws:iam::000000000000:role\/.+/);
    const { Item: active } = await documents.send(new GetCommand({ TableName: stack.names.tables.RegistryTable ?? '', Key: { id: 'active' } }));
    expect(active).toMatchObject({ versionName: 'v1', state: 'RUNNING' });
    // The image that waited was classified by the re-drive after promotion.
    expect(await row('inbox/early.jpeg')).toMatchObject({ status: expect.stringMatching(/^(CLASSIFIED|NEEDS_REVIEW)$/) as unknown, modelVersionArn: active?.projectVersionArn as unknown });
  }, 60_000);

  it('the local bus carries the retrain outcome and the re-driven image\'s labelled result, as the stage bus would', async () => {
    const events = (await readFile(stack.names.eventsFile, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { source: string; 'detail-type': string; detail: Record<string, unknown> });
    expect(events.filter((event) => event['detail-type'] === 'Retrain Finished').map((event) => [event.source, event.detail.outcome, event.detail.versionName])).toEqual([
      ['pneumo.training', 'DEPLOYED', 'v1'],
    ]);
    const early = events.filter((event) => event['detail-type'] === 'Result Stored' && event.detail.key === 'inbox/early.jpeg').map((event) => event.detail);
    expect(early[0]).toMatchObject({ status: 'PENDING', label: null });
    expect(early.at(-1)).toMatchObject({ status: expect.stringMatching(/^(CLASSIFIED|NEEDS_REVIEW)$/) as unknown, label: expect.any(String) as unknown, modelVersion: expect.stringContaining('/version/v1/') as unknown });
    expect(Number(early.at(-1)?.confidence)).toBeGreaterThan(0);
  });

  it('classifies new uploads with the running model and serves the label and status queries', async () => {
    await upload('inbox/normal.jpeg', 'normal-2.jpeg');
    await upload('inbox/bad.png', 'one-pixel.png');
    expect(await row('inbox/normal.jpeg')).toMatchObject({ labels: expect.arrayContaining([expect.objectContaining({ name: 'NORMAL' })]) as unknown });
    const rejected = await documents.send(
      new QueryCommand({
        TableName: stack.names.tables.ResultsTable ?? '',
        IndexName: 'byStatus',
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'REJECTED' },
      }),
    );
    expect(rejected.Items?.map((item): unknown => item.imageKey)).toEqual(['inbox/bad.png']);
  });

  it('a retrain with the same version name is refused, not trained twice', async () => {
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: stack.names.stateMachines.TrainAndDeployStateMachine, name: 'train-v1', input: '{"versionName":"v1"}' }))).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.names.stateMachines.TrainAndDeployStateMachine }));
    expect(executions.map((execution) => execution.name)).toEqual(['train-v1']);
  });

  it('after the stop machine runs, uploads wait as PENDING; the start machine re-drives them', async () => {
    const stopped = await execute('StopModelStateMachine', 'stop-1', {});
    expect(stopped.status).toBe('SUCCEEDED');
    await upload('inbox/while-stopped.jpeg', 'normal-1.jpeg');
    expect(await row('inbox/while-stopped.jpeg')).toMatchObject({ status: 'PENDING', reason: 'model-not-running' });

    const started = await execute('StartModelStateMachine', 'start-1', {});
    expect(started).toMatchObject({ status: 'SUCCEEDED', output: { versionName: 'v1', redrive: { answered: 1 } } });
    expect(await row('inbox/while-stopped.jpeg')).toMatchObject({ status: expect.stringMatching(/^(CLASSIFIED|NEEDS_REVIEW)$/) as unknown });
  }, 120_000);

  it('dead-lettered nothing', () => {
    expect(stack.invokers.ClassifyLambdaFunction?.stats).toMatchObject({ deadLettered: 0 });
  });
});
