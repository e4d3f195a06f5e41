import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { fixtureImage } from '../fixtures/images.js';
import type { FixtureImage } from '../fixtures/images.js';
import { startTestStack } from '../fixtures/local-stack.js';
import { freePort } from '../fixtures/ports.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * A stack stopped while notifications were still queued, restarted on the same folder: the journal re-delivers
 * them. The first stack's classify invoker is replaced so that an acknowledged upload's notification is never
 * settled, which is what a kill between the PUT's answer and the handler leaves behind.
 */

let ports: { s3: number; dynamodb: number; sfn: number; rekognition: number; events: number };
let running: TestStack[] = [];
const dataDirs: string[] = [];

beforeAll(async () => {
  ports = { s3: await freePort(), dynamodb: await freePort(), sfn: await freePort(), rekognition: await freePort(), events: await freePort() };
});

afterEach(async () => {
  for (const stack of running.splice(0)) await stack.stop({ keepData: true });
  for (const dir of dataDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function start(dataDir?: string): Promise<TestStack> {
  const stack = await startTestStack(inject('packageDir'), { ports, ...(dataDir ? { dataDir } : {}) });
  running.push(stack);
  if (!dataDirs.includes(stack.dataDir)) dataDirs.push(stack.dataDir);
  return stack;
}

/** Stops a stack as `npm start` does on Ctrl-C, keeping its folder for the restart. */
async function stop(stack: TestStack): Promise<void> {
  running = running.filter((other) => other !== stack);
  await stack.stop({ keepData: true });
}

async function put(stack: TestStack, key: string, fixture: FixtureImage = 'normal-1.jpeg'): Promise<void> {
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.stack.names.bucket, Key: key, Body: fixtureImage(fixture) }));
}

async function row(stack: TestStack, key: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await stack.documents.send(new GetCommand({ TableName: stack.stack.names.tables.ResultsTable ?? '', Key: { imageKey: key } }));
  return Item;
}

function classifyInvoker(stack: TestStack): NonNullable<TestStack['stack']['invokers'][string]> {
  const invoker = stack.stack.invokers.ClassifyLambdaFunction;
  if (!invoker) throw new Error('no classify invoker');
  return invoker;
}

const never = new Promise<boolean>(() => undefined);

describe('local stack restarted on the same folder', () => {
  it('re-delivers a notification the stopped process acknowledged but never handled', async () => {
    const first = await start();
    classifyInvoker(first).submit = () => never;
    await put(first, 'inbox/restart/queued.jpeg');
    await first.stack.idle();
    expect(await row(first, 'inbox/restart/queued.jpeg')).toBeUndefined();
    await stop(first);

    const second = await start(first.dataDir);
    await second.stack.idle();
    expect(await row(second, 'inbox/restart/queued.jpeg')).toMatchObject({ status: 'PENDING', reason: 'no-model' });
    // Everything settled: the journal is empty again.
    expect((await stat(join(first.dataDir, 'notifications.jsonl'))).size).toBe(0);
  });

  it('re-delivers a handled notification whose settling the stop cut off, and classify skips it as a duplicate', async () => {
    const first = await start();
    const invoker = classifyInvoker(first);
    const original = invoker.submit.bind(invoker);
    invoker.submit = (event) => {
      void original(event);
      return never;
    };
    // A final answer (a PENDING row would rightly be classified again by the same event).
    await put(first, 'inbox/restart/handled.jpg', 'text-named.jpg');
    await first.stack.idle();
    const before = await row(first, 'inbox/restart/handled.jpg');
    expect(before).toMatchObject({ status: 'REJECTED', reason: 'unsupported-format' });
    await stop(first);

    const second = await start(first.dataDir);
    await second.stack.idle();
    expect(classifyInvoker(second).stats.succeeded).toBe(1);
    expect(await row(second, 'inbox/restart/handled.jpg')).toEqual(before);
  });

  it('drops, with a warning, a journaled notification for a function the template no longer has', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pneumo-test-stack-'));
    await writeFile(join(dataDir, 'notifications.jsonl'), `${JSON.stringify({ op: 'queued', id: 1, functionLogicalId: 'RemovedLambdaFunction', event: { Records: [] } })}\n`);
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const stack = await start(dataDir);
    await stack.stack.idle();
    expect(warning).toHaveBeenCalledWith(expect.stringContaining('dropped a journaled notification for RemovedLambdaFunction'));
    warning.mockRestore();
    expect((await stat(join(dataDir, 'notifications.jsonl'))).size).toBe(0);
  });
});
