import {
  CreateProjectCommand,
  CreateProjectVersionCommand,
  DescribeProjectVersionsCommand,
  DetectCustomLabelsCommand,
  InvalidParameterException,
  ResourceInUseException,
  StartProjectVersionCommand,
} from '@aws-sdk/client-rekognition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constantPredictor } from '../../../src/local/rekognition/index.js';
import { Hold, versionNameOf } from '../../fixtures/hold.js';
import { fixtureImage } from '../../fixtures/images.js';
import { BUCKET, putObject, startHarness, syntheticImage, uploadSyntheticDataset, waitForStatus } from './harness.js';
import type { Harness } from './harness.js';

/* Less common paths: a separate testing manifest, training cut short by a shutdown, the bench-only predictor. */

let h: Harness;
let projectArn: string;
let trainKey: string;
// Versions whose training worker waits after its first epoch until the test opens the hold.
const trainingHolds = new Map<string, Hold>();

beforeAll(async () => {
  h = await startHarness({
    predictor: constantPredictor({ first: 70 }),
    hold: (point) => (point.at === 'training' ? trainingHolds.get(versionNameOf(point.versionArn))?.enter() : undefined),
  });
  trainKey = await uploadSyntheticDataset(h.s3, 'sets/a', 10);
  projectArn = (await h.rekognition.send(new CreateProjectCommand({ ProjectName: 'lifecycle' }))).ProjectArn ?? '';
});

afterAll(async () => {
  await h.stop();
});

const version = (name: string, testing: ConstructorParameters<typeof CreateProjectVersionCommand>[0]['TestingData']) =>
  new CreateProjectVersionCommand({
    ProjectArn: projectArn,
    VersionName: name,
    OutputConfig: { S3Bucket: BUCKET, S3KeyPrefix: 'out' },
    TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: trainKey } } }] },
    TestingData: testing,
  });

describe('training variants', () => {
  it('evaluates on a separate testing manifest when one is given', async () => {
    const testKey = await uploadSyntheticDataset(h.s3, 'sets/b', 4);
    await h.rekognition.send(version('separate', { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: testKey } } }] }));
    // Still training: it can be neither started nor deleted yet.
    const arn = (await waitForStatus(h.rekognition, projectArn, 'separate', ['TRAINING_IN_PROGRESS', 'TRAINING_COMPLETED'])).ProjectVersionArn;
    const done = await waitForStatus(h.rekognition, projectArn, 'separate', ['TRAINING_COMPLETED', 'TRAINING_FAILED']);
    expect(done.Status).toBe('TRAINING_COMPLETED');
    expect(done.EvaluationResult?.Summary?.S3Object?.Name).toBe('out/EvaluationSummary-lifecycle-separate.json');
    expect(done.TestingDataResult?.Input?.Assets?.[0]?.GroundTruthManifest?.S3Object?.Name).toBe(testKey);
    expect(done.BillableTrainingTimeInSeconds).toBeGreaterThanOrEqual(1);
    expect(arn).toBe(done.ProjectVersionArn);
  });

  it('refuses to start a model that is training or that failed', async () => {
    const hold = new Hold();
    trainingHolds.set('busy', hold);
    await h.rekognition.send(version('busy', { AutoCreate: true }));
    try {
      await hold.reached();
      const busy = await waitForStatus(h.rekognition, projectArn, 'busy', ['TRAINING_IN_PROGRESS']);
      await expect(h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: busy.ProjectVersionArn, MinInferenceUnits: 1 }))).rejects.toBeInstanceOf(ResourceInUseException);
    } finally {
      hold.open();
    }
    await waitForStatus(h.rekognition, projectArn, 'busy', ['TRAINING_COMPLETED']);
    await putObject(h.s3, 'sets/one-label.manifest', JSON.stringify({ 'source-ref': `s3://${BUCKET}/sets/a/images/img-000.jpeg`, c: 0, 'c-metadata': { 'class-name': 'ONLY', type: 'groundtruth/image-classification' } }));
    await h.rekognition.send(
      new CreateProjectVersionCommand({
        ProjectArn: projectArn,
        VersionName: 'one-label',
        OutputConfig: { S3Bucket: BUCKET },
        TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: 'sets/one-label.manifest' } } }] },
        TestingData: { AutoCreate: true },
      }),
    );
    const failed = await waitForStatus(h.rekognition, projectArn, 'one-label', ['TRAINING_FAILED', 'TRAINING_COMPLETED']);
    expect(failed.Status).toBe('TRAINING_FAILED');
    expect(failed.StatusMessage).toMatch(/at least 2 labels/);
    await expect(h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: failed.ProjectVersionArn, MinInferenceUnits: 1 }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: failed.ProjectVersionArn, MinInferenceUnits: 0 }))).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('fails the version when the evaluation summary cannot be written (no such output bucket)', async () => {
    await h.rekognition.send(
      new CreateProjectVersionCommand({
        ProjectArn: projectArn,
        VersionName: 'no-output',
        OutputConfig: { S3Bucket: 'no-such-output-bucket' },
        TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: trainKey } } }] },
        TestingData: { AutoCreate: true },
      }),
    );
    const failed = await waitForStatus(h.rekognition, projectArn, 'no-output', ['TRAINING_FAILED', 'TRAINING_COMPLETED']);
    expect(failed.Status).toBe('TRAINING_FAILED');
    expect(failed.StatusMessage).toMatch(/could not write the evaluation summary to s3:\/\/no-such-output-bucket\//);
    expect(failed.EvaluationResult).toBeUndefined();
  });

  it('fails a training that a shutdown interrupts, and says so after the restart', async () => {
    // Held mid-training, so the shutdown lands while the worker trains, however fast the machine.
    const hold = new Hold();
    trainingHolds.set('interrupted', hold);
    await h.rekognition.send(version('interrupted', { AutoCreate: true }));
    await hold.reached();
    h = await h.restart();
    const after = await waitForStatus(h.rekognition, projectArn, 'interrupted', ['TRAINING_FAILED', 'TRAINING_COMPLETED']);
    expect(after.Status).toBe('TRAINING_FAILED');
    expect(after.StatusMessage).toMatch(/interrupted by an emulator shutdown/);
    const all = await h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, MaxResults: 2 }));
    expect(all.ProjectVersionDescriptions).toHaveLength(2);
    expect(all.ProjectVersionDescriptions?.[0]?.ProjectVersionArn).toContain('/version/interrupted/'); // newest first
  });
});

describe('bench-only predictor', () => {
  it('answers from the stand-in while still validating the image', async () => {
    const arn = (await waitForStatus(h.rekognition, projectArn, 'separate', ['TRAINING_COMPLETED'])).ProjectVersionArn;
    await h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: arn, MinInferenceUnits: 1 }));
    await waitForStatus(h.rekognition, projectArn, 'separate', ['RUNNING']);
    const response = await h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: arn, Image: { Bytes: await syntheticImage('STRIPED', 1) }, MinConfidence: 0 }));
    expect(response.CustomLabels).toEqual([
      { Name: 'SMOOTH', Confidence: 70 },
      { Name: 'STRIPED', Confidence: 30 },
    ]);
    await expect(h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: arn, Image: { Bytes: fixtureImage('one-pixel.png') } }))).rejects.toBeInstanceOf(InvalidParameterException);
    await h.emulator.idle();
  });
});
