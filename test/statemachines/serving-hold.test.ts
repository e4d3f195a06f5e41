import { DetectCustomLabelsCommand, RekognitionClient, StartProjectVersionCommand } from '@aws-sdk/client-rekognition';
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
import { SUBSTITUTIONS } from '../fixtures/statemachines.js';
import { createTables, deploy, TEST_ENV } from './harness.js';
import type { Deployment, Tables } from './harness.js';

/*
 * A user's stop is a hold: through the real start and stop machines and the registry on dynalite, no on-demand,
 * scheduled or serving-check start while it holds, and every order of an on-demand start racing the user's stop
 * ends with the model held and stopped.
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
const USER = 'arn:aws:iam::123456789012:user/operator';

let dynamo: LocalDynamo;
let tables: Tables;
let deployment: Deployment;
let fake: FakeRekognition;
let store: ServingStore;
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
  store = new ServingStore(dynamo.documents, tables.registry);
  fake = new FakeRekognition();
  fake.install(rekognitionMock);
  rekognitionMock.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [{ Name: 'PNEUMONIA', Confidence: 97 }, { Name: 'NORMAL', Confidence: 3 }] });
  requested = [];
  sfnMock.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => {
    requested.push(input);
    return { executionArn: `${String(input.stateMachineArn).replace(':stateMachine:', ':execution:')}:${String(input.name)}` };
  });
  await dynamo.documents.send(new PutCommand({ TableName: tables.registry, Item: { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'STOPPED' } }));
  fake.addVersion(LIVE, ['STOPPED'], {}, VERSION_ARN);
  await waitingImage('inbox/a.jpeg');
});

afterEach(() => {
  rekognitionMock.reset();
  s3Mock.reset();
  sfnMock.reset();
});

/** One container's serving control, built as classify and the serving check build theirs from their environment. */
function control(): ServingControl {
  const runtime = { documents: dynamo.documents, logger: new Logger({ serviceName: 'serving-test', logLevel: 'SILENT' }), clientSettings: { region: 'eu-west-1' } };
  const env = { ...TEST_ENV, REGISTRY_TABLE: tables.registry, START_MODEL_STATE_MACHINE_ARN: START_ARN, STOP_MODEL_STATE_MACHINE_ARN: STOP_ARN };
  return servingControl(runtime, env, { canStart: true, canStop: true });
}

async function active(): Promise<Record<string, unknown>> {
  const { Item } = await dynamo.documents.send(new GetCommand({ TableName: tables.registry, Key: { id: 'active' }, ConsistentRead: true }));
  return Item ?? {};
}

async function waitingImage(imageKey: string): Promise<void> {
  const row: ResultRow = { imageKey, bucket: BUCKET, status: 'PENDING', reason: 'model-not-running', sequencer: SEQ, eventTime: new Date(now).toISOString(), processedAt: new Date(now).toISOString(), objectVersionId: 'v1', latencyMs: 3 };
  await dynamo.documents.send(new PutCommand({ TableName: tables.results, Item: row }));
  serveObjects(s3Mock, { [imageKey]: { bytes: fixtureImage('pneumonia-1.jpeg'), versionId: 'v1' } });
}

const pending = (): Promise<boolean> => pendingWorkProbe(dynamo.documents, tables.results)();

/** What `pneumo model stop` does: the hold first, then the stop run with reason user. */
async function userStop(until?: number): Promise<LocalExecution> {
  await store.placeHold({ by: USER, at: new Date(now).toISOString(), reason: 'scanner maintenance', until: until === undefined ? undefined : new Date(until).toISOString() });
  return deployment.run('stop-model', { reason: 'user' });
}

/** Runs `then` right after PlanStart answered, inside the start run: a user's stop arriving mid-start. */
function afterPlanStart(then: () => Promise<unknown>): void {
  const arn = SUBSTITUTIONS.PlanStartFunctionArn ?? '';
  const functions = deployment.targets.functions as Record<string, (payload: unknown) => Promise<unknown>>;
  const planStart = functions[arn];
  if (!planStart) throw new Error('no PlanStart function');
  functions[arn] = async (payload) => {
    const plan = await planStart(payload);
    await then();
    return plan;
  };
}

const startCalls = (): number => rekognitionMock.commandCalls(StartProjectVersionCommand).length;

