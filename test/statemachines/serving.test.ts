import { DetectCustomLabelsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResultRow } from '../../src/lib/tables/results.js';
import { normalizeSequencer } from '../../src/lib/s3-event.js';
import { pendingWorkProbe } from '../../src/lib/serving/check.js';
import { loadServingPolicy } from '../../src/lib/serving/config.js';
import type { ServingControl } from '../../src/lib/serving/control.js';
import { ServingStore } from '../../src/lib/serving/store.js';
import { servingControl } from '../../src/lib/serving/wiring.js';
import type { LocalExecution } from '../../src/local/sfn-runner.js';
import { startLocalDynamo } from '../fixtures/dynamodb.js';
import type { LocalDynamo } from '../fixtures/dynamodb.js';
import { fixtureImage } from '../fixtures/images.js';
import { VERSION_ARN } from '../fixtures/models.js';
import { FakeRekognition } from '../fixtures/rekognition-service.js';
import { serveObjects } from '../fixtures/s3-objects.js';
import type { StateMachineName } from '../fixtures/statemachines.js';
import { createTables, deploy, TEST_ENV } from './harness.js';
import type { Deployment, Tables } from './harness.js';

/*
 * On-demand serving through the real state machines and the registry on dynalite: the requests classify and the
 * serving check make, the start and stop runs they trigger, and the races between them.
 */

const rekognitionMock = mockClient(RekognitionClient);
const s3Mock = mockClient(S3Client);
const sfnMock = mockClient(SFNClient);

const LIVE = 'v-2026-11-01';
const BUCKET = 'pneumo-data';
const SEQ = normalizeSequencer('0062E99A88DC407460');
const START_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:pneumo-test-start-model';
const STOP_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:pneumo-test-stop-model';
const MINUTE = 60_000;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
// The stage's policy, as every function of the deployment reads it from the same environment.
const POLICY = loadServingPolicy(TEST_ENV);

let dynamo: LocalDynamo;
let tables: Tables;
let deployment: Deployment;
let fake: FakeRekognition;
let now: number;
let requested: StartExecutionCommandInput[];

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  tables = await createTables(dynamo);
  now = T0;
  deployment = deploy(dynamo, tables, () => now);
  fake = new FakeRekognition();
  fake.install(rekognitionMock);
  rekognitionMock.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [{ Name: 'PNEUMONIA', Confidence: 97 }, { Name: 'NORMAL', Confidence: 3 }] });
  requested = [];
  sfnMock.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => {
    requested.push(input);
    return { executionArn: `${String(input.stateMachineArn).replace(':stateMachine:', ':execution:')}:${String(input.name)}` };
  });
});

afterEach(() => {
  rekognitionMock.reset();
  s3Mock.reset();
  sfnMock.reset();
});

/** One container's serving control, as classify and the serving check build theirs from their environment. */
function control(): ServingControl {
  const runtime = { documents: dynamo.documents, logger: new Logger({ serviceName: 'serving-test', logLevel: 'SILENT' }), clientSettings: { region: 'eu-west-1' } };
  const env = { ...TEST_ENV, REGISTRY_TABLE: tables.registry, START_MODEL_STATE_MACHINE_ARN: START_ARN, STOP_MODEL_STATE_MACHINE_ARN: STOP_ARN };
  return servingControl(runtime, env, { canStart: true, canStop: true });
}

async function active(): Promise<Record<string, unknown>> {
  const { Item } = await dynamo.documents.send(new GetCommand({ TableName: tables.registry, Key: { id: 'active' }, ConsistentRead: true }));
  return Item ?? {};
}

async function waitingImages(keys: string[]): Promise<void> {
  for (const imageKey of keys) {
    const row: ResultRow = { imageKey, bucket: BUCKET, status: 'PENDING', reason: 'model-not-running', sequencer: SEQ, eventTime: new Date(now).toISOString(), processedAt: new Date(now).toISOString(), objectVersionId: 'v1', latencyMs: 3 };
    await dynamo.documents.send(new PutCommand({ TableName: tables.results, Item: row }));
  }
  serveObjects(s3Mock, Object.fromEntries(keys.map((key) => [key, { bytes: fixtureImage('pneumonia-1.jpeg'), versionId: 'v1' }])));
}

