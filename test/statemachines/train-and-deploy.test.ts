import {
  CreateProjectCommand,
  CreateProjectVersionCommand,
  DescribeProjectVersionsCommand,
  InternalServerError,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  RekognitionClient,
  StartProjectVersionCommand,
  ThrottlingException,
} from '@aws-sdk/client-rekognition';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalExecution } from '../../src/local/sfn-runner.js';
import { startLocalDynamo } from '../fixtures/dynamodb.js';
import type { LocalDynamo } from '../fixtures/dynamodb.js';
import { VERSION_ARN } from '../fixtures/models.js';
import { FakeRekognition, versionArn } from '../fixtures/rekognition-service.js';
import { DATA_BUCKET, evaluationSummary, GOOD_LABELS, NORMAL_RESULT } from '../fixtures/statemachines.js';
import type { LabelResult } from '../fixtures/statemachines.js';
import { createTables, deploy } from './harness.js';
import type { Deployment, Tables } from './harness.js';

const rekognitionMock = mockClient(RekognitionClient);
const s3Mock = mockClient(S3Client);

const VERSION = 'v-2026-11-25';
const SUMMARY_KEY = `evaluation/${VERSION}/EvaluationSummary-pneumo-test-${VERSION}.json`;

let dynamo: LocalDynamo;
let tables: Tables;
let deployment: Deployment;
let fake: FakeRekognition;
let writtenObjects: Map<string, string>;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

function serveTrainingImages(prefix: string, counts: Readonly<Record<string, number>>): void {
  const contents = Object.entries(counts).flatMap(([label, count]) =>
    Array.from({ length: count }, (_, index) => ({ Key: `${prefix}${label}/image ${index}.jpeg`, Size: 2048 })),
  );
  s3Mock.on(ListObjectsV2Command, { Prefix: prefix }).resolves({ Contents: [...contents, { Key: `${prefix}README.txt`, Size: 10 }] });
}

function serveSummary(f1: number, labels: readonly LabelResult[]): void {
  const body = { transformToString: () => Promise.resolve(JSON.stringify(evaluationSummary(f1, labels))) } as unknown as GetObjectCommandOutput['Body'];
  s3Mock.on(GetObjectCommand, { Bucket: DATA_BUCKET, Key: SUMMARY_KEY }).resolves({ Body: body });
}

async function registryItem(id: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.documents.send(new GetCommand({ TableName: tables.registry, Key: { id }, ConsistentRead: true }));
  return Item;
}

async function putRegistryItem(item: Record<string, unknown>): Promise<void> {
  await dynamo.documents.send(new PutCommand({ TableName: tables.registry, Item: item }));
}

function train(input: unknown = { versionName: VERSION }, executionName = `train-${VERSION}`): Promise<LocalExecution> {
  return deployment.run('train-and-deploy', input, executionName);
}

function visits(execution: LocalExecution, state: string): number {
  return execution.states.filter((name) => name === state).length;
}

function failure(execution: LocalExecution): { error: string; cause: string } {
  if (execution.status !== 'FAILED') throw new Error(`expected a failed run, got ${JSON.stringify(execution)}`);
  return { error: execution.error, cause: execution.cause };
}

beforeEach(async () => {
  tables = await createTables(dynamo);
  deployment = deploy(dynamo, tables);
  fake = new FakeRekognition();
  fake.trainedExtra = {
    EvaluationResult: { F1Score: 0.92, Summary: { S3Object: { Bucket: DATA_BUCKET, Name: SUMMARY_KEY } } },
    BillableTrainingTimeInSeconds: 3600,
  };
  fake.install(rekognitionMock);
  writtenObjects = new Map();
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    writtenObjects.set(input.Key, input.Body);
    return {};
  });
  serveTrainingImages('training/', { NORMAL: 3, PNEUMONIA: 4 });
  serveSummary(0.92, GOOD_LABELS);
});

afterEach(() => {
  rekognitionMock.reset();
  s3Mock.reset();
});

