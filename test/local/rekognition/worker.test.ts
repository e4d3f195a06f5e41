import { CreateProjectCommand, CreateProjectVersionCommand, DescribeProjectVersionsCommand } from '@aws-sdk/client-rekognition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hold, versionNameOf } from '../../fixtures/hold.js';
import { BUCKET, startHarness, uploadSyntheticDataset, waitForStatus } from './harness.js';
import type { Harness } from './harness.js';

/*
 * Training runs in a worker thread: the server keeps answering while it trains, progress shows in StatusMessage,
 * and a second job waits its turn. The first job's worker is held after its first epoch report (the emulator's
 * test hook), so the server is asked while a job is known to be mid-training, however fast or loaded the machine.
 */

let h: Harness;
let projectArn: string;
let manifest: string;
const firstHold = new Hold();

beforeAll(async () => {
  h = await startHarness({
    training: { model: { hidden: 32, epochs: 10, minSteps: 0 } },
    hold: (point) => (point.at === 'training' && versionNameOf(point.versionArn) === 'first' ? firstHold.enter() : undefined),
  });
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
    try {
      // Trained inline, the job would finish without its worker ever holding (and block the server meanwhile).
      const finished = waitForStatus(h.rekognition, projectArn, 'first', ['TRAINING_COMPLETED', 'TRAINING_FAILED'], 60_000).then(() => 'finished');
      expect(await Promise.race([firstHold.reached().then(() => 'held'), finished])).toBe('held');
      // The worker is paused inside its epoch loop; the server answers from the event loop meanwhile.
      const response = await h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn }));
      const byName = new Map(response.ProjectVersionDescriptions?.map((v) => [versionNameOf(v.ProjectVersionArn ?? ''), v]));
      expect(byName.get('first')).toMatchObject({ Status: 'TRAINING_IN_PROGRESS', StatusMessage: expect.stringMatching(/^Training: epoch 5\/10, loss \d/) as unknown });
      expect(byName.get('second')).toMatchObject({ Status: 'TRAINING_IN_PROGRESS', StatusMessage: 'Queued: waiting for 1 training job(s) ahead of this one' });
    } finally {
      firstHold.open();
    }
    const first = await waitForStatus(h.rekognition, projectArn, 'first', ['TRAINING_COMPLETED', 'TRAINING_FAILED'], 60_000);
    expect(first.Status).toBe('TRAINING_COMPLETED');
    const second = await waitForStatus(h.rekognition, projectArn, 'second', ['TRAINING_COMPLETED', 'TRAINING_FAILED'], 60_000);
    expect(second.Status).toBe('TRAINING_COMPLETED');
  });
});