/** Runs the execution a request asked for, as Step Functions would, with the request's name and input. */
async function runRequested(request: StartExecutionCommandInput | undefined): Promise<LocalExecution> {
  if (!request) throw new Error('no execution was requested');
  const machine: StateMachineName = request.stateMachineArn === START_ARN ? 'start-model' : 'stop-model';
  return deployment.run(machine, JSON.parse(request.input ?? '{}'), request.name);
}

async function stoppedModel(extra: Record<string, unknown> = {}): Promise<void> {
  await dynamo.documents.send(new PutCommand({ TableName: tables.registry, Item: { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'STOPPED', ...extra } }));
  fake.addVersion(LIVE, ['STOPPED'], {}, VERSION_ARN);
}

const pending = (): Promise<boolean> => pendingWorkProbe(dynamo.documents, tables.results)();

describe('on-demand start', () => {
  it('a burst of images on two containers makes one start; the run answers every image and records why it started', async () => {
    await stoppedModel();
    const keys = Array.from({ length: 12 }, (_, i) => `inbox/burst/${i}.jpeg`);
    await waitingImages(keys);
    const containers = [control(), control()];

    const outcomes = await Promise.all(keys.map((_, i) => (containers[i % 2] as ServingControl).imageWaiting(now + i)));

    expect(outcomes.filter((o) => o.kind === 'requested')).toHaveLength(1);
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatchObject({ stateMachineArn: START_ARN, input: '{"reason":"on-demand"}', name: expect.stringMatching(/^on-demand-start-20261201T1000000\d\dZ$/) as unknown });
    expect(await active()).toMatchObject({ serving: { request: 'START', reason: 'on-demand' } });

    now += 10 * MINUTE;
    const execution = await runRequested(requested[0]);

    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { redrive: { answered: 12, stillPending: 0 } } });
    const item = await active();
    expect(item).toMatchObject({ state: 'RUNNING', startReason: 'on-demand', startedAt: new Date(now).toISOString() });
    expect(item.serving).toBeUndefined();
    expect(await pending()).toBe(false);
  });

  it('two bursts: start, idle stop (recorded as idle, with the serving time), then a second start for the second burst', async () => {
    await stoppedModel();
    const serving = control();
    await waitingImages(['inbox/first.jpeg']);
    await serving.imageWaiting(now);
    now += 10 * MINUTE;
    await runRequested(requested[0]);

    // Used a minute after the start, then idle: the check stops it five minutes after the last use.
    now += MINUTE;
    expect(await serving.imageAnswered(VERSION_ARN, now)).toBe(true);
    now += 4 * MINUTE;
    expect((await serving.check(now, pending)).verdict).toEqual({ action: 'none', why: 'in-use' });
    now += MINUTE;
    const check = await serving.check(now, pending);
    expect(check.verdict).toEqual({ action: 'stop', reason: 'idle' });
    expect(requested[1]).toMatchObject({ stateMachineArn: STOP_ARN, input: '{"reason":"idle"}' });
    fake.versions.get(LIVE)?.statuses.splice(0, Infinity, 'RUNNING');
    const stop = await runRequested(requested[1]);
    expect(stop.status).toBe('SUCCEEDED');
    const stopped = await active();
    expect(stopped).toMatchObject({ state: 'STOPPED', stopReason: 'idle', servedDay: '2026-12-01', servedMs: 6 * MINUTE });
    expect(stopped.serving).toBeUndefined();

    now += 30 * MINUTE;
    await waitingImages(['inbox/second.jpeg']);
    const second = await serving.imageWaiting(now);
    expect(second.kind).toBe('requested');
    expect(requested).toHaveLength(3);
    expect(requested[2]?.name).not.toBe(requested[0]?.name);
  });

  it('an image arriving during a stop does not start the model; the check starts it once the stop has ended', async () => {
    await dynamo.documents.send(new PutCommand({ TableName: tables.registry, Item: { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING', startedAt: new Date(now - 30 * MINUTE).toISOString() } }));
    fake.addVersion(LIVE, ['RUNNING'], {}, VERSION_ARN);
    const serving = control();
    expect((await serving.check(now, pending)).verdict).toEqual({ action: 'stop', reason: 'idle' });

    // The version is STOPPING: DetectCustomLabels says not ready, classify stores PENDING and asks.
    await waitingImages(['inbox/during-stop.jpeg']);
    expect(await serving.imageWaiting(now + 1000)).toEqual({ kind: 'not-needed', why: 'in-flight' });
    expect(requested).toHaveLength(1);

    now += MINUTE;
    await runRequested(requested[0]);
    expect(await active()).toMatchObject({ state: 'STOPPED', stopReason: 'idle' });

    now += MINUTE;
    const check = await serving.check(now, pending);
    expect(check.verdict).toEqual({ action: 'start', reason: 'on-demand' });
    now += 10 * MINUTE;
    const start = await runRequested(requested[1]);
    expect(start).toMatchObject({ status: 'SUCCEEDED', output: { redrive: { answered: 1 } } });
  });

  it('a stop arriving during the start wins: the start ends interrupted, its request is over and on-demand starts back off', async () => {
    await stoppedModel();
    await waitingImages(['inbox/a.jpeg']);
    const serving = control();
    await serving.imageWaiting(now);
    fake.afterStart = ['STARTING', 'STOPPING', 'STOPPED'];
    now += 2 * MINUTE;

    const start = await runRequested(requested[0]);

    expect(start).toMatchObject({ status: 'FAILED', error: 'StartInterrupted' });
    const item = await active();
    expect(item).toMatchObject({ state: 'STOPPED', lastStartFailedAt: new Date(now).toISOString(), lastStartError: expect.stringContaining('StartInterrupted') as unknown });
    expect(item.serving).toBeUndefined();
    expect(await serving.imageWaiting(now + MINUTE)).toEqual({ kind: 'not-needed', why: 'start-backoff' });
    // After the back-off the serving check starts it for the image that still waits.
    expect((await serving.check(now + POLICY.startRetryMs, pending)).verdict).toEqual({ action: 'start', reason: 'on-demand' });
  });

  it('a start by a user or a schedule is in flight for classify too: no on-demand start while it runs, none left over after it', async () => {
    await stoppedModel();
    await waitingImages(['inbox/a.jpeg']);
    const serving = control();
    // What PlanStart does first in every start run.
    await new ServingStore(dynamo.documents, tables.registry).startRunBegan('user', now, now - POLICY.requestTimeoutMs);
    expect(await serving.imageWaiting(now + 1000)).toEqual({ kind: 'not-needed', why: 'in-flight' });
    expect(requested).toHaveLength(0);

    // A user start the user's own stop interrupts: its marker is gone once it has failed.
    fake.afterStart = ['STARTING', 'STOPPING', 'STOPPED'];
    const start = await deployment.run('start-model', { reason: 'user' });
    expect(start).toMatchObject({ status: 'FAILED', error: 'StartInterrupted' });
    expect((await active()).serving).toBeUndefined();
    // An on-demand request made earlier is not overwritten by the run it started.
    const store = new ServingStore(dynamo.documents, tables.registry);
    const seen = await store.read();
    if (!seen) throw new Error('no active item');
    expect(await store.claimRequest(seen, { kind: 'START', reason: 'on-demand', requestedAt: new Date(now).toISOString(), executionName: 'on-demand-start-x' })).toBe(true);
    await store.startRunBegan('on-demand', now + 1000, now - POLICY.requestTimeoutMs);
    expect((await active()).serving).toMatchObject({ executionName: 'on-demand-start-x', requestedAt: new Date(now).toISOString() });
  });

  it('never starts a model the gate rejected, and withdraws a request whose execution could not be started', async () => {
    await stoppedModel({ gateDecision: 'REJECTED' });
    await waitingImages(['inbox/a.jpeg']);
    const serving = control();
    expect(await serving.imageWaiting(now)).toEqual({ kind: 'not-needed', why: 'gate-rejected' });
    expect((await serving.check(now, pending)).verdict).toEqual({ action: 'none', why: 'gate-rejected' });
    expect(requested).toHaveLength(0);

    await stoppedModel();
    sfnMock.on(StartExecutionCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    expect(await serving.imageWaiting(now)).toEqual({ kind: 'failed', error: 'ThrottlingException' });
    expect((await active()).serving).toBeUndefined();
  });

  it('records use at most once a minute per container, and once a minute per model across containers', async () => {
    await dynamo.documents.send(new PutCommand({ TableName: tables.registry, Item: { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING' } }));
    const containers = [control(), control(), control()];
    const marks = await Promise.all(Array.from({ length: 60 }, (_, i) => (containers[i % 3] as ServingControl).imageAnswered(VERSION_ARN, now + i * 500)));
    expect(marks.filter(Boolean)).toHaveLength(1);
    expect((await active()).lastUsedAt).toBe(new Date(now).toISOString());
  });
});
