import { CreateProjectCommand, CreateProjectVersionCommand, DescribeProjectVersionsCommand } from '@aws-sdk/client-rekognition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET, startHarness, uploadSyntheticDataset, waitForStatus } from './harness.js';
import type { Harness } from './harness.js';

/*
 * Training runs in a worker thread: the server keeps answering while it trains, progress shows in StatusMessage,
 * and a second job waits its turn. The model gets a hidden layer and many epochs here only so that training
 * lasts long enough (a second or two) to watch.
 */

let h: Harness;
let projectArn: string;
let manifest: string;

beforeAll(async () => {
  h = await startHarness({ training: { model: { hidden: 32, epochs: 150, minSteps: 0 } } });
  manifest = await uploadSyntheticDataset(h.s3, 'sets/w', 12);
  projectArn = (await h.rekognition.send(new CreateProjectCommand({ ProjectName: 'worker' }))).ProjectArn ?? '';
});

afterAll(async () => {
  await h.stop();
});

const create = (name: string) =>
  h.rekognition.send(
    new CreateProjectVersionCommand({
      ProjectArn: projectArn,
      VersionName: name,
      OutputConfig: { S3Bucket: BUCKET, S3KeyPrefix: 'out/' },
      TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: manifest } } }] },
      TestingData: { AutoCreate: true },
    }),
  );

describe('training in a worker thread', () => {
  it('keeps answering, reports progress, and queues a second job', async () => {
    await create('first');
    await create('second');
    const messages = new Set<string>();
    let slowest = 0;
    let sawTrainingWhileQueued = false;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const asked = performance.now();
      const response = await h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn }));
      slowest = Math.max(slowest, performance.now() - asked);
      const byName = new Map(response.ProjectVersionDescriptions?.map((v) => [v.ProjectVersionArn?.split('/')[3], v]));
      const first = byName.get('first');
      const second = byName.get('second');
      if (first?.StatusMessage) messages.add(first.StatusMessage);
      if (first?.StatusMessage?.startsWith('Training: epoch') && second?.StatusMessage?.startsWith('Queued')) sawTrainingWhileQueued = true;
      if (first?.Status !== 'TRAINING_IN_PROGRESS' || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect([...messages].some((m) => /^Training: epoch \d+\/\d+, loss \d/.test(m))).toBe(true);
    expect(sawTrainingWhileQueued).toBe(true);
    // Training inline would block the event loop for the whole epoch loop (seconds); the worker keeps it free.
    expect(slowest).toBeLessThan(500);
    const first = await waitForStatus(h.rekognition, projectArn, 'first', ['TRAINING_COMPLETED', 'TRAINING_FAILED']);
    expect(first.Status).toBe('TRAINING_COMPLETED');
    const second = await waitForStatus(h.rekognition, projectArn, 'second', ['TRAINING_COMPLETED', 'TRAINING_FAILED'], 30_000);
    expect(second.Status).toBe('TRAINING_COMPLETED');
  });
});