describe('train-and-deploy: happy path', () => {
  it('trains, polls until complete, gates, starts, promotes and releases the lock', async () => {
    const execution = await train();

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.status === 'SUCCEEDED' && execution.output).toMatchObject({
      outcome: 'DEPLOYED',
      versionName: VERSION,
      projectVersionArn: versionArn(VERSION),
      evaluation: { decision: 'ACCEPTED', f1: 0.92, positiveRecall: 0.95 },
      start: { versionName: VERSION, previousVersionArn: null },
    });
    // Two polls in progress, the third completed.
    expect(visits(execution, 'DescribeTraining')).toBe(3);
    expect(visits(execution, 'WaitForTraining')).toBe(3);
    expect(await registryItem('active')).toMatchObject({ projectVersionArn: versionArn(VERSION), versionName: VERSION, state: 'RUNNING', f1: 0.92 });
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({
      status: 'DEPLOYED',
      outcome: 'DEPLOYED',
      labelCounts: { NORMAL: 3, PNEUMONIA: 4 },
      gate: { decision: 'ACCEPTED', reasons: [] },
      f1: 0.92,
    });
    expect(await registryItem('lock#training')).toBeUndefined();
  });

  it('asks the service to train on the manifest it wrote, split automatically, output under evaluation/', async () => {
    await train();
    const manifestKey = `manifests/${VERSION}/training.manifest`;
    expect(rekognitionMock).toHaveReceivedCommandWith(CreateProjectVersionCommand, {
      ProjectArn: fake.projectArn,
      VersionName: VERSION,
      OutputConfig: { S3Bucket: DATA_BUCKET, S3KeyPrefix: `evaluation/${VERSION}/` },
      TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: DATA_BUCKET, Name: manifestKey } } }] },
      TestingData: { AutoCreate: true },
      Tags: { application: 'pneumo', project: 'pneumo-test', versionName: VERSION },
    });
    const lines = (writtenObjects.get(manifestKey) ?? '').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatchObject({
      'source-ref': `s3://${DATA_BUCKET}/training/NORMAL/image 0.jpeg`,
      'pneumo-class': 0,
      'pneumo-class-metadata': { 'class-name': 'NORMAL', type: 'groundtruth/image-classification', 'human-annotated': 'yes', confidence: 1 },
    });
    expect(lines.at(-1)).toMatchObject({ 'pneumo-class': 1, 'pneumo-class-metadata': { 'class-name': 'PNEUMONIA' } });
  });

  it('uses a test manifest instead of the automatic split when a testingPrefix is given', async () => {
    serveTrainingImages('testing/', { NORMAL: 1, PNEUMONIA: 1 });
    await train({ versionName: VERSION, testingPrefix: 'testing/' });
    expect(rekognitionMock).toHaveReceivedCommandWith(CreateProjectVersionCommand, {
      TestingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: DATA_BUCKET, Name: `manifests/${VERSION}/testing.manifest` } } }] },
    });
    expect(writtenObjects.get(`manifests/${VERSION}/testing.manifest`)?.trim().split('\n')).toHaveLength(2);
  });

  it('creates the project when it does not exist yet', async () => {
    fake.projectArn = undefined;
    const execution = await train();
    expect(execution.status).toBe('SUCCEEDED');
    expect(rekognitionMock).toHaveReceivedCommandWith(CreateProjectCommand, { ProjectName: 'pneumo-test' });
    expect(execution.states).toContain('UseCreatedProject');
  });

  it('uses the project another run created meanwhile (CreateProject says ResourceInUse)', async () => {
    fake.projectArn = undefined;
    // The other run's project appears between our DescribeProjects and our CreateProject.
    rekognitionMock.on(CreateProjectCommand).callsFake(() => {
      fake.projectArn = 'arn:aws:rekognition:eu-west-1:123456789012:project/pneumo-test/1700000000000';
      throw new (class extends Error {
        override name = 'ResourceInUseException';
        readonly $metadata = { httpStatusCode: 400 };
      })('project exists');
    });
    const execution = await train();
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states).toEqual(expect.arrayContaining(['FindProjectAfterConflict', 'UseFoundProject']));
  });

  it('trains only when autoStart is false: version TRAINED, nothing started, lock released', async () => {
    const execution = await train({ versionName: VERSION, autoStart: false });
    expect(execution.status === 'SUCCEEDED' && execution.output).toMatchObject({ outcome: 'TRAINED', versionName: VERSION });
    expect(rekognitionMock).not.toHaveReceivedCommand(StartProjectVersionCommand);
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'TRAINED', outcome: 'TRAINED' });
    expect(await registryItem('active')).toBeUndefined();
    expect(await registryItem('lock#training')).toBeUndefined();
  });

  it('replaces and stops the model that was live, passing the gate against its F1', async () => {
    await putRegistryItem({ id: 'active', projectVersionArn: VERSION_ARN, versionName: 'v-2026-11-01', state: 'RUNNING', f1: 0.93 });
    fake.addVersion('v-2026-11-01', ['RUNNING'], {}, VERSION_ARN);
    const execution = await train();
    expect(execution.status === 'SUCCEEDED' && execution.output).toMatchObject({
      evaluation: { liveF1: 0.93, decision: 'ACCEPTED' },
      start: { previousVersionArn: VERSION_ARN, previousStop: { status: 'STOPPING' } },
    });
    expect(await registryItem('active')).toMatchObject({ projectVersionArn: versionArn(VERSION) });
  });
});

