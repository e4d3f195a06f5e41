import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { normalizeSequencer } from '../../src/lib/s3-event.js';
import { uploadLabelledFolder } from '../../src/local/demo.js';
import { nextSteps } from '../../src/local/next-steps.js';
import { notificationRecord } from '../../src/local/s3-notifications.js';
import type { LocalStack } from '../../src/local/stack.js';
import { fixtureImage, foreignHeader, pngHeader } from '../fixtures/images.js';
import { startTestStack } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

let testStack: TestStack;
let stack: LocalStack;
let s3: S3Client;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  testStack = await startTestStack(inject('packageDir'));
  ({ stack, s3, documents } = testStack);
});

afterAll(async () => {
  await testStack.stop();
});

async function upload(key: string, body: Uint8Array): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: key, Body: body }));
  await stack.idle();
}

async function row(key: string): Promise<Record<string, unknown> | undefined> {
  const table = stack.names.tables.ResultsTable ?? '';
  const { Item } = await documents.send(new GetCommand({ TableName: table, Key: { imageKey: key } }));
  return Item;
}

describe('local stack: S3 upload → classify handler → results table', () => {
  it('builds the deployed tables and bucket locally', () => {
    expect(stack.names.bucket).toBe('pneumo-ci-000000000000-eu-west-1');
    expect(Object.keys(stack.names.tables).sort()).toEqual(['RegistryTable', 'ResultsTable']);
    expect(stack.names.servingSchedule).toMatchObject({ stopEnabled: true, minInferenceUnits: 1 });
    expect(stack.names.reviewThreshold).toBe(80);
  });

  it('classifies an upload with an encoded key; with no model it waits as PENDING', async () => {
    await upload('inbox/ward 3/a+b.jpeg', fixtureImage('normal-1.jpeg'));
    expect(await row('inbox/ward 3/a+b.jpeg')).toMatchObject({ status: 'PENDING', reason: 'no-model', width: 224, height: 224 });
  });

  it('rejects a text file named .jpg by its content', async () => {
    await upload('inbox/notes.jpg', fixtureImage('text-named.jpg'));
    expect(await row('inbox/notes.jpg')).toMatchObject({ status: 'REJECTED', reason: 'unsupported-format' });
  });

  it('applies the template filters: upper-case suffixes yes, other suffixes and prefixes no', async () => {
    await upload('inbox/UPPER.JPG', fixtureImage('normal-2.jpeg'));
    await upload('inbox/mixed.Jpg', fixtureImage('normal-2.jpeg'));
    await upload('inbox/scan.gif', fixtureImage('normal-2.jpeg'));
    await upload('training/NORMAL/a.jpeg', fixtureImage('normal-2.jpeg'));
    expect(await row('inbox/UPPER.JPG')).toMatchObject({ status: 'PENDING' });
    expect(await row('inbox/mixed.Jpg')).toBeUndefined();
    expect(await row('inbox/scan.gif')).toBeUndefined();
    expect(await row('training/NORMAL/a.jpeg')).toBeUndefined();
  });

  it('lets a re-upload of the same key replace its result', async () => {
    await upload('inbox/again.png', fixtureImage('one-pixel.png'));
    expect(await row('inbox/again.png')).toMatchObject({ status: 'REJECTED', reason: 'dimensions-too-small' });
    await upload('inbox/again.png', fixtureImage('huge-5000px.png'));
    expect(await row('inbox/again.png')).toMatchObject({ status: 'REJECTED', reason: 'dimensions-too-large' });
  });

  it('uploads the bundled inbox sample with its known labels; each image gets a row', async () => {
    const uploaded = await uploadLabelledFolder(s3, stack.names.bucket, resolve(import.meta.dirname, '../../src/local/sample/inbox'), 'inbox/sample/', false);
    await stack.idle();
    expect(uploaded).toHaveLength(40);
    expect(new Set(uploaded.map((image) => image.label))).toEqual(new Set(['NORMAL', 'PNEUMONIA']));
    const rows = await Promise.all(uploaded.map((image) => row(image.key)));
    expect(rows.map((stored) => stored?.status)).toEqual(Array.from({ length: 40 }, () => 'PENDING'));
  });

  it.each([
    ['inbox/empty.jpg', 'empty-object', new Uint8Array()],
    ['inbox/cut.jpeg', 'corrupt-image', fixtureImage('truncated-header.jpeg')],
    ['inbox/animated.jpg', 'unsupported-format', foreignHeader('gif')],
    ['inbox/web.png', 'unsupported-format', foreignHeader('webp')],
    ['inbox/63px.png', 'dimensions-too-small', pngHeader(63, 200)],
    ['inbox/4097px.png', 'dimensions-too-large', pngHeader(200, 4097)],
    // A valid header followed by padding past Rekognition's 15 MB limit for S3 images.
    ['inbox/huge.png', 'object-too-large', Buffer.concat([pngHeader(512, 512), Buffer.alloc(15 * 1024 * 1024)])],
  ])('rejects %s through a real upload as %s', async (key, reason, body) => {
    await upload(key, body);
    expect(await row(key)).toMatchObject({ status: 'REJECTED', reason });
  });

  it('keeps the newest result when events come twice or out of order', async () => {
    const key = 'inbox/ordered.jpeg';
    await s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: key, Body: fixtureImage('normal-1.jpeg') }));
    await stack.idle();
    const invoker = stack.invokers.ClassifyLambdaFunction;
    if (!invoker) throw new Error('classify is wired to the bucket');
    const event = (sequencer: string): unknown => ({
      Records: [notificationRecord({ bucket: stack.names.bucket, key, eventName: 'ObjectCreated:Put', size: 6970, eTag: undefined, versionId: undefined }, sequencer, 'eu-west-1', 'test')],
    });
    const newest = 'FFFFFFFFFFFFFFFF00';
    void invoker.submit(event(newest));
    await stack.idle();
    void invoker.submit(event('0000000000000001'));
    void invoker.submit(event(newest));
    await stack.idle();
    expect(await row(key)).toMatchObject({ status: 'PENDING', sequencer: normalizeSequencer(newest) });
  });

  it('puts every stored result on the local bus as the deployed pipes would, without image bytes', async () => {
    const events = (await readFile(stack.names.eventsFile, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { source: string; 'detail-type': string; detail: Record<string, unknown> });
    const results = events.filter((event) => event.source === 'pneumo.results' && event['detail-type'] === 'Result Stored');
    expect(results.map((event) => event.detail)).toEqual(
      expect.arrayContaining([
        { key: 'inbox/ward 3/a+b.jpeg', status: 'PENDING', label: null, confidence: null, modelVersion: null, processedAt: expect.any(String) as unknown },
        { key: 'inbox/notes.jpg', status: 'REJECTED', label: null, confidence: null, modelVersion: null, processedAt: expect.any(String) as unknown },
      ]),
    );
    for (const event of results) expect(Object.keys(event.detail).sort()).toEqual(['confidence', 'key', 'label', 'modelVersion', 'processedAt', 'status']);
  });

  it('dead-letters nothing for these uploads', () => {
    expect(stack.invokers.ClassifyLambdaFunction?.stats).toMatchObject({ deadLettered: 0 });
  });

  const hasAwsCli = spawnSync('aws', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!hasAwsCli) console.warn('stack.test.ts: no `aws` CLI on this machine; the printed aws commands are not run');

  it.skipIf(!hasAwsCli)('the aws commands npm start prints work as printed, with only the variables it exports', async () => {
    const text = nextSteps(stack, 'eu-west-1');
    const exported = /^\s*export (.+)$/m.exec(text)?.[1] ?? '';
    // A shell with nothing but what the text tells the user to export (no profile, no config file).
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '' };
    for (const pair of exported.split(' ')) {
      const [name, value] = pair.split('=');
      if (name && value) env[name] = value;
    }
    const commands = text.replace(/\\\n\s*/g, '').split('\n').map((line) => line.trim()).filter((line) => line.startsWith('aws '));
    expect(commands).toHaveLength(4);
    const work = await mkdtemp(join(tmpdir(), 'pneumo-next-steps-'));
    try {
      await writeFile(join(work, 'my-xray.jpeg'), fixtureImage('normal-1.jpeg'));
      const run = promisify(execFile);
      await run('sh', ['-c', commands[0] ?? ''], { cwd: work, env });
      await stack.idle();
      const { stdout: item } = await run('sh', ['-c', `${commands[1] ?? ''} --output json`], { cwd: work, env });
      expect(JSON.parse(item)).toMatchObject({ Item: { imageKey: { S: 'inbox/my-xray.jpeg' }, status: { S: 'PENDING' } } });
      for (const command of commands.slice(2)) await run('sh', ['-c', `${command} --output json`], { cwd: work, env });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 60_000);
});
