import {
  DescribeProjectVersionsCommand,
  DetectCustomLabelsCommand,
  InvalidPaginationTokenException,
  RekognitionClient,
  ResourceInUseException,
  StartProjectVersionCommand,
  StopProjectVersionCommand,
} from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResultRow } from '../../src/lib/tables/results.js';
import { normalizeSequencer } from '../../src/lib/s3-event.js';
import { runLocally } from '../../src/local/sfn-runner.js';
import type { LocalExecution, LocalTargets } from '../../src/local/sfn-runner.js';
import { startLocalDynamo } from '../fixtures/dynamodb.js';
import type { LocalDynamo } from '../fixtures/dynamodb.js';
import { fixtureImage } from '../fixtures/images.js';
import { NEXT_VERSION_ARN, VERSION_ARN } from '../fixtures/models.js';
import { FakeRekognition, versionArn } from '../fixtures/rekognition-service.js';
import { serveObjects } from '../fixtures/s3-objects.js';
import { loadDefinition, SUBSTITUTIONS } from '../fixtures/statemachines.js';
import { createTables, deploy } from './harness.js';
import type { Deployment, Tables } from './harness.js';

const rekognitionMock = mockClient(RekognitionClient);
const s3Mock = mockClient(S3Client);

const LIVE = 'v-2026-11-01';
const NEXT = 'v-2026-11-20';
const BUCKET = 'pneumo-data';

let dynamo: LocalDynamo;
let tables: Tables;
let deployment: Deployment;
let fake: FakeRekognition;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  tables = await createTables(dynamo);
  deployment = deploy(dynamo, tables);
  fake = new FakeRekognition();
  fake.install(rekognitionMock);
});

afterEach(() => {
  rekognitionMock.reset();
  s3Mock.reset();
});

async function item(table: string, key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.documents.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
  return Item;
}

async function put(table: string, value: Record<string, unknown>): Promise<void> {
  await dynamo.documents.send(new PutCommand({ TableName: table, Item: value }));
}

function failure(execution: LocalExecution): { error: string; cause: string } {
  if (execution.status !== 'FAILED') throw new Error(`expected a failed run, got ${JSON.stringify(execution)}`);
  return { error: execution.error, cause: execution.cause };
}

function output(execution: LocalExecution): unknown {
  if (execution.status !== 'SUCCEEDED') throw new Error(`expected a successful run, got ${JSON.stringify(execution)}`);
  return execution.output;
}

function visits(execution: LocalExecution, state: string): number {
  return execution.states.filter((name) => name === state).length;
}