describe('train-and-deploy: failures', () => {
  it('ends failed with the service status message when training fails, recording it', async () => {
    fake.afterCreate = ['TRAINING_IN_PROGRESS', 'TRAINING_FAILED'];
    fake.trainedExtra = {};
    let visitsSoFar = 0;
    rekognitionMock.on(DescribeProjectVersionsCommand).callsFake((input: { VersionNames?: string[] }) => ({
      ProjectVersionDescriptions: (input.VersionNames ?? []).map(() => ({
        ProjectVersionArn: versionArn(VERSION),
        Status: visitsSoFar++ === 0 ? 'TRAINING_IN_PROGRESS' : 'TRAINING_FAILED',
        StatusMessage: 'The manifest file contains too many invalid data objects.',
      })),
    }));
    const execution = await train();
    expect(failure(execution)).toEqual({ error: 'TrainingFailed', cause: 'TRAINING_FAILED: The manifest file contains too many invalid data objects.' });
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({
      status: 'FAILED',
      error: 'TrainingFailed',
      cause: 'TRAINING_FAILED: The manifest file contains too many invalid data objects.',
    });
    expect(await registryItem('lock#training')).toBeUndefined();
    expect(rekognitionMock).not.toHaveReceivedCommand(StartProjectVersionCommand);
  });

  it('stops polling at the maximum training time and ends failed as TrainingTimedOut', async () => {
    fake.afterCreate = ['TRAINING_IN_PROGRESS'];
    const execution = await train();
    const { error, cause } = failure(execution);
    expect(error).toBe('TrainingTimedOut');
    expect(cause).toContain('after 6 polls');
    // One hour of ten-minute polls.
    expect(visits(execution, 'DescribeTraining')).toBe(6);
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'FAILED', error: 'TrainingTimedOut' });
    expect(await registryItem('lock#training')).toBeUndefined();
  });

  it('rides out throttling and 5xx on CreateProjectVersion and DescribeProjectVersions', async () => {
    const throttled = new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    // A real 5xx: the SDK's InternalServerError, HTTP 500, which Step Functions names InternalServerErrorException.
    const serverError = new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } });
    fake.failNext('createProjectVersion', throttled, 2);
    fake.failNext('createProjectVersion', serverError, 2);
    fake.failNext('describeProjectVersions', new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }));
    fake.failNext('describeProjectVersions', serverError);
    const execution = await train();
    expect(execution.status).toBe('SUCCEEDED');
    expect(rekognitionMock).toHaveReceivedCommandTimes(CreateProjectVersionCommand, 5);
    expect(visits(execution, 'DescribeTraining')).toBeGreaterThanOrEqual(1);
  });

  it('gives up on throttling after the retry budget and records the failure', async () => {
    fake.failNext('createProjectVersion', new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }), 10);
    const execution = await train();
    expect(failure(execution).error).toBe('Rekognition.ThrottlingException');
    // The first try and six retries.
    expect(rekognitionMock).toHaveReceivedCommandTimes(CreateProjectVersionCommand, 7);
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'FAILED', error: 'Rekognition.ThrottlingException' });
  });

  const trainingLimit = new LimitExceededException({ message: 'too many trainings', $metadata: { httpStatusCode: 400 } });

  it('retries a training limit with its own budget: three retries are enough', async () => {
    fake.failNext('createProjectVersion', trainingLimit, 3);
    expect((await train()).status).toBe('SUCCEEDED');
    expect(rekognitionMock).toHaveReceivedCommandTimes(CreateProjectVersionCommand, 4);
  });

  it('gives up on a training limit after its three retries and records the failure', async () => {
    fake.failNext('createProjectVersion', trainingLimit, 4);
    const execution = await train();
    expect(failure(execution).error).toBe('Rekognition.LimitExceededException');
    expect(rekognitionMock).toHaveReceivedCommandTimes(CreateProjectVersionCommand, 4);
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'FAILED', error: 'Rekognition.LimitExceededException' });
    expect(await registryItem('lock#training')).toBeUndefined();
  });

  it('fails clearly with too few images, releasing the lock', async () => {
    serveTrainingImages('training/', { NORMAL: 5, PNEUMONIA: 1 });
    const execution = await train();
    const { error, cause } = failure(execution);
    expect(error).toBe('DatasetError');
    expect(cause).toContain('PNEUMONIA: 1');
    expect(rekognitionMock).not.toHaveReceivedCommand(CreateProjectVersionCommand);
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'FAILED', error: 'DatasetError' });
    expect(await registryItem('lock#training')).toBeUndefined();
  });

  it('refuses an invalid input before anything is written', async () => {
    const execution = await train({ versionName: VERSION, minF1: 1.5 });
    expect(failure(execution).error).toBe('InvalidTrainingInputError');
    expect(failure(execution).cause).toContain('minF1 must be a number from 0 to 1');
    expect(await registryItem(`version#${VERSION}`)).toBeUndefined();
    expect(await registryItem('lock#training')).toBeUndefined();
  });

  it('records a start that fails (model FAILED) and keeps the version trained but not deployed', async () => {
    fake.afterStart = ['STARTING', 'FAILED'];
    const execution = await train();
    const { error, cause } = failure(execution);
    expect(error).toBe('States.TaskFailed');
    expect(cause).toContain('ModelStartFailed');
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'TRAINED', lastStartError: expect.stringContaining('ModelStartFailed') as unknown });
    expect(await registryItem('active')).toBeUndefined();
    expect(await registryItem('lock#training')).toBeUndefined();
  });
});