describe('a user stop holds the model stopped', () => {
  it('no on-demand, scheduled or serving-check start while held; images wait PENDING; a user start releases it and answers them', async () => {
    const stop = await userStop();
    expect(stop.status).toBe('SUCCEEDED');
    const serving = control();

    expect(await serving.imageWaiting(now)).toEqual({ kind: 'not-needed', why: 'held' });
    expect((await serving.check(now + MINUTE, pending)).verdict).toEqual({ action: 'none', why: 'held' });
    const scheduled = await deployment.run('start-model', { reason: 'schedule' });
    expect(scheduled).toMatchObject({ status: 'SUCCEEDED', output: { started: false, reason: 'schedule', held: { by: USER, since: new Date(T0).toISOString(), until: null } } });
    expect(requested).toHaveLength(0);
    expect(startCalls()).toBe(0);
    expect(await pending()).toBe(true);
    expect((await active()).serving).toBeUndefined();

    now += 30 * MINUTE;
    const start = await deployment.run('start-model', { reason: 'user' });
    expect(start).toMatchObject({ status: 'SUCCEEDED', output: { redrive: { answered: 1 } } });
    expect(await store.readHold()).toMatchObject({ by: USER, reason: 'scanner maintenance', releasedAt: new Date(now).toISOString(), releasedBy: 'user start' });
    expect(await active()).toMatchObject({ state: 'RUNNING', startReason: 'user' });
    // Released: idle stop and on-demand serving are back.
    now += 10 * MINUTE;
    expect((await serving.check(now, pending)).verdict).toEqual({ action: 'stop', reason: 'idle' });
  });

  it('a hold with --until lapses by itself: the serving check then starts the model for the image that waited', async () => {
    await userStop(now + 60 * MINUTE);
    const serving = control();
    expect((await serving.check(now + 59 * MINUTE, pending)).verdict).toEqual({ action: 'none', why: 'held' });
    expect((await serving.check(now + 60 * MINUTE, pending)).verdict).toEqual({ action: 'start', reason: 'on-demand' });
    now += 70 * MINUTE;
    const start = await deployment.run('start-model', JSON.parse(requested[0]?.input ?? '{}'), requested[0]?.name);
    expect(start).toMatchObject({ status: 'SUCCEEDED', output: { redrive: { answered: 1 } } });
  });

  it('race: the image asked for a start just before the hold was written; the start run sees the hold, starts nothing and ends its request', async () => {
    const serving = control();
    expect((await serving.imageWaiting(now)).kind).toBe('requested');
    now += 1000;
    await userStop();

    const start = await deployment.run('start-model', JSON.parse(requested[0]?.input ?? '{}'), requested[0]?.name);

    expect(start).toMatchObject({ status: 'SUCCEEDED', output: { started: false, reason: 'on-demand' } });
    expect(startCalls()).toBe(0);
    const item = await active();
    expect(item.state).toBe('STOPPED');
    expect(item.serving).toBeUndefined();
    expect((await serving.check(now + MINUTE, pending)).verdict).toEqual({ action: 'none', why: 'held' });
  });

  it('race: the hold arrives after PlanStart and the stop catches the starting version; the check does not start it again', async () => {
    const serving = control();
    await serving.imageWaiting(now);
    // The user's stop stops the version while it starts: the start run sees STOPPING and ends interrupted.
    afterPlanStart(() => store.placeHold({ by: USER, at: new Date(now).toISOString(), reason: 'scanner maintenance' }));
    fake.afterStart = ['STARTING', 'STOPPING', 'STOPPED'];

    const start = await deployment.run('start-model', JSON.parse(requested[0]?.input ?? '{}'), requested[0]?.name);

    expect(start).toMatchObject({ status: 'FAILED', error: 'StartInterrupted' });
    expect((await active()).state).toBe('STOPPED');
    // Long after the start back-off, the image still waits behind the hold.
    expect((await serving.check(now + 60 * MINUTE, pending)).verdict).toEqual({ action: 'none', why: 'held' });
  });

  it('race: the stop ran before the start reached the service, so the model came up; the hold survives Promote and the check stops it as the user asked', async () => {
    const serving = control();
    await serving.imageWaiting(now);
    let stop: LocalExecution | undefined;
    afterPlanStart(async () => {
      stop = await userStop();
    });

    const start = await deployment.run('start-model', JSON.parse(requested[0]?.input ?? '{}'), requested[0]?.name);

    expect(stop).toMatchObject({ status: 'SUCCEEDED', output: { activeMarkedStopped: false } });
    expect(start.status).toBe('SUCCEEDED');
    expect(await active()).toMatchObject({ state: 'RUNNING' });
    expect(await store.readHold()).toMatchObject({ by: USER, releasedAt: undefined });

    now += MINUTE;
    const check = await serving.check(now, pending);
    expect(check.verdict).toEqual({ action: 'stop', reason: 'user' });
    expect(requested[1]).toMatchObject({ stateMachineArn: STOP_ARN, input: '{"reason":"user"}' });
    await deployment.run('stop-model', JSON.parse(requested[1]?.input ?? '{}'), requested[1]?.name);
    expect(await active()).toMatchObject({ state: 'STOPPED', stopReason: 'user' });
    now += MINUTE;
    await waitingImage('inbox/b.jpeg');
    expect(await serving.imageWaiting(now)).toEqual({ kind: 'not-needed', why: 'held' });
    expect((await serving.check(now, pending)).verdict).toEqual({ action: 'none', why: 'held' });
  });

  it('scheduled and idle stops are not holds', async () => {
    await dynamo.documents.send(new PutCommand({ TableName: tables.registry, Item: { id: 'active', projectVersionArn: VERSION_ARN, versionName: LIVE, state: 'RUNNING', startedAt: new Date(now - 30 * MINUTE).toISOString() } }));
    fake.versions.get(LIVE)?.statuses.splice(0, Infinity, 'RUNNING');
    await deployment.run('stop-model', { reason: 'schedule' });
    expect(await store.readHold()).toBeUndefined();
    expect((await control().imageWaiting(now + MINUTE)).kind).toBe('requested');
  });
});
