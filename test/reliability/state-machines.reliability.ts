import { DescribeProjectsCommand, DescribeProjectVersionsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../src/local/s3.js';
import { Hold } from '../fixtures/hold.js';
import { fixtureImage } from '../fixtures/images.js';
import { sampleXrays } from './support/images.js';
import { ANSWERED, deployModel, describeExecution, execute, inPool, localTemplate, REGION, startExecution, startHarness } from './support/stack.js';
import type { Harness } from './support/stack.js';
import { FamilyTally } from './support/summary.js';

/*
 * The train, start and stop state machines under stress, through the Step Functions API of the local stack:
 * a training the service fails, two retrains at once, and a stop while a start is in progress.
 */

let harness: Harness;
let rekognition: RekognitionClient;
const tally = new FamilyTally('state machines');
// Short enough to keep the suite bounded: see the stop-during-start case.
const MAX_START_MINUTES = 1;
const BROKEN = 'training/broken/';
// While set, a version that starts stays STARTING until the test opens it.
let runningHold: Hold | undefined;

beforeAll(async () => {
  harness = await startHarness({
    template: await localTemplate(inject('localPackageDir')),
    // A start the test holds in STARTING, so a stop lands in the middle of it however loaded the machine.
    rekognition: { hold: (point) => (point.at === 'running' ? runningHold?.enter() : undefined) },
    environment: { MAX_START_MINUTES: String(MAX_START_MINUTES) },
  });
  rekognition = new RekognitionClient({ region: REGION, credentials: LOCAL_CREDENTIALS, endpoint: harness.stack.endpoints.rekognition });
  await deployModel(harness, 'v1');
});

afterAll(async () => {
  tally.print();
  rekognition.destroy();
  await harness.close();
});

async function versionStatus(versionName: string): Promise<string | undefined> {
  const { ProjectDescriptions = [] } = await rekognition.send(new DescribeProjectsCommand({ ProjectNames: [harness.stack.names.projectName ?? ''] }));
  const projectArn = ProjectDescriptions[0]?.ProjectArn;
  const { ProjectVersionDescriptions = [] } = await rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: [versionName] }));
  return ProjectVersionDescriptions[0]?.Status;
}

async function registryActive(): Promise<Record<string, unknown> | undefined> {
  const { Item } = await harness.documents.send(new GetCommand({ TableName: harness.stack.names.tables.RegistryTable ?? '', Key: { id: 'active' }, ConsistentRead: true }));
  return Item;
}

