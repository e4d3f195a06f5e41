import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Background } from '../../../src/local/rekognition/background.js';
import { ApiError } from '../../../src/local/rekognition/errors.js';
import { serialiseModel } from '../../../src/local/rekognition/model.js';
import { constantPredictor } from '../../../src/local/rekognition/predictor.js';
import { recoverState } from '../../../src/local/rekognition/recovery.js';
import { CustomLabelsService } from '../../../src/local/rekognition/service.js';
import type { HoldPoint } from '../../../src/local/rekognition/service.js';
import { Store } from '../../../src/local/rekognition/store.js';
import type { State, VersionRecord, VersionStatus } from '../../../src/local/rekognition/store.js';
import { Hold } from '../../fixtures/hold.js';

/*
 * The service's operations called directly (no HTTP, no S3 and no training): a state seeded with a version in
 * each status, so every path of Start, Stop, Delete and Detect is reached on purpose, including the error ones.
 */

const PROJECT = 'arn:aws:rekognition:us-east-1:123456789012:project/chest/1700000000000';
const arnOf = (name: string): string => `arn:aws:rekognition:us-east-1:123456789012:project/chest/version/${name}/1700000000000`;
const MODEL_FILE = 'weights.json';

let root: string;
let store: Store;
let background: Background;
let service: CustomLabelsService;
let state: State;
let holds: ((point: HoldPoint) => Promise<unknown> | undefined) | undefined;

function version(name: string, status: VersionStatus, extra: Partial<VersionRecord> = {}): VersionRecord {
  return {
    projectArn: PROJECT,
    projectName: 'chest',
    versionName: name,
    arn: arnOf(name),
    createdAt: 1_700_000_000_000 + name.length,
    status,
    statusMessage: `seeded ${status}`,
    outputConfig: { S3Bucket: 'out' },
    trainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: 'data', Name: 'train.manifest' } } }] },
    testingData: { AutoCreate: true },
    ...extra,
  };
}

const withModel = { modelFile: MODEL_FILE };

function seed(): State {
  return {
    projects: [{ name: 'chest', arn: PROJECT, createdAt: 1_700_000_000_000 }],
    versions: [
      version('completed', 'TRAINING_COMPLETED', withModel),
      version('training', 'TRAINING_IN_PROGRESS'),
      version('failed', 'TRAINING_FAILED'),
      version('running', 'RUNNING', withModel),
      version('stopped', 'STOPPED', withModel),
      version('weightless', 'TRAINING_COMPLETED'),
    ],
  };
}

/** A service on what the data folder holds, as is (the recovery test recovers it first). */
function open(): void {
  background = new Background();
  state = store.load();
  service = new CustomLabelsService({
    s3: new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    store,
    state,
    background,
    region: 'us-east-1',
    accountId: '123456789012',
    startingDelayMs: 0,
    stoppingDelayMs: 0,
    predictor: constantPredictor({ first: 80 }),
    training: {},
    maxConcurrentTrainings: 1,
    log: () => undefined,
    // As the emulator wires it: a shutdown ends every hold.
    hold: (point) => {
      const wait = holds?.(point);
      return wait ? background.untilClosed(wait) : undefined;
    },
  });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pneumo-rekognition-service-'));
  store = new Store(root);
  const zeros = (n: number): Float32Array => new Float32Array(n);
  store.saveModel(MODEL_FILE, {
    labels: ['NORMAL', 'PNEUMONIA'],
    bias: [0, 0],
    thresholds: [0.5, 0.25],
    weights: serialiseModel({ inputs: 1, hidden: 0, classes: 2, mean: zeros(1), scale: zeros(1), w1: zeros(2), b1: zeros(0), w2: zeros(0), b2: zeros(2) }),
  });
  store.save(seed());
  holds = undefined;
  open();
});

afterEach(async () => {
  background.close();
  await service.close();
  await background.settle();
  rmSync(root, { recursive: true, force: true });
});

/** The ApiError `action` throws (synchronously or not). */
async function refusal(action: () => unknown): Promise<ApiError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

const statusOf = (name: string): VersionStatus | undefined => state.versions.find((v) => v.versionName === name)?.status;
const onDisk = (name: string): VersionRecord | undefined => store.load().versions.find((v) => v.versionName === name);

