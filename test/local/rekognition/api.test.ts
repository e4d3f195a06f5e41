import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateProjectCommand,
  CreateProjectVersionCommand,
  DeleteProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  DetectCustomLabelsCommand,
  ImageTooLargeException,
  InternalServerError,
  InvalidImageFormatException,
  InvalidParameterException,
  InvalidS3ObjectException,
  ResourceInUseException,
  ResourceNotFoundException,
  ResourceNotReadyException,
  StartProjectVersionCommand,
  StopProjectVersionCommand,
  ThrottlingException,
} from '@aws-sdk/client-rekognition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureImage } from '../../fixtures/images.js';
import { BUCKET, putObject, startHarness, syntheticImage, uploadSyntheticDataset, waitForStatus } from './harness.js';
import type { Harness } from './harness.js';

/*
 * Contract tests: the real @aws-sdk/client-rekognition against the emulator over HTTP, S3 on the local S3.
 * One small synthetic dataset (2 × 15 images) is trained once; the tests then walk the lifecycle in order.
 */

const VERSION_ARN = /^arn:aws[a-z-]*:rekognition:[a-z0-9-]+:\d{12}:project\/[^/]+\/version\/[^/]+\/\d+$/;
const PROJECT_ARN = /^arn:aws:rekognition:[a-z0-9-]+:\d{12}:project\/[^/]+\/\d+$/;

let h: Harness;
let projectArn: string;
let versionArn: string;
let manifestKey: string;

beforeAll(async () => {
  h = await startHarness();
  manifestKey = await uploadSyntheticDataset(h.s3, 'datasets/textures', 15);
});

afterAll(async () => {
  await h.stop();
});

const trainRequest = (versionName: string, manifest = manifestKey) =>
  new CreateProjectVersionCommand({
    ProjectArn: projectArn,
    VersionName: versionName,
    OutputConfig: { S3Bucket: BUCKET, S3KeyPrefix: 'output/' },
    TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: manifest } } }] },
    TestingData: { AutoCreate: true },
  });

describe('projects', () => {
  it('creates a project with a real-looking ARN and lists it', async () => {
    const created = await h.rekognition.send(new CreateProjectCommand({ ProjectName: 'textures' }));
    expect(created.ProjectArn).toMatch(PROJECT_ARN);
    projectArn = created.ProjectArn ?? '';
    const listed = await h.rekognition.send(new DescribeProjectsCommand({ ProjectNames: ['textures'] }));
    expect(listed.ProjectDescriptions).toHaveLength(1);
    expect(listed.ProjectDescriptions?.[0]).toMatchObject({ ProjectArn: projectArn, Status: 'CREATED' });
    expect(listed.ProjectDescriptions?.[0]?.CreationTimestamp).toBeInstanceOf(Date);
  });

  it('refuses a duplicate name and bad names as the service does', async () => {
    await expect(h.rekognition.send(new CreateProjectCommand({ ProjectName: 'textures' }))).rejects.toBeInstanceOf(ResourceInUseException);
    await expect(h.rekognition.send(new CreateProjectCommand({ ProjectName: 'bad name!' }))).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('training', () => {
  it('validates the request and the project', async () => {
    await expect(
      h.rekognition.send(new CreateProjectVersionCommand({ ProjectArn: projectArn, VersionName: 'v0', OutputConfig: { S3Bucket: BUCKET }, TrainingData: {}, TestingData: { AutoCreate: true } })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn.replace('textures', 'nope') })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('trains in the background: TRAINING_IN_PROGRESS → TRAINING_COMPLETED, with F1 and a summary file', async () => {
    const created = await h.rekognition.send(trainRequest('v1'));
    expect(created.ProjectVersionArn).toMatch(VERSION_ARN);
    versionArn = created.ProjectVersionArn ?? '';
    const early = await h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: ['v1'] }));
    expect(early.ProjectVersionDescriptions?.[0]?.Status).toBe('TRAINING_IN_PROGRESS');

    const done = await waitForStatus(h.rekognition, projectArn, 'v1', ['TRAINING_COMPLETED', 'TRAINING_FAILED']);
    expect(done.StatusMessage).toBe('The model is ready to run.');
    expect(done.Status).toBe('TRAINING_COMPLETED');
    expect(done.CreationTimestamp).toBeInstanceOf(Date);
    expect(done.TrainingEndTimestamp).toBeInstanceOf(Date);
    expect(done.EvaluationResult?.F1Score).toBeGreaterThan(0.8); // clearly separable classes
    expect(done.EvaluationResult?.Summary?.S3Object).toEqual({ Bucket: BUCKET, Name: 'output/EvaluationSummary-textures-v1.json' });

    const file = await h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'output/EvaluationSummary-textures-v1.json' }));
    const summary = JSON.parse(await file.Body?.transformToString() ?? '{}') as Record<string, Record<string, unknown>>;
    expect(summary.Version).toBe(1);
    expect(summary.EvaluationDetails).toMatchObject({ ProjectVersionArn: versionArn, Labels: ['SMOOTH', 'STRIPED'], NumberOfTestingImages: 6, NumberOfTrainingImages: 24 });
    expect(summary.AggregatedEvaluationResults?.F1Score).toBeCloseTo(done.EvaluationResult?.F1Score ?? -1, 10);
    expect(summary.AggregatedEvaluationResults?.ConfusionMatrix).toHaveLength(4);
    const labels = summary.LabelEvaluationResults as unknown as { Label: string; Metrics: Record<string, number>; NumberOfTestingImages: number }[];
    expect(labels.map((l) => l.Label).sort()).toEqual(['SMOOTH', 'STRIPED']);
    for (const label of labels) {
      expect(Object.keys(label.Metrics).sort()).toEqual(['F1Score', 'Precision', 'Recall', 'Threshold']);
      expect(label.NumberOfTestingImages).toBe(3);
    }
  });

  it('refuses a duplicate version name; a missing manifest ends in TRAINING_FAILED with a reason', async () => {
    await expect(h.rekognition.send(trainRequest('v1'))).rejects.toBeInstanceOf(ResourceInUseException);
    await h.rekognition.send(trainRequest('broken', 'datasets/missing.manifest'));
    const failed = await waitForStatus(h.rekognition, projectArn, 'broken', ['TRAINING_FAILED', 'TRAINING_COMPLETED']);
    expect(failed.Status).toBe('TRAINING_FAILED');
    expect(failed.StatusMessage).toMatch(/manifest file .*missing\.manifest could not be read/);
  });
});

