import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { Hold } from '../fixtures/hold.js';
import { fixtureImage } from '../fixtures/images.js';
import { startTestStack, uploadTrainingSample } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * On-demand serving on the local stack, as deployed: the serving check on a timer in place of EventBridge
 * Scheduler, a 2 s idle stop and an emulator that takes a second to start a model.
 * model stopped → upload → start → CLASSIFIED → idle → STOPPED.
 */

const IDLE_STOP_SECONDS = 2;
let testStack: TestStack;
/** Holds a model start in STARTING while set, so a test can end the start's execution in the middle of it. */
let runningHold: Hold | undefined;

beforeAll(async () => {
  testStack = await startTestStack(inject('localPackageDir'), {
    rekognition: { startingDelayMs: 1000, stoppingDelayMs: 200, hold: (point) => (point.at === 'running' ? runningHold?.enter() : undefined) },
    environment: { IDLE_STOP_MINUTES: String(IDLE_STOP_SECONDS / 60), USAGE_MARK_SECONDS: '1' },
    rateSchedules: { intervalMs: 200 },
  });
  await uploadTrainingSample(testStack, 30);
}, 60_000);

afterAll(async () => {
  await testStack.stop();
});

async function active(): Promise<Record<string, unknown>> {
  const { Item } = await testStack.documents.send(new GetCommand({ TableName: testStack.stack.names.tables.RegistryTable ?? '', Key: { id: 'active' }, ConsistentRead: true }));
  return Item ?? {};
}

async function row(key: string): Promise<Record<string, unknown>> {
  const { Item } = await testStack.documents.send(new GetCommand({ TableName: testStack.stack.names.tables.ResultsTable ?? '', Key: { imageKey: key }, ConsistentRead: true }));
  return Item ?? {};
}

async function executionsOf(logicalId: string): Promise<{ name?: string | undefined; status?: string | undefined; executionArn?: string | undefined }[]> {
  const { executions = [] } = await testStack.sfn.send(new ListExecutionsCommand({ stateMachineArn: testStack.stack.names.stateMachines[logicalId] }));
  return executions;
}

describe('on-demand serving on the local stack', () => {
  it('trains and deploys a model, which the serving check then stops as idle', async () => {
    const { sfn, stack } = testStack;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: stack.names.stateMachines.TrainAndDeployStateMachine, name: 'train-s1', input: JSON.stringify({ versionName: 's1', minF1: 0.5, minPneumoniaRecall: 0.5 }) }),
    );
    await stack.idle();
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('SUCCEEDED');
    expect(await active()).toMatchObject({ versionName: 's1', startReason: 'retrain' });

    await vi.waitFor(async () => { expect(await active()).toMatchObject({ state: 'STOPPED', stopReason: 'idle' }); }, { timeout: 30_000, interval: 100 });
    // RecordOutcome marks the model STOPPED before the stop execution reaches its end state: wait for that end.
    await stack.idle();
    expect(await executionsOf('StopModelStateMachine')).toEqual([expect.objectContaining({ name: expect.stringMatching(/^idle-stop-/) as unknown, status: 'SUCCEEDED' })]);
  }, 120_000);

  it('an upload while stopped starts the model on demand; the image is CLASSIFIED, then the model stops again when idle', async () => {
    const { s3, stack } = testStack;
    const keys = ['inbox/od/a.jpeg', 'inbox/od/b.jpeg', 'inbox/od/c.jpeg'];
    await Promise.all(keys.map((key, i) => s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: key, Body: fixtureImage(i % 2 ? 'normal-1.jpeg' : 'pneumonia-1.jpeg') }))));

    await vi.waitFor(async () => { expect(await active()).toMatchObject({ state: 'RUNNING', startReason: 'on-demand' }); }, { timeout: 30_000, interval: 50 });
    for (const key of keys) {
      await vi.waitFor(async () => { expect((await row(key)).status).toMatch(/^(CLASSIFIED|NEEDS_REVIEW)$/); }, { timeout: 30_000, interval: 100 });
    }
    // One start for the burst of three.
    const starts = (await executionsOf('StartModelStateMachine')).filter((execution) => execution.name?.startsWith('on-demand-start-'));
    expect(starts).toHaveLength(1);

    await vi.waitFor(async () => { expect(await active()).toMatchObject({ state: 'STOPPED', stopReason: 'idle' }); }, { timeout: 30_000, interval: 100 });
    const item = await active();
    expect(item.serving).toBeUndefined();
    expect(item.servedMs).toBeGreaterThan(0);
    expect(stack.invokers.ClassifyLambdaFunction?.stats).toMatchObject({ deadLettered: 0 });
  }, 120_000);

  it('a start whose execution is stopped out of band is cleared by the next serving check, which starts the model again for the waiting image', async () => {
    const { s3, sfn, stack } = testStack;
    await vi.waitFor(async () => { expect(await active()).toMatchObject({ state: 'STOPPED' }); }, { timeout: 30_000, interval: 100 });
    const before = new Set((await executionsOf('StartModelStateMachine')).map((execution) => execution.name));
    const hold = new Hold();
    runningHold = hold;
    let aborted: string | undefined;
    try {
      await s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: 'inbox/oob/a.jpeg', Body: fixtureImage('pneumonia-1.jpeg') }));
      await hold.reached();
      const running = (await executionsOf('StartModelStateMachine')).filter((execution) => !before.has(execution.name) && execution.status === 'RUNNING');
      expect(running).toHaveLength(1);
      aborted = running[0]?.executionArn ?? '';
      // What a console StopExecution does: the run ends ABORTED without its RecordOutcome step.
      await sfn.send(new StopExecutionCommand({ executionArn: aborted, cause: 'stopped by an operator' }));
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn: aborted }))).status).toBe('ABORTED');
    } finally {
      runningHold = undefined;
      hold.open();
    }

    await vi.waitFor(async () => { expect((await row('inbox/oob/a.jpeg')).status).toMatch(/^(CLASSIFIED|NEEDS_REVIEW)$/); }, { timeout: 30_000, interval: 100 });
    // The second start came at once (an aborted start is no failed start: no back-off), and its Promote rewrote the item.
    expect(await active()).toMatchObject({ state: 'RUNNING', startReason: 'on-demand' });
    const starts = (await executionsOf('StartModelStateMachine')).filter((execution) => !before.has(execution.name));
    expect(starts.map((execution) => execution.status).sort()).toEqual(['ABORTED', 'SUCCEEDED']);
  }, 120_000);
});