describe('StartProjectVersion', () => {
  it('starts a trained model: STARTING at once, RUNNING after the delay, with its units saved', async () => {
    expect(service.startProjectVersion({ ProjectVersionArn: arnOf('completed'), MinInferenceUnits: 2, MaxInferenceUnits: 3 })).toEqual({ Status: 'STARTING' });
    expect(onDisk('completed')).toMatchObject({ status: 'STARTING', minInferenceUnits: 2, maxInferenceUnits: 3 });
    await background.idle();
    expect(onDisk('completed')).toMatchObject({ status: 'RUNNING', statusMessage: 'The model is running.' });
  });

  it('takes MaxInferenceUnits to be MinInferenceUnits when absent, and restarts a STOPPED model', async () => {
    service.startProjectVersion({ ProjectVersionArn: arnOf('stopped'), MinInferenceUnits: 1 });
    await background.idle();
    expect(onDisk('stopped')).toMatchObject({ status: 'RUNNING', minInferenceUnits: 1, maxInferenceUnits: 1 });
  });

  it.each([
    ['running', 'ResourceInUseException', /RUNNING/],
    ['training', 'ResourceInUseException', /still training/],
    ['failed', 'InvalidParameterException', /TRAINING_FAILED cannot be started/],
  ])('refuses a %s model with %s', async (name, type, message) => {
    const error = await refusal(() => service.startProjectVersion({ ProjectVersionArn: arnOf(name), MinInferenceUnits: 1 }));
    expect(error).toMatchObject({ type, status: 400 });
    expect(error.message).toMatch(message);
    expect(onDisk(name)?.status).toBe(seed().versions.find((v) => v.versionName === name)?.status);
  });

  it('refuses MaxInferenceUnits below MinInferenceUnits, and an unknown version', async () => {
    const units = await refusal(() => service.startProjectVersion({ ProjectVersionArn: arnOf('completed'), MinInferenceUnits: 3, MaxInferenceUnits: 2 }));
    expect(units).toMatchObject({ type: 'InvalidParameterException', message: 'MaxInferenceUnits must be at least MinInferenceUnits (3), got 2' });
    expect(statusOf('completed')).toBe('TRAINING_COMPLETED');
    const unknown = await refusal(() => service.startProjectVersion({ ProjectVersionArn: arnOf('nope'), MinInferenceUnits: 1 }));
    expect(unknown).toMatchObject({ type: 'ResourceNotFoundException' });
  });

  it('ends FAILED, with the reason, when the weights cannot be loaded; a FAILED model may be started again', async () => {
    service.startProjectVersion({ ProjectVersionArn: arnOf('weightless'), MinInferenceUnits: 1 });
    await background.idle();
    expect(onDisk('weightless')).toMatchObject({ status: 'FAILED', statusMessage: 'The model could not be loaded: model weights are missing' });
    expect(service.startProjectVersion({ ProjectVersionArn: arnOf('weightless'), MinInferenceUnits: 1 })).toEqual({ Status: 'STARTING' });
  });
});

describe('StopProjectVersion', () => {
  it('stops a running model: STOPPING at once, STOPPED after the delay; then detection is refused', async () => {
    expect(service.stopProjectVersion({ ProjectVersionArn: arnOf('running') })).toEqual({ Status: 'STOPPING' });
    expect(onDisk('running')?.status).toBe('STOPPING');
    await background.idle();
    expect(onDisk('running')).toMatchObject({ status: 'STOPPED', statusMessage: 'The model is stopped.' });
    const detect = await refusal(() => service.detectCustomLabels({ ProjectVersionArn: arnOf('running'), Image: { Bytes: new Uint8Array([1]) } }));
    expect(detect.type).toBe('ResourceNotReadyException');
  });

  it('stops a STARTING model before it runs: the start transition then does nothing', async () => {
    const start = new Hold();
    holds = (point) => (point.at === 'running' ? start.enter() : undefined);
    service.startProjectVersion({ ProjectVersionArn: arnOf('completed'), MinInferenceUnits: 1 });
    await start.reached();
    service.stopProjectVersion({ ProjectVersionArn: arnOf('completed') });
    start.open();
    await background.idle();
    expect(onDisk('completed')?.status).toBe('STOPPED');
  });

  it.each(['completed', 'stopped', 'failed', 'training'])('refuses to stop a %s model (ResourceInUseException)', async (name) => {
    const error = await refusal(() => service.stopProjectVersion({ ProjectVersionArn: arnOf(name) }));
    expect(error).toMatchObject({ type: 'ResourceInUseException' });
    expect(error.message).toMatch(/not running/);
  });

  it('refuses an unknown version (ResourceNotFoundException)', async () => {
    expect(await refusal(() => service.stopProjectVersion({ ProjectVersionArn: arnOf('nope') }))).toMatchObject({ type: 'ResourceNotFoundException' });
  });
});

describe('DeleteProjectVersion', () => {
  it.each(['running', 'training'])('refuses to delete a %s model', async (name) => {
    expect(await refusal(() => service.deleteProjectVersion({ ProjectVersionArn: arnOf(name) }))).toMatchObject({ type: 'ResourceInUseException' });
    expect(onDisk(name)).toBeDefined();
  });

  it('deletes a stopped model with its weights file', () => {
    expect(service.deleteProjectVersion({ ProjectVersionArn: arnOf('stopped') })).toEqual({ Status: 'DELETING' });
    expect(onDisk('stopped')).toBeUndefined();
    expect(existsSync(join(root, 'models', MODEL_FILE))).toBe(false);
  });
});