describe('start-model', () => {
  it('starts an existing stopped version, polls until RUNNING, promotes it and stops the one it replaces', async () => {
    await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING', f1: 0.9 });
    await put(tables.registry, { id: `version#${NEXT}`, versionName: NEXT, status: 'TRAINED', f1: 0.93, labelMetrics: [{ label: 'PNEUMONIA', recall: 0.96 }] });
    fake.addVersion(LIVE, ['RUNNING'], {}, VERSION_ARN);
    fake.addVersion(NEXT, ['STOPPED'], { MinInferenceUnits: 1, MaxInferenceUnits: 3 }, NEXT_VERSION_ARN);
    fake.afterStart = ['STARTING', 'STARTING', 'RUNNING'];

    const execution = await deployment.run('start-model', { versionName: NEXT, maxInferenceUnits: 3 });

    expect(output(execution)).toMatchObject({ versionName: NEXT, projectVersionArn: NEXT_VERSION_ARN, previousVersionArn: VERSION_ARN, previousStop: { status: 'STOPPING' } });
    expect(rekognitionMock).toHaveReceivedCommandWith(StartProjectVersionCommand, { ProjectVersionArn: NEXT_VERSION_ARN, MinInferenceUnits: 1, MaxInferenceUnits: 3 });
    expect(rekognitionMock).toHaveReceivedCommandWith(StopProjectVersionCommand, { ProjectVersionArn: VERSION_ARN });
    expect(visits(execution, 'PollVersion')).toBe(3);
    expect(await item(tables.registry, { id: 'active' })).toMatchObject({
      projectVersionArn: NEXT_VERSION_ARN,
      versionName: NEXT,
      state: 'RUNNING',
      f1: 0.93,
      labelMetrics: [{ label: 'PNEUMONIA', recall: 0.96 }],
      minInferenceUnits: 1,
      maxInferenceUnits: 3,
    });
    expect(await item(tables.registry, { id: `version#${NEXT}` })).toMatchObject({ status: 'DEPLOYED', projectVersionArn: NEXT_VERSION_ARN });
  });

  it('restarts the promoted model by default (the scheduled start), with the units it ran with', async () => {
    await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'STOPPED', minInferenceUnits: 2, maxInferenceUnits: 4 });
    fake.addVersion(LIVE, ['STOPPED'], {}, VERSION_ARN);
    const execution = await deployment.run('start-model', {});
    expect(output(execution)).toMatchObject({ versionName: LIVE, previousVersionArn: null, previousStop: { status: 'NO_PREVIOUS_MODEL' } });
    expect(rekognitionMock).toHaveReceivedCommandWith(StartProjectVersionCommand, { ProjectVersionArn: VERSION_ARN, MinInferenceUnits: 2, MaxInferenceUnits: 4 });
    expect(await item(tables.registry, { id: 'active' })).toMatchObject({ state: 'RUNNING' });
  });

  it('promotes a version that is already running without starting it again', async () => {
    fake.addVersion(NEXT, ['RUNNING'], {}, NEXT_VERSION_ARN);
    const execution = await deployment.run('start-model', { versionName: NEXT });
    expect(output(execution)).toMatchObject({ projectVersionArn: NEXT_VERSION_ARN });
    expect(rekognitionMock).not.toHaveReceivedCommand(StartProjectVersionCommand);
  });

  it('waits for a stopping version to stop before starting it', async () => {
    fake.addVersion(NEXT, ['STOPPING', 'STOPPED'], {}, NEXT_VERSION_ARN);
    const execution = await deployment.run('start-model', { versionName: NEXT });
    expect(execution.status).toBe('SUCCEEDED');
    expect(rekognitionMock).toHaveReceivedCommandTimes(StartProjectVersionCommand, 1);
  });

  it('ends failed as ModelStartFailed when the service reports FAILED, and records it on the version', async () => {
    await put(tables.registry, { id: `version#${NEXT}`, versionName: NEXT, status: 'TRAINED' });
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    fake.afterStart = ['STARTING', 'FAILED'];
    const execution = await deployment.run('start-model', { versionName: NEXT });
    expect(failure(execution).error).toBe('ModelStartFailed');
    expect(await item(tables.registry, { id: `version#${NEXT}` })).toMatchObject({ status: 'TRAINED', lastStartError: expect.stringContaining('ModelStartFailed: version status FAILED') as unknown });
    expect(await item(tables.registry, { id: 'active' })).toBeUndefined();
  });

  it('a failed start of a version that is not the promoted one ends its request but sets no on-demand back-off', async () => {
    await put(tables.registry, { id: `version#${NEXT}`, versionName: NEXT, status: 'TRAINED' });
    await put(tables.registry, { id: 'active', versionName: 'promoted', projectVersionArn: 'arn:aws:rekognition:us-east-1:123456789012:project/p/version/promoted/1', state: 'STOPPED' });
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    fake.afterStart = ['STARTING', 'FAILED'];
    const execution = await deployment.run('start-model', { versionName: NEXT });
    expect(failure(execution).error).toBe('ModelStartFailed');
    const active = await item(tables.registry, { id: 'active' });
    expect(active).toMatchObject({ versionName: 'promoted', state: 'STOPPED' });
    expect(active).not.toHaveProperty('serving');
    expect(active).not.toHaveProperty('lastStartFailedAt');
  });

  it('ends failed as StartInterrupted, without polling on, when a stop reaches the version it is starting', async () => {
    await put(tables.registry, { id: `version#${NEXT}`, versionName: NEXT, status: 'TRAINED' });
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    fake.afterStart = ['STARTING', 'STOPPING', 'STOPPED'];
    const execution = await deployment.run('start-model', { versionName: NEXT });
    const { error, cause } = failure(execution);
    expect(error).toBe('StartInterrupted');
    expect(cause).toContain(`version ${NEXT} was stopped while it was starting (status STOPPING)`);
    expect(rekognitionMock).toHaveReceivedCommandTimes(StartProjectVersionCommand, 1);
    expect(await item(tables.registry, { id: 'active' })).toBeUndefined();
  });

  it('stops a version that never reaches RUNNING so it does not bill, and ends failed as StartTimedOut', async () => {
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    fake.afterStart = ['STARTING'];
    const execution = await deployment.run('start-model', { versionName: NEXT });
    const { error, cause } = failure(execution);
    expect(error).toBe('StartTimedOut');
    expect(cause).toContain('after 5 polls');
    expect(rekognitionMock).toHaveReceivedCommandWith(StopProjectVersionCommand, { ProjectVersionArn: NEXT_VERSION_ARN });
  });

  it('retries a start the service refuses while the version is busy', async () => {
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    fake.failNext('startProjectVersion', new ResourceInUseException({ message: 'busy', $metadata: { httpStatusCode: 400 } }), 2);
    expect((await deployment.run('start-model', { versionName: NEXT })).status).toBe('SUCCEEDED');
    expect(rekognitionMock).toHaveReceivedCommandTimes(StartProjectVersionCommand, 3);
  });

  it.each([
    ['an unknown version', { versionName: 'v-nope' }, 'VersionNotFound'],
    ['no version and no promoted model', {}, 'NoModelToStartError'],
    ['a misspelt option', { versionName: NEXT, maxUnits: 2 }, 'InvalidTrainingInputError'],
  ])('refuses %s clearly', async (_, input, error) => {
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    expect(failure(await deployment.run('start-model', input)).error).toBe(error);
    expect(rekognitionMock).not.toHaveReceivedCommand(StartProjectVersionCommand);
  });

  it('refuses a version whose training failed', async () => {
    fake.addVersion(NEXT, ['TRAINING_FAILED'], {}, NEXT_VERSION_ARN);
    expect(failure(await deployment.run('start-model', { versionName: NEXT })).error).toBe('VersionNotStartable');
  });
});