describe('train-and-deploy: the gate', () => {
  it.each([
    ['F1 below the minimum', 0.8, GOOD_LABELS, 'F1_BELOW_MINIMUM', 'F1 0.800 is below the minimum 0.850'],
    [
      'pneumonia recall below the minimum',
      0.9,
      [NORMAL_RESULT, { label: 'PNEUMONIA', f1: 0.9, precision: 0.95, recall: 0.85, threshold: 0.5 }],
      'PNEUMONIA_RECALL_BELOW_MINIMUM',
      'PNEUMONIA recall 0.850 is below the minimum 0.900',
    ],
    ['no pneumonia label in the evaluation', 0.9, [NORMAL_RESULT], 'POSITIVE_LABEL_MISSING', 'no recall for PNEUMONIA'],
  ] as const)('rejects when %s: not deployed, metrics recorded, run failed as ModelRejected', async (_, f1, labels, reason, sentence) => {
    serveSummary(f1, labels);
    const execution = await train();
    const { error, cause } = failure(execution);
    expect(error).toBe('ModelRejected');
    expect(cause).toContain(sentence);
    expect(rekognitionMock).not.toHaveReceivedCommand(StartProjectVersionCommand);
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'REJECTED', f1, gate: { decision: 'REJECTED', reasons: [reason] } });
    expect(await registryItem('active')).toBeUndefined();
    expect(await registryItem('lock#training')).toBeUndefined();
  });

  it('rejects a model more than the tolerance worse than the live one, and leaves the live one alone', async () => {
    await putRegistryItem({ id: 'active', projectVersionArn: VERSION_ARN, versionName: 'v-2026-11-01', state: 'RUNNING', f1: 0.95 });
    const execution = await train();
    expect(failure(execution).cause).toContain("more than 0.020 below the live model's 0.950");
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ gate: { reasons: ['WORSE_THAN_LIVE'], liveF1: 0.95 } });
    expect(await registryItem('active')).toMatchObject({ projectVersionArn: VERSION_ARN, state: 'RUNNING' });
  });

  it('takes thresholds from the input over the stage defaults', async () => {
    serveSummary(0.8, GOOD_LABELS);
    const execution = await train({ versionName: VERSION, minF1: 0.75 });
    expect(execution.status).toBe('SUCCEEDED');
  });
});

describe('train-and-deploy: one retrain at a time', () => {
  it('refuses a double trigger of the same version after it ran, without training again', async () => {
    expect((await train()).status).toBe('SUCCEEDED');
    rekognitionMock.resetHistory();
    const second = await train({ versionName: VERSION }, `train-${VERSION}-again`);
    expect(failure(second).error).toBe('VersionExistsError');
    expect(rekognitionMock).not.toHaveReceivedCommand(CreateProjectVersionCommand);
    expect(await registryItem(`version#${VERSION}`)).toMatchObject({ status: 'DEPLOYED' });
  });

  it('refuses a second retrain while one holds the lock, naming it, and leaves that lock alone', async () => {
    const lock = {
      id: 'lock#training',
      versionName: 'v-running',
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:train:train-v-running',
      acquiredAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    };
    await putRegistryItem(lock);
    const execution = await train();
    const { error, cause } = failure(execution);
    expect(error).toBe('TrainingInProgressError');
    expect(cause).toContain('version \\"v-running\\"');
    expect(rekognitionMock).not.toHaveReceivedCommand(CreateProjectVersionCommand);
    expect(await registryItem('lock#training')).toEqual(lock);
    expect(await registryItem(`version#${VERSION}`)).toBeUndefined();
  });

  it('takes over a lock that expired (its run was aborted)', async () => {
    await putRegistryItem({
      id: 'lock#training',
      versionName: 'v-aborted',
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:train:train-v-aborted',
      acquiredAt: '2026-11-01T00:00:00.000Z',
      expiresAt: '2026-11-02T00:00:00.000Z',
    });
    expect((await train()).status).toBe('SUCCEEDED');
  });

  it('derives the version name from the start time when none is given', async () => {
    const execution = await train({ autoStart: false }, 'train-auto');
    expect(execution.status === 'SUCCEEDED' && execution.output).toMatchObject({ versionName: expect.stringMatching(/^v\d{8}-\d{6}$/) as unknown });
  });
});