describe('DetectCustomLabels', () => {
  const image = async (): Promise<Uint8Array> => sharp({ create: { width: 80, height: 80, channels: 3, background: '#808080' } }).png().toBuffer();

  it('keeps labels at or above MinConfidence, or each label at or above its own threshold, highest first', async () => {
    const Bytes = await image();
    const arn = arnOf('running');
    const all = await service.detectCustomLabels({ ProjectVersionArn: arn, Image: { Bytes }, MinConfidence: 0 });
    expect(all.CustomLabels).toEqual([
      { Name: 'NORMAL', Confidence: 80 },
      { Name: 'PNEUMONIA', Confidence: 20 },
    ]);
    // Thresholds 50 % and 25 %: only NORMAL clears its own.
    expect((await service.detectCustomLabels({ ProjectVersionArn: arn, Image: { Bytes } })).CustomLabels).toEqual([{ Name: 'NORMAL', Confidence: 80 }]);
    expect((await service.detectCustomLabels({ ProjectVersionArn: arn, Image: { Bytes }, MinConfidence: 90 })).CustomLabels).toEqual([]);
    expect((await service.detectCustomLabels({ ProjectVersionArn: arn, Image: { Bytes }, MinConfidence: 0, MaxResults: 0 })).CustomLabels).toEqual([]);
  });

  it('refuses a model that is not RUNNING, an unknown one, and what is not an image', async () => {
    const Bytes = await image();
    expect(await refusal(() => service.detectCustomLabels({ ProjectVersionArn: arnOf('completed'), Image: { Bytes } }))).toMatchObject({ type: 'ResourceNotReadyException' });
    expect(await refusal(() => service.detectCustomLabels({ ProjectVersionArn: arnOf('nope'), Image: { Bytes } }))).toMatchObject({ type: 'ResourceNotFoundException' });
    const text = new TextEncoder().encode('not an image');
    expect(await refusal(() => service.detectCustomLabels({ ProjectVersionArn: arnOf('running'), Image: { Bytes: text } }))).toMatchObject({ type: 'InvalidImageFormatException' });
  });
});

describe('projects', () => {
  it('refuses a second project of the same name and a feature it does not emulate', async () => {
    expect(await refusal(() => service.createProject({ ProjectName: 'chest' }))).toMatchObject({ type: 'ResourceInUseException' });
    expect(await refusal(() => service.createProject({ ProjectName: 'moderation', Feature: 'CONTENT_MODERATION' }))).toMatchObject({ type: 'InvalidParameterException' });
    expect(service.describeProjects({}).ProjectDescriptions?.map((p) => p.ProjectArn)).toEqual([PROJECT]);
  });

  it('refuses a version of an unknown project and a duplicate version name', async () => {
    const request = {
      ProjectArn: PROJECT,
      VersionName: 'completed',
      OutputConfig: { S3Bucket: 'out' },
      TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: 'data', Name: 'train.manifest' } } }] },
      TestingData: { AutoCreate: true },
    };
    expect(await refusal(() => service.createProjectVersion(request))).toMatchObject({ type: 'ResourceInUseException' });
    expect(await refusal(() => service.createProjectVersion({ ...request, ProjectArn: PROJECT.replace('chest', 'other') }))).toMatchObject({ type: 'ResourceNotFoundException' });
    expect(state.versions).toHaveLength(seed().versions.length);
  });

  it('describes versions newest first with Dates, and pages them', () => {
    const first = service.describeProjectVersions({ ProjectArn: PROJECT, MaxResults: 4 });
    expect(first.ProjectVersionDescriptions?.map((v) => v.ProjectVersionArn)).toEqual(['weightless', 'completed', 'training', 'running'].map(arnOf));
    expect(first.ProjectVersionDescriptions?.[0]?.CreationTimestamp).toEqual(new Date(1_700_000_000_000 + 'weightless'.length));
    const rest = service.describeProjectVersions({ ProjectArn: PROJECT, MaxResults: 4, NextToken: first.NextToken });
    expect(rest.ProjectVersionDescriptions?.map((v) => v.ProjectVersionArn)).toEqual(['stopped', 'failed'].map(arnOf));
    expect(rest.NextToken).toBeUndefined();
  });
});

describe('recovery', () => {
  it('finishes STARTING as RUNNING and STOPPING as STOPPED, fails an interrupted training, keeps the rest', async () => {
    const start = new Hold();
    holds = (point) => (point.at === 'running' ? start.enter() : undefined);
    service.startProjectVersion({ ProjectVersionArn: arnOf('completed'), MinInferenceUnits: 1 });
    service.stopProjectVersion({ ProjectVersionArn: arnOf('running') });
    await start.reached();
    // A shutdown with both transitions pending: they are dropped, the state on disk says STARTING / STOPPING.
    background.close();
    await service.close();
    await background.settle();
    expect(onDisk('completed')?.status).toBe('STARTING');
    expect(onDisk('running')?.status).toBe('STOPPING');
    state = recoverState(store);
    expect(Object.fromEntries(state.versions.map((v) => [v.versionName, v.status]))).toEqual({
      completed: 'RUNNING',
      training: 'TRAINING_FAILED',
      failed: 'TRAINING_FAILED',
      running: 'STOPPED',
      stopped: 'STOPPED',
      weightless: 'TRAINING_COMPLETED',
    });
    expect(onDisk('training')?.statusMessage).toMatch(/interrupted by an emulator shutdown/);
    expect(onDisk('completed')?.statusMessage).toBe('The model is running.');
  });
});