describe('start-model: re-drive of images that waited', () => {
  const SEQ = normalizeSequencer('0062E99A88DC407460');

  function row(imageKey: string, status: ResultRow['status'], reason: ResultRow['reason'], processedAt: string): ResultRow {
    return { imageKey, bucket: BUCKET, status, reason, sequencer: SEQ, eventTime: '2026-11-24T08:00:00.000Z', processedAt, objectVersionId: 'v1', latencyMs: 3 };
  }

  it('classifies PENDING rows and FAILED rows a model can fix, page by page, after promotion', async () => {
    const waiting = ['inbox/a.jpeg', 'inbox/b.jpeg', 'inbox/c.jpeg'];
    await put(tables.results, { ...row(waiting[0] ?? '', 'PENDING', 'no-model', '2026-11-24T08:00:01.000Z') });
    await put(tables.results, { ...row(waiting[1] ?? '', 'PENDING', 'model-not-running', '2026-11-24T08:00:02.000Z') });
    await put(tables.results, { ...row(waiting[2] ?? '', 'FAILED', 'model-not-found', '2026-11-24T08:00:03.000Z') });
    await put(tables.results, { ...row('inbox/denied.jpeg', 'FAILED', 'access-denied', '2026-11-24T08:00:04.000Z') });
    await put(tables.results, { ...row('inbox/done.jpeg', 'CLASSIFIED', undefined, '2026-11-24T08:00:05.000Z'), label: 'NORMAL' });
    serveObjects(s3Mock, Object.fromEntries([...waiting, 'inbox/denied.jpeg'].map((key) => [key, { bytes: fixtureImage('pneumonia-1.jpeg'), versionId: 'v1' }])));
    rekognitionMock.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [{ Name: 'PNEUMONIA', Confidence: 97 }, { Name: 'NORMAL', Confidence: 3 }] });
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);

    const execution = await deployment.run('start-model', { versionName: NEXT });

    expect(output(execution)).toMatchObject({ redrive: { examined: 3, answered: 3, stillPending: 0 } });
    // Pages of two: PENDING (2), PENDING (end), FAILED (1).
    expect(visits(execution, 'Redrive')).toBeGreaterThanOrEqual(3);
    for (const key of waiting) {
      expect(await item(tables.results, { imageKey: key })).toMatchObject({ status: 'CLASSIFIED', label: 'PNEUMONIA', modelVersionArn: NEXT_VERSION_ARN, sequencer: SEQ });
    }
    expect(rekognitionMock).toHaveReceivedCommandWith(DetectCustomLabelsCommand, {
      ProjectVersionArn: NEXT_VERSION_ARN,
      Image: { S3Object: { Bucket: BUCKET, Name: 'inbox/a.jpeg', Version: 'v1' } },
    });
    expect(await item(tables.results, { imageKey: 'inbox/denied.jpeg' })).toMatchObject({ status: 'FAILED', reason: 'access-denied' });
    expect(rekognitionMock).toHaveReceivedCommandTimes(DetectCustomLabelsCommand, 3);
  });

  it('counts rows it cannot classify now (S3 unreachable, malformed row) without failing the start', async () => {
    await put(tables.results, { ...row('inbox/a.jpeg', 'PENDING', 'no-model', '2026-11-24T08:00:01.000Z'), eventTime: 42 });
    await put(tables.results, { ...row('inbox/b.jpeg', 'PENDING', 'no-model', '2026-11-24T08:00:02.000Z') });
    s3Mock.onAnyCommand().rejects(new Error('network down'));
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    const execution = await deployment.run('start-model', { versionName: NEXT });
    expect(output(execution)).toMatchObject({ projectVersionArn: NEXT_VERSION_ARN, redrive: { retryable: 1, skipped: 1 } });
    expect(await item(tables.registry, { id: 'active' })).toMatchObject({ projectVersionArn: NEXT_VERSION_ARN, state: 'RUNNING' });
  });

  it('ends successfully with the model promoted and the error in the output when the re-drive Lambda fails', async () => {
    fake.addVersion(NEXT, ['STOPPED'], {}, NEXT_VERSION_ARN);
    const redriveArn = SUBSTITUTIONS.RedriveFunctionArn ?? '';
    const targets: LocalTargets = {
      ...deployment.targets,
      functions: { ...deployment.targets.functions, [redriveArn]: () => Promise.reject(new Error('results table unreachable')) },
    };
    const execution = await runLocally(loadDefinition('start-model'), { versionName: NEXT }, targets, { instant: true });
    expect(output(execution)).toMatchObject({ projectVersionArn: NEXT_VERSION_ARN, redriveError: { Error: 'Error', Cause: expect.stringContaining('results table unreachable') as unknown } });
    expect(visits(execution, 'Redrive')).toBe(1);
    expect(await item(tables.registry, { id: 'active' })).toMatchObject({ projectVersionArn: NEXT_VERSION_ARN, state: 'RUNNING' });
  });
});

