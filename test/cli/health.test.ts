import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HealthView } from '../../src/cli/commands/health.js';
import { runCli } from '../../src/cli/program.js';
import { writeEndpointsFile } from '../../src/local/endpoints-file.js';
import type { LocalStack } from '../../src/local/stack.js';
import { captureIo } from '../fixtures/cli.js';
import { fixtureImage } from '../fixtures/images.js';
import { startTestStack } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * The local stack driven into each alarm condition it can emulate, one after the other, and `pneumo health`
 * seeing each the way an operator would: a PENDING backlog, a dead letter, a failed retrain.
 */
const SAMPLE = resolve(import.meta.dirname, '../../src/local/sample/training');
let testStack: TestStack;
let stack: LocalStack;

beforeAll(async () => {
  testStack = await startTestStack(inject('packageDir'));
  stack = testStack.stack;
  await writeEndpointsFile(stack, testStack.dataDir, 'eu-west-1');
});

afterAll(async () => {
  await testStack.stop();
});

async function health(args: string[] = [], now: () => number = Date.now): Promise<{ code: number; view: HealthView }> {
  const io = captureIo();
  const code = await runCli(['--data-dir', testStack.dataDir, 'health', '-f', 'json', ...args], { io, sleep: () => stack.idle(), now });
  return { code, view: JSON.parse(io.text()) as HealthView };
}

describe('pneumo health on the local stack', () => {
  it('a fresh stack is healthy: nothing alarms, nothing waits, no model', async () => {
    const { code, view } = await health();
    expect(code).toBe(0);
    expect(view).toMatchObject({ alarms: [], deadLetters: 0, pending: { images: 0, oldestKey: null }, model: { versionName: null }, hold: null, lastRetrain: null, costTodayUsd: null });
  });

  it('PENDING backlog: an image waiting for a start longer than maxPendingMinutes alarms, with its age and key', async () => {
    await testStack.s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: 'inbox/waiting.jpeg', Body: fixtureImage('normal-1.jpeg') }));
    await stack.idle();
    const soon = await health();
    expect(soon.view.pending).toMatchObject({ images: 1, oldestKey: 'inbox/waiting.jpeg', ageMinutes: 0, overdueMinutes: 0 });
    expect(soon.view.alarms).toEqual([]);
    const later = await health([], () => Date.now() + 31 * 60_000);
    expect(later.code).toBe(1);
    expect(later.view.alarms.map((alarm) => alarm.name)).toEqual(['pending-too-long']);
    expect(later.view.alarms[0]?.reason).toMatch(/waited 3[01] min for a start \(> 30\)/);
    expect((await health(['--max-pending-minutes', '120'], () => Date.now() + 61 * 60_000)).view.alarms).toEqual([]);
  });

  it('a user\'s hold: health shows it and the images behind it, and their waiting is by design, not pending-too-long', async () => {
    const io = captureIo();
    expect(await runCli(['--data-dir', testStack.dataDir, 'model', 'stop', '--reason', 'scanner maintenance', '--wait'], { io, sleep: () => stack.idle() })).toBe(0);
    const { code, view } = await health([], () => Date.now() + 61 * 60_000);
    expect(view.hold).toMatchObject({ by: expect.stringMatching(/^local:/) as string, reason: 'scanner maintenance', until: null, pendingImages: 1 });
    expect(view.pending).toMatchObject({ images: 1, overdueMinutes: 0 });
    expect(view.alarms).toEqual([]);
    expect(code).toBe(0);
    const table = captureIo();
    await runCli(['--data-dir', testStack.dataDir, 'health'], { io: table, sleep: () => stack.idle() });
    expect(table.text()).toMatch(/serving hold\s+held by local:\S+ since \S+ \(scanner maintenance\), until `pneumo model start`; 1 image\(s\) wait PENDING/);
  });

  it('dead letter: an event classify cannot process lands in the queue after its retries and alarms', async () => {
    const invoker = stack.invokers.ClassifyLambdaFunction;
    if (!invoker) throw new Error('classify is wired to the bucket');
    await invoker.submit({ Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: stack.names.bucket } } }] });
    await stack.idle();
    const { code, view } = await health();
    expect(code).toBe(1);
    expect(view.deadLetters).toBe(1);
    expect(view.alarms).toEqual([{ name: 'dead-letters', reason: '1 dead letter(s) in the queue' }]);
  });

  it('failed retrain: the last retrain FAILED alarms, and the local bus carries the outcome', async () => {
    for (const label of ['NORMAL', 'PNEUMONIA']) {
      for (const file of (await readdir(join(SAMPLE, label))).sort().slice(0, 10)) {
        await testStack.s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: `training/${label}/${file}`, Body: await readFile(join(SAMPLE, label, file)) }));
      }
    }
    stack.emulator.injectFault({ operation: 'CreateProjectVersion', count: 1, error: 'ValidationException' });
    const execution = await stack.runStateMachine('TrainAndDeployStateMachine', { versionName: 'doomed' }, 'train-doomed');
    expect(execution).toMatchObject({ status: 'FAILED', states: expect.arrayContaining(['CreateModelVersion', 'RecordFailure']) as unknown });
    await stack.idle();
    const { view } = await health();
    expect(view.lastRetrain).toMatchObject({ versionName: 'doomed', status: 'FAILED' });
    expect(view.alarms.map((alarm) => alarm.name).sort()).toEqual(['dead-letters', 'train-and-deploy-failed']);
    const events = (await readFile(stack.names.eventsFile, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { 'detail-type': string; detail: Record<string, unknown> });
    expect(events.filter((event) => event['detail-type'] === 'Retrain Finished').map((event) => [event.detail.outcome, event.detail.versionName])).toEqual([['FAILED', 'doomed']]);
  });

  it('watch --events replays the local bus: results and the retrain outcome, one JSON event per line', async () => {
    const io = captureIo();
    const code = await runCli(['--data-dir', testStack.dataDir, 'watch', '--events', '--since', '2000-01-01T00:00:00Z', '--count', '2', '-f', 'json'], { io, sleep: () => stack.idle() });
    expect(code).toBe(0);
    const events = io.text().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { source: string; 'detail-type': string; detail: Record<string, unknown> });
    expect(events.map((event) => [event.source, event['detail-type'], event.detail.key])).toEqual([
      ['pneumo.results', 'Result Stored', 'inbox/waiting.jpeg'],
      ['pneumo.training', 'Retrain Finished', undefined],
    ]);
  });

  it('check on the local stack: the synthetic upload reaches its row and is removed; the AWS-only checks are skipped', async () => {
    const io = captureIo();
    const code = await runCli(['--data-dir', testStack.dataDir, 'check', '-f', 'json'], { io, sleep: () => stack.idle() });
    const results = JSON.parse(io.text()) as { name: string; status: string; detail: string }[];
    expect(code).toBe(0);
    expect(results[0]).toMatchObject({ name: 'upload → row', status: 'pass', detail: expect.stringMatching(/stored as PENDING \(no-model\)$/) as unknown });
    expect(results.slice(1).map((result) => result.status)).toEqual(['skip', 'skip', 'skip', 'skip']);
    const key = /^(inbox\/pneumo-check\/\S+\.png)/.exec(results[0]?.detail ?? '')?.[1] ?? '';
    const { Item } = await testStack.documents.send(new GetCommand({ TableName: stack.names.tables.ResultsTable ?? '', Key: { imageKey: key } }));
    expect(Item).toBeUndefined();
    await expect(testStack.s3.send(new HeadObjectCommand({ Bucket: stack.names.bucket, Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
  });
});