describe('running the model', () => {
  it('refuses to detect until the model runs', async () => {
    const request = new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: fixtureImage('normal-1.jpeg') } });
    await expect(h.rekognition.send(request)).rejects.toBeInstanceOf(ResourceNotReadyException);
  });

  it('starts: STARTING → RUNNING; starting again is ResourceInUse', async () => {
    const started = await h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: versionArn, MinInferenceUnits: 1 }));
    expect(started.Status).toBe('STARTING');
    await expect(h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: versionArn, MinInferenceUnits: 1 }))).rejects.toBeInstanceOf(ResourceInUseException);
    const running = await waitForStatus(h.rekognition, projectArn, 'v1', ['RUNNING']);
    expect(running.MinInferenceUnits).toBe(1);
  });

  it('classifies bytes and S3 objects by their pixels', async () => {
    const striped = await syntheticImage('STRIPED', 777);
    const smooth = await syntheticImage('SMOOTH', 778);
    await putObject(h.s3, 'inbox/unlabelled-a.jpeg', smooth);
    const fromBytes = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: striped }, MinConfidence: 0 }));
    expect(fromBytes.CustomLabels?.map((l) => l.Name)).toEqual(['STRIPED', 'SMOOTH']);
    const total = (fromBytes.CustomLabels ?? []).reduce((sum, l) => sum + (l.Confidence ?? 0), 0);
    expect(total).toBeCloseTo(100, 3);
    const fromS3 = await h.rekognition.send(
      new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { S3Object: { Bucket: BUCKET, Name: 'inbox/unlabelled-a.jpeg' } }, MinConfidence: 0 }),
    );
    expect(fromS3.CustomLabels?.[0]?.Name).toBe('SMOOTH');
    // Without MinConfidence only labels above their assumed threshold come back: the winner.
    const winner = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: striped } }));
    expect(winner.CustomLabels?.map((l) => l.Name)).toEqual(['STRIPED']);
    const capped = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: striped }, MinConfidence: 0, MaxResults: 1 }));
    expect(capped.CustomLabels).toHaveLength(1);
    const none = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: striped }, MinConfidence: 100 }));
    expect(none.CustomLabels?.length ?? 0).toBeLessThanOrEqual(1);
    // A real X-ray (not what this model knows) still gets a full distribution.
    const xray = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: fixtureImage('pneumonia-1.jpeg') }, MinConfidence: 0 }));
    expect(xray.CustomLabels).toHaveLength(2);
  });

  it('maps bad images and bad requests to the service exceptions', async () => {
    const detect = (image: ConstructorParameters<typeof DetectCustomLabelsCommand>[0]['Image'], extra: { MinConfidence?: number } = {}) =>
      h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: image, ...extra }));
    await putObject(h.s3, 'inbox/huge.png', fixtureImage('huge-5000px.png'));
    await expect(detect({ S3Object: { Bucket: BUCKET, Name: 'inbox/absent.jpeg' } })).rejects.toBeInstanceOf(InvalidS3ObjectException);
    await expect(detect({ S3Object: { Bucket: 'no-such-bucket', Name: 'x.jpeg' } })).rejects.toBeInstanceOf(InvalidS3ObjectException);
    await expect(detect({ S3Object: { Bucket: BUCKET, Name: 'inbox/huge.png' } })).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(detect({ Bytes: fixtureImage('text-named.jpg') })).rejects.toBeInstanceOf(InvalidImageFormatException);
    await expect(detect({ Bytes: fixtureImage('truncated-body.jpeg') })).rejects.toBeInstanceOf(InvalidImageFormatException);
    await expect(detect({ Bytes: fixtureImage('truncated-header.jpeg') })).rejects.toBeInstanceOf(InvalidImageFormatException);
    await expect(detect({ Bytes: fixtureImage('one-pixel.png') })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(detect({ Bytes: new Uint8Array(4 * 1024 * 1024 + 1) })).rejects.toBeInstanceOf(ImageTooLargeException);
    await expect(detect({ Bytes: fixtureImage('normal-1.jpeg') }, { MinConfidence: 101 })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(detect({})).rejects.toBeInstanceOf(InvalidParameterException);
    const unknown = new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn.replace('/v1/', '/v9/'), Image: { Bytes: fixtureImage('normal-1.jpeg') } });
    await expect(h.rekognition.send(unknown)).rejects.toBeInstanceOf(ResourceNotFoundException);
    // A full-resolution original from S3 is fine.
    await putObject(h.s3, 'inbox/fullres.jpeg', fixtureImage('normal-fullres.jpeg'));
    await expect(detect({ S3Object: { Bucket: BUCKET, Name: 'inbox/fullres.jpeg' } }, { MinConfidence: 0 })).resolves.toHaveProperty('CustomLabels');
  });

  it('fails the next calls on demand (fault switches)', async () => {
    const request = new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: fixtureImage('normal-2.jpeg') }, MinConfidence: 0 });
    h.emulator.injectFault({ operation: 'DetectCustomLabels', count: 1 });
    const admin = await fetch(`${h.emulator.url}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ operation: 'DetectCustomLabels', count: 1, error: 'InternalServerError' }) });
    expect(admin.status).toBe(200);
    await expect(h.rekognition.send(request)).rejects.toBeInstanceOf(ThrottlingException);
    const serverError = await h.rekognition.send(request).catch((error: unknown) => error);
    expect(serverError).toBeInstanceOf(InternalServerError);
    expect((serverError as InternalServerError).$metadata.httpStatusCode).toBe(500);
    await expect(h.rekognition.send(request)).resolves.toHaveProperty('CustomLabels');
  });

  it('keeps projects, versions and the running model across a restart', async () => {
    const before = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: fixtureImage('normal-2.jpeg') }, MinConfidence: 0 }));
    h = await h.restart();
    const after = await waitForStatus(h.rekognition, projectArn, 'v1', ['RUNNING'], 1000);
    expect(after.EvaluationResult?.F1Score).toBeGreaterThan(0.8);
    const again = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: fixtureImage('normal-2.jpeg') }, MinConfidence: 0 }));
    expect(again.CustomLabels).toEqual(before.CustomLabels);
    const failed = await waitForStatus(h.rekognition, projectArn, 'broken', ['TRAINING_FAILED'], 1000);
    expect(failed.StatusMessage).toMatch(/could not be read/);
  });

  it('will not delete a running model; stops (STOPPING → STOPPED), then deletes', async () => {
    await expect(h.rekognition.send(new DeleteProjectVersionCommand({ ProjectVersionArn: versionArn }))).rejects.toBeInstanceOf(ResourceInUseException);
    const stopping = await h.rekognition.send(new StopProjectVersionCommand({ ProjectVersionArn: versionArn }));
    expect(stopping.Status).toBe('STOPPING');
    await waitForStatus(h.rekognition, projectArn, 'v1', ['STOPPED']);
    const request = new DetectCustomLabelsCommand({ ProjectVersionArn: versionArn, Image: { Bytes: fixtureImage('normal-1.jpeg') } });
    await expect(h.rekognition.send(request)).rejects.toBeInstanceOf(ResourceNotReadyException);
    await expect(h.rekognition.send(new StopProjectVersionCommand({ ProjectVersionArn: versionArn }))).rejects.toBeInstanceOf(ResourceInUseException);
    const deleted = await h.rekognition.send(new DeleteProjectVersionCommand({ ProjectVersionArn: versionArn }));
    expect(deleted.Status).toBe('DELETING');
    const left = await h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn }));
    expect(left.ProjectVersionDescriptions?.map((v) => v.ProjectVersionArn)).not.toContain(versionArn);
    await expect(h.rekognition.send(new DeleteProjectVersionCommand({ ProjectVersionArn: versionArn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