describe('stop-model', () => {
  it('stops the running version, polls until STOPPED and marks the promoted model stopped', async () => {
    await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING' });
    fake.addVersion(LIVE, ['RUNNING'], {}, VERSION_ARN);
    fake.addVersion('v-old', ['STOPPED']);
    fake.afterStop = ['STOPPING', 'STOPPING', 'STOPPED'];

    const execution = await deployment.run('stop-model', {});

    expect(output(execution)).toMatchObject({
      activeMarkedStopped: true,
      stopped: expect.arrayContaining([
        { projectVersionArn: VERSION_ARN, versionName: LIVE, status: 'STOPPED', action: 'stopped' },
        expect.objectContaining({ versionName: 'v-old', action: 'none' }),
      ]) as unknown,
    });
    expect(rekognitionMock).toHaveReceivedCommandTimes(StopProjectVersionCommand, 1);
    expect(await item(tables.registry, { id: 'active' })).toMatchObject({ state: 'STOPPED', projectVersionArn: VERSION_ARN });
  });

  it('treats a version already STOPPING as stopping: no second stop, just wait', async () => {
    await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING' });
    fake.addVersion(LIVE, ['STOPPING', 'STOPPING', 'STOPPED'], {}, VERSION_ARN);
    const execution = await deployment.run('stop-model', {});
    expect(output(execution)).toMatchObject({ activeMarkedStopped: true });
    expect(rekognitionMock).not.toHaveReceivedCommand(StopProjectVersionCommand);
  });

  it('treats ResourceInUse from StopProjectVersion (stop raced with another) as stopping', async () => {
    fake.addVersion(LIVE, ['RUNNING', 'STOPPING', 'STOPPED'], {}, VERSION_ARN);
    fake.failNext('stopProjectVersion', new ResourceInUseException({ message: 'stopping', $metadata: { httpStatusCode: 400 } }));
    const execution = await deployment.run('stop-model', {});
    expect(execution.status).toBe('SUCCEEDED');
    // The refused stop is not sent again: the machine waits for the other stop to finish.
    expect(rekognitionMock).toHaveReceivedCommandTimes(StopProjectVersionCommand, 1);
    expect(output(execution)).toMatchObject({ stopped: expect.arrayContaining([expect.objectContaining({ versionName: LIVE, status: 'STOPPED' })]) as unknown });
  });

  it('does nothing, successfully, when nothing runs or there is no project', async () => {
    fake.addVersion(LIVE, ['STOPPED'], {}, VERSION_ARN);
    expect(output(await deployment.run('stop-model', {}))).toMatchObject({ activeMarkedStopped: false });
    fake.projectArn = undefined;
    expect(output(await deployment.run('stop-model', {}))).toEqual({ stopped: [], activeMarkedStopped: false });
    expect(rekognitionMock).not.toHaveReceivedCommand(StopProjectVersionCommand);
  });

  it('corrects a registry that still says RUNNING for a version the service has stopped', async () => {
    await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING' });
    fake.addVersion(LIVE, ['STOPPED'], {}, VERSION_ARN);
    expect(output(await deployment.run('stop-model', {}))).toMatchObject({ activeMarkedStopped: true });
    expect(await item(tables.registry, { id: 'active' })).toMatchObject({ projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'STOPPED' });
    expect(rekognitionMock).not.toHaveReceivedCommand(StopProjectVersionCommand);
  });

  describe('with more versions than one page', () => {
    /** The stop machine with RecordOutcome's payloads captured. */
    function recording(): { payloads: unknown[]; run: () => Promise<LocalExecution> } {
      const payloads: unknown[] = [];
      const recordArn = SUBSTITUTIONS.RecordOutcomeFunctionArn ?? '';
      const record = deployment.targets.functions[recordArn];
      if (!record) throw new Error('test: no RecordOutcome function');
      const targets: LocalTargets = {
        ...deployment.targets,
        functions: {
          ...deployment.targets.functions,
          [recordArn]: (payload) => {
            payloads.push(payload);
            return record(payload);
          },
        },
      };
      return { payloads, run: () => runLocally(loadDefinition('stop-model'), {}, targets, { instant: true }) };
    }

    const none = (name: string, status: string): Record<string, string> => ({ projectVersionArn: versionArn(name), versionName: name, status, action: 'none' });

    it('stops a running version on a later page and records the versions of every page', async () => {
      await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING' });
      fake.pageSize = 2;
      fake.addVersion('v-a', ['STOPPED']);
      fake.addVersion('v-b', ['TRAINING_FAILED']);
      fake.addVersion(LIVE, ['RUNNING'], {}, VERSION_ARN);
      fake.addVersion('v-c', ['TRAINING_COMPLETED']);
      fake.addVersion('v-d', ['STOPPED']);
      const { payloads, run } = recording();

      const execution = await run();

      expect(rekognitionMock).toHaveReceivedCommandTimes(StopProjectVersionCommand, 1);
      expect(rekognitionMock).toHaveReceivedCommandWith(StopProjectVersionCommand, { ProjectVersionArn: VERSION_ARN });
      expect(rekognitionMock).toHaveReceivedCommandWith(DescribeProjectVersionsCommand, { MaxResults: 100, NextToken: 'page-2' });
      expect(rekognitionMock).toHaveReceivedCommandWith(DescribeProjectVersionsCommand, { MaxResults: 100, NextToken: 'page-4' });
      expect(visits(execution, 'ListMoreVersions')).toBe(2);
      expect(visits(execution, 'StopEach')).toBe(3);
      const live = { projectVersionArn: VERSION_ARN, versionName: LIVE, status: 'STOPPED', action: 'stopped' };
      // RecordOutcome gets a list of pages (the first one empty: see the StartPaging state) …
      expect(payloads).toEqual([
        {
          outcome: 'STOPPED',
          executionArn: execution.executionArn,
          stopped: [[], [none('v-a', 'STOPPED'), none('v-b', 'TRAINING_FAILED')], [live, none('v-c', 'TRAINING_COMPLETED')], [none('v-d', 'STOPPED')]],
          // The execution's input, for why it stopped.
          input: {},
        },
      ]);
      // … and the run ends with them as one list.
      expect(output(execution)).toEqual({
        activeMarkedStopped: true,
        stopped: [none('v-a', 'STOPPED'), none('v-b', 'TRAINING_FAILED'), live, none('v-c', 'TRAINING_COMPLETED'), none('v-d', 'STOPPED')],
      });
      expect(await item(tables.registry, { id: 'active' })).toMatchObject({ state: 'STOPPED', projectVersionArn: VERSION_ARN });
    });

    it('ends with an empty list for a project without versions', async () => {
      const execution = await deployment.run('stop-model', {});
      expect(output(execution)).toEqual({ stopped: [], activeMarkedStopped: false });
      expect(visits(execution, 'CollectLastPage')).toBe(1);
    });

    it('ends failed, without recording a stop, when a later page cannot be listed', async () => {
      await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING' });
      fake.pageSize = 1;
      fake.addVersion('v-a', ['STOPPED']);
      fake.addVersion(LIVE, ['RUNNING'], {}, VERSION_ARN);
      fake.failNext('describeMoreVersions', new InvalidPaginationTokenException({ message: 'token expired', $metadata: { httpStatusCode: 400 } }));
      const execution = await deployment.run('stop-model', {});
      expect(failure(execution).error).toBe('Rekognition.InvalidPaginationTokenException');
      expect(visits(execution, 'RecordStopFailed')).toBe(1);
      expect(rekognitionMock).not.toHaveReceivedCommand(StopProjectVersionCommand);
      expect(await item(tables.registry, { id: 'active' })).toMatchObject({
        state: 'RUNNING',
        lastStopError: expect.stringContaining('Rekognition.InvalidPaginationTokenException') as unknown,
      });
    });
  });

  it('ends failed and notes it on the registry when a version will not stop', async () => {
    await put(tables.registry, { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING' });
    fake.addVersion(LIVE, ['RUNNING'], {}, VERSION_ARN);
    fake.afterStop = ['STOPPING'];
    const execution = await deployment.run('stop-model', {});
    expect(failure(execution).error).toBe('StopTimedOut');
    expect(await item(tables.registry, { id: 'active' })).toMatchObject({ state: 'RUNNING', lastStopError: expect.stringContaining('StopTimedOut') as unknown });
  });
});