describe('state machines under stress', () => {
  it('a training the service fails (no decodable NORMAL image) ends the run FAILED with the service message', async () => {
    let ok = false;
    try {
      const real = await sampleXrays(12);
      const text = new TextEncoder().encode('not an x-ray');
      await inPool(Array.from({ length: 12 }, (_, i) => i), 6, async (i) => {
        await harness.put(`${BROKEN}NORMAL/${i}.jpeg`, i % 2 ? text : fixtureImage('truncated-header.jpeg'));
        await harness.put(`${BROKEN}PNEUMONIA/${i}.jpeg`, real[12 + i] as Uint8Array);
      });
      const run = await execute(harness, 'TrainAndDeployStateMachine', 'train-broken', { versionName: 'broken', trainingPrefix: BROKEN, minF1: 0.5, minPneumoniaRecall: 0.5 });
      if (run.status !== 'FAILED' || run.error !== 'TrainingFailed') process.stdout.write(`unexpected: ${JSON.stringify(run)}\n`);
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('TrainingFailed');
      expect(run.cause).toContain('TRAINING_FAILED');
      expect(run.cause).toContain('The training dataset has no usable images for label(s): NORMAL');
      expect(await versionStatus('broken')).toBe('TRAINING_FAILED');
      // The model that was serving keeps serving.
      expect(await registryActive()).toMatchObject({ versionName: 'v1', state: 'RUNNING' });
      ok = true;
    } finally {
      // Out of the way of later retrains, which list everything under training/.
      const { Contents = [] } = await harness.s3.send(new ListObjectsV2Command({ Bucket: harness.bucket, Prefix: BROKEN }));
      await harness.s3.send(new DeleteObjectsCommand({ Bucket: harness.bucket, Delete: { Objects: Contents.map(({ Key }) => ({ Key })) } }));
      tally.record(ok);
    }
  }, 120_000);

  it('two retrains at once: one trains, the other is refused naming the one that runs; a same-name trigger is refused too', async () => {
    let ok = false;
    try {
      const input = { minF1: 0.5, minPneumoniaRecall: 0.5 };
      const arns = await Promise.all([
        startExecution(harness, 'TrainAndDeployStateMachine', 'train-v2', { ...input, versionName: 'v2' }),
        startExecution(harness, 'TrainAndDeployStateMachine', 'train-v3', { ...input, versionName: 'v3' }),
      ]);
      // The same request again while it runs returns the running execution (StartExecution is idempotent);
      // the same name with another input is refused.
      expect(await startExecution(harness, 'TrainAndDeployStateMachine', 'train-v2', { ...input, versionName: 'v2' })).toBe(arns[0]);
      await expect(startExecution(harness, 'TrainAndDeployStateMachine', 'train-v2', { versionName: 'v2' })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
      await harness.stack.idle();
      const runs = await Promise.all(arns.map((arn) => describeExecution(harness, arn)));
      const won = runs.filter((run) => run.status === 'SUCCEEDED');
      const refused = runs.filter((run) => run.status === 'FAILED');
      expect(won).toHaveLength(1);
      expect(refused).toHaveLength(1);
      const winner = won[0]?.executionArn.endsWith('train-v2') ? 'v2' : 'v3';
      const loser = winner === 'v2' ? 'v3' : 'v2';
      expect(refused[0]).toMatchObject({ error: 'TrainingInProgressError' });
      expect(JSON.parse(refused[0]?.cause ?? '{}')).toEqual({
        errorType: 'TrainingInProgressError',
        errorMessage: `a retrain is already running (version "${winner}"); wait for it to finish`,
      });
      expect(won[0]?.output).toMatchObject({ outcome: 'DEPLOYED', versionName: winner });
      // Nothing was trained for the refused one.
      expect(await versionStatus(loser)).toBeUndefined();
      expect(await registryActive()).toMatchObject({ versionName: winner, state: 'RUNNING' });
      ok = true;
    } finally {
      tally.record(ok);
    }
  }, 180_000);

  it('stop during start: the stop wins, nothing is left running, uploads wait; the start run ends as interrupted', async () => {
    let ok = false;
    try {
      const active = await registryActive();
      const versionName = String(active?.versionName);
      const stopped = await execute(harness, 'StopModelStateMachine', 'stop-before-start', {});
      expect(stopped.status).toBe('SUCCEEDED');
      expect(await versionStatus(versionName)).toBe('STOPPED');

      const hold = new Hold();
      runningHold = hold;
      let startArn: string;
      let stopArn: string;
      try {
        startArn = await startExecution(harness, 'StartModelStateMachine', 'start-then-stop', {});
        await hold.reached();
        expect(await versionStatus(versionName)).toBe('STARTING');
        stopArn = await startExecution(harness, 'StopModelStateMachine', 'stop-during-start', {});
        await harness.put('inbox/stress/during-stop.jpeg', fixtureImage('normal-1.jpeg'));
        await harness.stack.idle();
      } finally {
        runningHold = undefined;
        hold.open();
      }
      await harness.stack.emulator.idle();

      const [start, stop] = await Promise.all([describeExecution(harness, startArn), describeExecution(harness, stopArn)]);
      expect(stop.status).toBe('SUCCEEDED');
      expect(await versionStatus(versionName)).toBe('STOPPED');
      expect(await registryActive()).toMatchObject({ versionName, state: 'STOPPED' });
      // The start machine notices the stop at its next poll instead of polling a stopped model until its window ends.
      expect(start).toMatchObject({ status: 'FAILED' });
      expect(`${start.error ?? ''} ${start.cause ?? ''}`).toMatch(/StartInterrupted/);
      expect(await harness.row('inbox/stress/during-stop.jpeg')).toMatchObject({ status: 'PENDING', reason: 'model-not-running' });

      // A later start works and answers the image that waited.
      const restarted = await execute(harness, 'StartModelStateMachine', 'start-after-stress', {});
      expect(restarted).toMatchObject({ status: 'SUCCEEDED', output: { versionName } });
      expect(ANSWERED).toContain((await harness.row('inbox/stress/during-stop.jpeg'))?.status);
      ok = true;
    } finally {
      tally.record(ok);
    }
  }, 240_000);

  it('dead-lettered nothing', async () => {
    expect(await harness.deadLetters()).toEqual([]);
  });
});
